//! Guardrails on the source tree: the errors audit (clean on the real tree,
//! catches a planted panic) and the one-way layers inside `crates/recorder`
//! (clean on the real tree, catches a planted upward import).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use codetracer_suite::repo_path;

fn run_audit(dirs: &[&std::path::Path]) -> std::process::Output {
    Command::new("bash")
        .arg(repo_path("scripts/errors-audit.sh"))
        .args(dirs)
        .output()
        .expect("bash runs the audit script")
}

#[test]
fn recorder_and_faultfs_sources_pass_the_audit() {
    let output = run_audit(&[]);
    assert!(
        output.status.success(),
        "errors-audit found:\n{}",
        String::from_utf8_lossy(&output.stdout)
    );
}

#[test]
fn a_planted_unwrap_fails_the_audit_with_its_location() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("writer.rs");
    fs::write(
        &file,
        "pub fn write(x: Option<u8>) -> u8 {\n    x.unwrap()\n}\n\n#[cfg(test)]\nmod tests {\n    #[test]\n    fn t() { Some(1).unwrap(); }\n}\n",
    )
    .unwrap();
    let output = run_audit(&[dir.path()]);
    assert!(!output.status.success());
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(report.contains("writer.rs:2:"), "{report}");
    assert!(
        !report.contains("writer.rs:8:"),
        "test code must be ignored: {report}"
    );
}

#[test]
fn printing_to_stdout_fails_the_audit() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("log.rs"),
        "pub fn f() { println!(\"hi\"); }\n",
    )
    .unwrap();
    assert!(!run_audit(&[dir.path()]).status.success());
}

// --- layers inside crates/recorder --------------------------------------------

/// Upward edges that exist today and are being removed elsewhere: (from, to, why).
/// An entry that no longer matches any import fails the check, so the list
/// only ever shrinks.
const KNOWN_UPWARD: &[(&str, &str, &str)] = &[];

/// The recorder's layers as `docs/design.md` draws them: (rank, module), read
/// from the table under "Layers inside crates/recorder".
fn documented_layers() -> Vec<(u32, String)> {
    let design = fs::read_to_string(repo_path("docs/design.md")).expect("docs/design.md");
    let section = design
        .split("\n## ")
        .find(|section| section.starts_with("Layers inside crates/recorder"))
        .expect("docs/design.md has a section \"Layers inside crates/recorder\"");
    let mut layers = Vec::new();
    for row in section.lines().filter(|line| line.starts_with('|')) {
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let Some(Ok(rank)) = cells.get(1).map(|cell| cell.parse::<u32>()) else {
            continue;
        };
        for module in cells[2].split(',') {
            layers.push((rank, module.trim().trim_matches('`').to_string()));
        }
    }
    assert!(!layers.is_empty(), "no layer rows found in docs/design.md");
    layers
}

/// One `crate::` reference: the file and line it is on, the top-level module
/// of the file and the one it names.
#[derive(Debug)]
struct Edge {
    file: String,
    line: usize,
    from: String,
    to: String,
}

/// Every reference from one top-level module of `src` to another: `crate::x`
/// paths (with `{a, b}` groups) and `super::` chains that climb to the root.
/// `lib.rs` is the crate root and belongs to no layer; comments are skipped.
fn crate_edges(src: &Path) -> Vec<Edge> {
    let mut files = Vec::new();
    collect_rs(src, &mut files);
    let mut edges = Vec::new();
    for file in files {
        let relative = file.strip_prefix(src).expect("under src").to_path_buf();
        let parts: Vec<String> = relative
            .iter()
            .map(|part| part.to_string_lossy().into_owned())
            .collect();
        if parts == ["lib.rs"] {
            continue;
        }
        // The module path of the file: `a/mod.rs` is `a`, `a/b.rs` is `a::b`.
        let mut module: Vec<String> = parts.clone();
        let last = module.pop().expect("a file name");
        if last != "mod.rs" {
            module.push(last.trim_end_matches(".rs").to_string());
        }
        let from = module[0].clone();
        let text = code_only(&fs::read_to_string(&file).expect("readable source"));
        // Inline modules (`mod tests { ... }`) are one level deeper each: the
        // brace levels their bodies opened at.
        let (mut level, mut inline) = (0usize, Vec::new());
        for (index, line) in text.lines().enumerate() {
            for to in referenced_modules(line, module.len() + inline.len()) {
                if to != from {
                    edges.push(Edge {
                        file: relative.display().to_string(),
                        line: index + 1,
                        from: from.clone(),
                        to,
                    });
                }
            }
            for (at, ch) in line.char_indices() {
                match ch {
                    '{' => {
                        level += 1;
                        let before: Vec<&str> = line[..at].split_whitespace().collect();
                        if before.len() >= 2 && before[before.len() - 2] == "mod" {
                            inline.push(level);
                        }
                    }
                    '}' => {
                        if inline.last() == Some(&level) {
                            inline.pop();
                        }
                        level = level.saturating_sub(1);
                    }
                    _ => {}
                }
            }
        }
    }
    edges
}

/// `source` with comments, string and character literals blanked out (line
/// breaks kept), so paths and braces are only counted in code.
fn code_only(source: &str) -> String {
    let chars: Vec<char> = source.chars().collect();
    let mut out = String::with_capacity(source.len());
    let blank = |ch: char| if ch == '\n' { '\n' } else { ' ' };
    let mut at = 0;
    while at < chars.len() {
        let ch = chars[at];
        let next = chars.get(at + 1).copied();
        if ch == '/' && next == Some('/') {
            while at < chars.len() && chars[at] != '\n' {
                at += 1;
            }
        } else if ch == '/' && next == Some('*') {
            at += 2;
            while at < chars.len() && !(chars[at] == '*' && chars.get(at + 1) == Some(&'/')) {
                out.push(blank(chars[at]));
                at += 1;
            }
            at += 2;
        } else if let Some(hashes) = raw_string_hashes(&chars[at..]) {
            at += hashes + 2;
            let closing: Vec<char> = std::iter::once('"')
                .chain(std::iter::repeat_n('#', hashes))
                .collect();
            while at < chars.len() && !chars[at..].starts_with(&closing) {
                out.push(blank(chars[at]));
                at += 1;
            }
            at += closing.len();
            out.push_str("\"\"");
        } else if ch == '"' {
            at += 1;
            while at < chars.len() && chars[at] != '"' {
                if chars[at] == '\\' {
                    at += 1;
                }
                if let Some(&inside) = chars.get(at) {
                    out.push(blank(inside));
                }
                at += 1;
            }
            at += 1;
            out.push_str("\"\"");
        } else if ch == '\''
            && next.is_some()
            && (chars.get(at + 2) == Some(&'\'') || next == Some('\\'))
        {
            // A character literal ('x' or an escape); a lifetime has no closing quote.
            at += 1;
            while at < chars.len() && chars[at] != '\'' {
                at += if chars[at] == '\\' { 2 } else { 1 };
            }
            at += 1;
            out.push_str("' '");
        } else {
            out.push(ch);
            at += 1;
        }
    }
    out
}

/// The number of `#` when `text` starts a raw string (`r"`, `r#"`, ...).
fn raw_string_hashes(text: &[char]) -> Option<usize> {
    let rest = text.strip_prefix(&['r'])?;
    let hashes = rest.iter().take_while(|ch| **ch == '#').count();
    (rest.get(hashes) == Some(&'"')).then_some(hashes)
}

fn collect_rs(dir: &Path, files: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .expect("readable directory")
        .map(|entry| entry.expect("directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect_rs(&path, files);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
}

/// The top-level modules a line of code names: after `crate::`, or after as
/// many `super::` as it takes to reach the root from a module `depth` deep.
fn referenced_modules(code: &str, depth: usize) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = code;
    while let Some(offset) = rest
        .find("crate::")
        .into_iter()
        .chain(rest.find("super::"))
        .min()
    {
        let preceded_by_ident = rest[..offset]
            .chars()
            .next_back()
            .is_some_and(|ch| ch.is_alphanumeric() || ch == '_');
        let mut path = &rest[offset..];
        let reaches_root = if let Some(after) = path.strip_prefix("crate::") {
            path = after;
            true
        } else {
            let mut climbs = 0;
            while let Some(after) = path.strip_prefix("super::") {
                path = after;
                climbs += 1;
            }
            climbs >= depth
        };
        if reaches_root && !preceded_by_ident {
            match path.strip_prefix('{') {
                Some(group) => found.extend(group_items(group).into_iter().map(leading_ident)),
                None => found.push(leading_ident(path)),
            }
        }
        rest = path;
    }
    found.retain(|name| !name.is_empty() && name != "self");
    found
}

/// The items of a `{a, b::c, d::{e, f}}` group (given without its `{`).
fn group_items(group: &str) -> Vec<&str> {
    let mut items = Vec::new();
    let (mut level, mut start) = (0, 0);
    for (index, ch) in group.char_indices() {
        match ch {
            '{' => level += 1,
            '}' if level == 0 => {
                items.push(&group[start..index]);
                return items;
            }
            '}' => level -= 1,
            ',' if level == 0 => {
                items.push(&group[start..index]);
                start = index + 1;
            }
            _ => {}
        }
    }
    items.push(&group[start..]);
    items
}

/// The identifier `text` starts with (after blanks).
fn leading_ident(text: &str) -> String {
    text.trim_start()
        .chars()
        .take_while(|ch| ch.is_alphanumeric() || *ch == '_')
        .collect()
}

/// Every edge that breaks the layering: towards a module of the same or a
/// higher rank, from or to a module missing from the layer list, plus
/// [`KNOWN_UPWARD`] entries that match nothing any more.
fn layer_violations(
    src: &Path,
    layers: &[(u32, String)],
    known: &[(&str, &str, &str)],
) -> Vec<String> {
    let rank = |module: &str| {
        layers
            .iter()
            .find(|(_, name)| name == module)
            .map(|(rank, _)| *rank)
    };
    let mut violations = Vec::new();
    let mut used_exceptions = vec![false; known.len()];
    let mut top_level: Vec<String> = fs::read_dir(src)
        .expect("readable src")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.is_dir() || path.extension().is_some_and(|ext| ext == "rs"))
        .map(|path| {
            path.file_stem()
                .expect("a name")
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| name != "lib")
        .collect();
    top_level.sort();
    for module in &top_level {
        if rank(module).is_none() {
            violations.push(format!(
                "module `{module}` is not in the layer list of docs/design.md"
            ));
        }
    }
    for edge in crate_edges(src) {
        let (Some(from), Some(to)) = (rank(&edge.from), rank(&edge.to)) else {
            if top_level.contains(&edge.to) || rank(&edge.to).is_some() {
                continue; // the unlisted module is reported above
            }
            violations.push(format!(
                "{}:{}: `{}` names `crate::{}`, which is not a layer (name modules, not root re-exports)",
                edge.file, edge.line, edge.from, edge.to
            ));
            continue;
        };
        if from > to {
            continue;
        }
        if let Some(index) = known
            .iter()
            .position(|(known_from, known_to, _)| *known_from == edge.from && *known_to == edge.to)
        {
            used_exceptions[index] = true;
            continue;
        }
        violations.push(format!(
            "{}:{}: `{}` (layer {from}) uses `{}` (layer {to}): a layer may only use lower layers",
            edge.file, edge.line, edge.from, edge.to
        ));
    }
    for ((from, to, why), used) in known.iter().zip(used_exceptions) {
        if !used {
            violations.push(format!(
                "the known upward edge {from} -> {to} ({why}) is gone: delete it from KNOWN_UPWARD in tests/guardrails.rs"
            ));
        }
    }
    violations
}

#[test]
fn recorder_modules_only_use_lower_layers() {
    let violations = layer_violations(
        &repo_path("crates/recorder/src"),
        &documented_layers(),
        KNOWN_UPWARD,
    );
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}

#[test]
fn a_planted_upward_import_fails_the_layer_check_with_its_location() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path();
    let layers: Vec<(u32, String)> = [(2, "session"), (1, "tracer"), (0, "policy")]
        .into_iter()
        .map(|(rank, name)| (rank, name.to_string()))
        .collect();
    fs::create_dir_all(src.join("tracer")).unwrap();
    fs::write(src.join("lib.rs"), "mod policy; mod session; mod tracer;\n").unwrap();
    fs::write(
        src.join("session.rs"),
        "use crate::{policy, tracer::Tracer};\n// crate::session is fine in a comment\n",
    )
    .unwrap();
    fs::write(
        src.join("tracer/mod.rs"),
        "pub mod events;\nuse crate::policy;\n",
    )
    .unwrap();
    fs::write(
        src.join("policy.rs"),
        "pub fn snapshot() { let _ = (\"crate::session\", r#\"crate::session {\"#, '{'); }\n\
         #[cfg(test)]\nmod tests {\n    use super::snapshot;\n}\n",
    )
    .unwrap();
    let clean = layer_violations(src, &layers, &[]);
    assert!(clean.is_empty(), "{clean:?}");

    fs::write(
        src.join("tracer/events.rs"),
        "use super::Tracer;\nfn f() { super::super::session::start(); }\n",
    )
    .unwrap();
    fs::write(
        src.join("policy.rs"),
        "use crate::{logging, tracer::{self, Tracer}};\npub fn snapshot() {}\n",
    )
    .unwrap();
    fs::write(src.join("extra.rs"), "\n").unwrap();
    let violations = layer_violations(src, &layers, &[("tracer", "session", "planted")]);
    assert_eq!(
        violations,
        [
            "module `extra` is not in the layer list of docs/design.md",
            "policy.rs:1: `policy` names `crate::logging`, which is not a layer (name modules, not root re-exports)",
            "policy.rs:1: `policy` (layer 0) uses `tracer` (layer 1): a layer may only use lower layers",
        ],
        "the known tracer -> session edge is excused, the others are not"
    );
    let violations = layer_violations(src, &layers, &[]);
    assert!(
        violations.contains(
            &"tracer/events.rs:2: `tracer` (layer 1) uses `session` (layer 2): a layer may only use lower layers"
                .to_string()
        ),
        "{violations:?}"
    );
}

#[test]
fn a_known_upward_edge_that_is_gone_fails_the_layer_check() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("writer.rs"), "\n").unwrap();
    fs::write(dir.path().join("encode.rs"), "use crate::writer;\n").unwrap();
    let layers = vec![(1, "encode".to_string()), (0, "writer".to_string())];
    let violations = layer_violations(dir.path(), &layers, &[("writer", "encode", "why")]);
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert!(violations[0].contains("writer -> encode"), "{violations:?}");
}
