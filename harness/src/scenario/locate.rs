//! Finding the line of a key in a scenario file, for error messages.

use std::fmt;

use toml_edit::{ImDocument, Item};

/// One step of a key path: a table key or an array index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    /// A key in a table.
    Key(String),
    /// An element of an array or array of tables.
    Index(usize),
}

/// A path to a value in a scenario file, e.g. `case[1].expect.exit_code`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyPath(pub Vec<Seg>);

impl KeyPath {
    /// A path from dotted keys (no indices).
    pub fn keys(keys: &[&str]) -> KeyPath {
        KeyPath(
            keys.iter()
                .map(|key| Seg::Key((*key).to_string()))
                .collect(),
        )
    }

    /// This path extended by a key.
    pub fn key(&self, key: &str) -> KeyPath {
        let mut segs = self.0.clone();
        segs.push(Seg::Key(key.to_string()));
        KeyPath(segs)
    }

    /// This path extended by an index.
    pub fn index(&self, index: usize) -> KeyPath {
        let mut segs = self.0.clone();
        segs.push(Seg::Index(index));
        KeyPath(segs)
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (position, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Key(key) if position == 0 => f.write_str(key)?,
                Seg::Key(key) => write!(f, ".{key}")?,
                Seg::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

/// 1-based line of byte `offset` in `text`.
pub fn line_of_offset(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// A parsed scenario file that answers "on which line is this key?".
#[derive(Debug)]
pub struct Locator {
    doc: Option<ImDocument<String>>,
}

impl Locator {
    /// Parses `text`; an unparsable text locates everything on line 1.
    pub fn new(text: &str) -> Locator {
        Locator {
            doc: ImDocument::parse(text.to_string()).ok(),
        }
    }

    /// Walks `path` as far as it exists: how many segments were found and the
    /// byte offset of the deepest one that has a position.
    fn walk(&self, path: &KeyPath) -> (usize, Option<usize>) {
        let Some(doc) = &self.doc else {
            return (0, None);
        };
        let mut item: &Item = doc.as_item();
        let mut best = None;
        let mut found = 0;
        for seg in &path.0 {
            let (span, next) = match seg {
                Seg::Key(key) => match item.as_table_like().and_then(|t| t.get_key_value(key)) {
                    Some((found_key, next)) => (found_key.span().or_else(|| next.span()), next),
                    None => break,
                },
                Seg::Index(index) => match item.get(*index) {
                    Some(next) => (next.span(), next),
                    None => break,
                },
            };
            if let Some(span) = span {
                best = Some(span.start);
            }
            found += 1;
            item = next;
        }
        (found, best)
    }

    /// The path of the key or value written at byte `offset`, if any.
    pub fn path_at(&self, offset: usize) -> Option<KeyPath> {
        let doc = self.doc.as_ref()?;
        let mut segs = Vec::new();
        find_offset(doc.as_item(), offset, &mut segs).then_some(KeyPath(segs))
    }

    /// Whether every segment of `path` is written in the file.
    pub fn exists(&self, path: &KeyPath) -> bool {
        self.walk(path).0 == path.0.len()
    }

    /// The line where `path` (or its nearest present ancestor) is written; 1
    /// when nothing of it can be found.
    pub fn line(&self, path: &KeyPath) -> usize {
        match (&self.doc, self.walk(path).1) {
            (Some(doc), Some(offset)) => line_of_offset(doc.raw(), offset),
            _ => 1,
        }
    }
}

/// Depth-first search for the key or leaf value whose span holds `offset`;
/// leaves the path to it in `segs`.
fn find_offset(item: &Item, offset: usize, segs: &mut Vec<Seg>) -> bool {
    let holds = |span: Option<std::ops::Range<usize>>| span.is_some_and(|s| s.contains(&offset));
    if let Some(table) = item.as_table_like() {
        for (name, _) in table.iter() {
            let Some((key, child)) = table.get_key_value(name) else {
                continue;
            };
            segs.push(Seg::Key(name.to_string()));
            if holds(key.span()) || find_offset(child, offset, segs) {
                return true;
            }
            segs.pop();
        }
        return false;
    }
    if let Some(tables) = item.as_array_of_tables() {
        for (index, table) in tables.iter().enumerate() {
            segs.push(Seg::Index(index));
            if find_offset(&Item::Table(table.clone()), offset, segs) {
                return true;
            }
            segs.pop();
        }
        return false;
    }
    if let Some(array) = item.as_array() {
        for (index, value) in array.iter().enumerate() {
            segs.push(Seg::Index(index));
            if find_offset(&Item::Value(value.clone()), offset, segs) {
                return true;
            }
            segs.pop();
        }
    }
    holds(item.span())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "description = \"x\"\n\n[program]\nsource = \"print(1)\"\n\n[[case]]\nname = \"a\"\n\n[[case]]\nname = \"b\"\nexpect.exit_code = 3\n";

    #[test]
    fn finds_top_level_and_nested_keys() {
        let locator = Locator::new(TEXT);
        assert_eq!(locator.line(&KeyPath::keys(&["description"])), 1);
        assert_eq!(locator.line(&KeyPath::keys(&["program", "source"])), 4);
    }

    #[test]
    fn finds_keys_inside_the_nth_case() {
        let locator = Locator::new(TEXT);
        let case1 = KeyPath::keys(&["case"]).index(1);
        assert_eq!(locator.line(&case1.key("name")), 10);
        assert_eq!(locator.line(&case1.key("expect").key("exit_code")), 11);
        assert!(locator.exists(&case1.key("expect").key("exit_code")));
    }

    #[test]
    fn a_missing_key_points_at_its_nearest_ancestor() {
        let locator = Locator::new(TEXT);
        let path = KeyPath::keys(&["case"]).index(0).key("expect");
        assert_eq!(locator.line(&path), 6);
        assert!(!locator.exists(&path));
    }

    #[test]
    fn names_the_key_written_at_an_offset() {
        let locator = Locator::new(TEXT);
        let offset = TEXT.find("exit_code").unwrap_or_default();
        let path = locator.path_at(offset).map(|p| p.to_string());
        assert_eq!(path.as_deref(), Some("case[1].expect.exit_code"));
        let offset = TEXT.find("print(1)").unwrap_or_default();
        let path = locator.path_at(offset).map(|p| p.to_string());
        assert_eq!(path.as_deref(), Some("program.source"));
    }

    #[test]
    fn displays_as_dotted_path_with_indices() {
        let path = KeyPath::keys(&["case"])
            .index(2)
            .key("expect")
            .key("stderr")
            .index(0);
        assert_eq!(path.to_string(), "case[2].expect.stderr[0]");
    }
}
