//! Path globs for deny rules: `*` and `?` stay inside one path component,
//! `**` crosses directories (`**/` matches zero or more whole directories).

/// A compiled path glob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Glob {
    pattern: Vec<char>,
}

impl Glob {
    /// The glob for `pattern` (every string is a valid pattern).
    pub(crate) fn new(pattern: &str) -> Glob {
        Glob {
            pattern: pattern.chars().collect(),
        }
    }

    /// Whether the whole of `path` matches.
    pub(crate) fn matches(&self, path: &str) -> bool {
        let path: Vec<char> = path.chars().collect();
        matches(&self.pattern, &path)
    }
}

fn matches(pattern: &[char], text: &[char]) -> bool {
    match pattern {
        [] => text.is_empty(),
        ['*', '*', '/', rest @ ..] => {
            matches(rest, text)
                || text
                    .iter()
                    .enumerate()
                    .any(|(i, &c)| c == '/' && matches(rest, &text[i + 1..]))
        }
        ['*', '*', rest @ ..] => (0..=text.len()).any(|i| matches(rest, &text[i..])),
        ['*', rest @ ..] => {
            let component = text.iter().position(|&c| c == '/').unwrap_or(text.len());
            (0..=component).any(|i| matches(rest, &text[i..]))
        }
        ['?', rest @ ..] => {
            matches!(text.first(), Some(&c) if c != '/') && matches(rest, &text[1..])
        }
        [literal, rest @ ..] => text.first() == Some(literal) && matches(rest, &text[1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::Glob;

    #[test]
    fn star_stays_in_one_component() {
        let glob = Glob::new("/out/trace*.json");
        assert!(glob.matches("/out/trace.json"));
        assert!(glob.matches("/out/trace_paths.json"));
        assert!(!glob.matches("/out/sub/trace.json"));
        assert!(!glob.matches("/out/trace.json.bak"));
        assert!(Glob::new("/o?t/*").matches("/out/x"));
        assert!(!Glob::new("/o?t/*").matches("/o/t/x"));
    }

    #[test]
    fn double_star_crosses_directories() {
        let glob = Glob::new("**/trace*.json");
        assert!(glob.matches("trace.json"));
        assert!(glob.matches("/tmp/a/.codetracer-staging-1-0/trace_metadata.json"));
        assert!(!glob.matches("/tmp/a/trace.bin"));
        assert!(Glob::new("/tmp/**").matches("/tmp/a/b/c"));
        assert!(Glob::new("/tmp/**/c").matches("/tmp/c"));
        assert!(!Glob::new("/tmp/**/c").matches("/tmpc"));
        assert!(Glob::new("**").matches("/anything/at/all"));
    }
}
