//! The filter corpus (`tests/filters/` at the repository root): every case is
//! loaded through the real loader and filesystem, and each expected decision
//! is checked against the engine.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use faultfs::PhysicalFs;
use recorder_errors::{ErrorCode, ErrorKind};
use serde::Deserialize;

use super::engine::{FilterEngine, ScopeResolution};
use super::loader::load_chain;
use super::location::InterpreterPaths;
use super::model::{ExecDecision, IoStream, ValueAction, ValueKind};
use super::scope::ScopeContext;

const STDLIB: &str = "/usr/lib64/python3.12";
const SITE: &str = "/opt/venv/lib/python3.12/site-packages";

fn corpus_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/filters");
    dir.canonicalize()
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
}

fn interpreter_paths() -> InterpreterPaths {
    InterpreterPaths {
        stdlib: vec![STDLIB.into()],
        site_packages: vec![SITE.into()],
        recorder: vec![format!("{SITE}/codetracer_python_recorder").into()],
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    description: String,
    program_dir: Option<String>,
    #[serde(default)]
    env: Vec<String>,
    #[serde(default)]
    explicit: Vec<String>,
    filters: Vec<String>,
    io: Option<ExpectedIo>,
    scope: Vec<ExpectedScope>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectedIo {
    capture: bool,
    streams: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectedScope {
    file: String,
    module: Option<String>,
    qualname: String,
    exec: String,
    #[serde(default)]
    values: BTreeMap<String, String>,
    #[serde(rename = "was_0_3")]
    _was_0_3: Option<String>,
}

fn read_toml<T: for<'de> Deserialize<'de>>(path: &Path) -> T {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A corpus file name: under the case directory unless absolute, synthetic
/// (`<frozen ...>`) or under one of the interpreter placeholders.
fn scope_file(case_dir: &Path, file: &str) -> String {
    let file = file
        .replace("{stdlib}", STDLIB)
        .replace("{recorder}", &format!("{SITE}/codetracer_python_recorder"))
        .replace("{site}", SITE);
    if file.starts_with('/') || file.starts_with('<') {
        file
    } else {
        case_dir.join(file).display().to_string()
    }
}

fn parse_value_key(key: &str) -> (ValueKind, &str) {
    let (kind, name) = key.split_once(':').unwrap_or((key, ""));
    let kind = ValueKind::parse(kind).unwrap_or_else(|| panic!("value key {key:?}"));
    (kind, name)
}

fn action_name(action: ValueAction) -> &'static str {
    match action {
        ValueAction::Allow => "allow",
        ValueAction::Redact => "redact",
        ValueAction::Drop => "drop",
    }
}

/// Loads one case and returns the mismatches between expected and actual decisions.
fn check_case(case_dir: &Path) -> Vec<String> {
    let case: Case = read_toml(&case_dir.join("case.toml"));
    assert!(!case.description.is_empty());
    let join = |files: &[String]| -> OsString {
        let paths: Vec<String> = files
            .iter()
            .map(|file| case_dir.join(file).display().to_string())
            .collect();
        OsString::from(paths.join("::"))
    };
    // The CLI and the auto-start hook name the variable's filters first.
    let named: Vec<PathBuf> = (!case.env.is_empty())
        .then(|| join(&case.env))
        .into_iter()
        .chain(
            case.explicit
                .iter()
                .map(|spec| join(std::slice::from_ref(spec))),
        )
        .map(PathBuf::from)
        .collect();
    let program_dir = case.program_dir.as_ref().map(|dir| case_dir.join(dir));
    let chain = load_chain(&PhysicalFs::new(), program_dir.as_deref(), &named)
        .unwrap_or_else(|err| panic!("{}: {err}", case_dir.display()));
    let mut mismatches = Vec::new();
    let names: Vec<&str> = chain.sources.iter().map(|s| s.meta.name.as_str()).collect();
    if names != case.filters {
        mismatches.push(format!("filters {names:?}, expected {:?}", case.filters));
    }
    if let Some(io) = &case.io {
        let streams: Vec<IoStream> = io
            .streams
            .iter()
            .map(|s| IoStream::parse(s).unwrap_or_else(|| panic!("stream {s}")))
            .collect();
        let matches = chain
            .io
            .as_ref()
            .is_some_and(|chain_io| chain_io.capture == io.capture && chain_io.streams == streams);
        if !matches {
            mismatches.push(format!("io {:?}, expected {io:?}", chain.io));
        }
    }
    let engine = FilterEngine::new(chain, interpreter_paths());
    for expected in &case.scope {
        let file = scope_file(case_dir, &expected.file);
        let context = ScopeContext {
            file_path: &file,
            qualname: &expected.qualname,
            module_name: expected.module.as_deref(),
        };
        let label = format!("{} {}", expected.file, expected.qualname);
        let resolution = engine.resolve_scope(&context);
        let exec = match resolution.exec() {
            ExecDecision::Trace => "trace",
            ExecDecision::Skip => "skip",
        };
        if exec != expected.exec {
            mismatches.push(format!("{label}: exec {exec}, expected {}", expected.exec));
            continue;
        }
        let ScopeResolution::Trace(policy) = resolution else {
            assert!(
                expected.values.is_empty(),
                "{label}: values for a skipped scope"
            );
            continue;
        };
        for (key, want) in &expected.values {
            let action = if key == "ret" {
                policy.return_action()
            } else {
                let (kind, name) = parse_value_key(key);
                policy.action_for(kind, name)
            };
            if action_name(action) != want {
                mismatches.push(format!(
                    "{label}: {key} {}, expected {want}",
                    action_name(action)
                ));
            }
        }
    }
    mismatches
}

#[test]
fn every_corpus_case_gets_exactly_the_expected_decisions() {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(corpus_dir())
        .unwrap_or_else(|e| panic!("{e}"))
        .map(|entry| entry.unwrap_or_else(|e| panic!("{e}")).path())
        .filter(|path| path.join("case.toml").is_file())
        .collect();
    cases.sort();
    let names: Vec<String> = cases
        .iter()
        .filter_map(|path| path.file_name()?.to_str().map(str::to_owned))
        .collect();
    for required in [
        "skip_package",
        "skip_file_glob",
        "trace_one_function",
        "value_actions",
        "chaining_inherit",
        "project_0_3",
        "defect_catch_all_rule",
        "defect_secret_tokens",
        "defect_attr_fields",
        "defect_interpreter_paths",
    ] {
        assert!(
            names.iter().any(|name| name == required),
            "case {required} missing from {names:?}"
        );
    }
    let mut failures = Vec::new();
    for case in &cases {
        for mismatch in check_case(case) {
            failures.push(format!(
                "{}: {mismatch}",
                case.file_name()
                    .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "corpus mismatches:\n{}",
        failures.join("\n")
    );
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InvalidCases {
    case: Vec<InvalidCase>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InvalidCase {
    file: String,
    line: usize,
    key: Option<String>,
    message: String,
}

#[test]
fn every_malformed_filter_is_rejected_with_its_file_line_and_key() {
    let dir = corpus_dir().join("invalid");
    let cases: InvalidCases = read_toml(&dir.join("cases.toml"));
    let listed: Vec<&str> = cases.case.iter().map(|c| c.file.as_str()).collect();
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{e}")) {
        let name = entry.unwrap_or_else(|e| panic!("{e}")).file_name();
        let name = name.to_string_lossy();
        assert!(
            name == "cases.toml" || listed.contains(&name.as_ref()),
            "{name} has no expectation"
        );
    }
    for case in &cases.case {
        let path = dir.join(&case.file);
        let err = load_chain(&PhysicalFs::new(), None, std::slice::from_ref(&path))
            .err()
            .unwrap_or_else(|| panic!("{} loaded", case.file));
        assert_eq!(err.code(), ErrorCode::InvalidTraceFilter, "{err}");
        assert_eq!(err.kind(), ErrorKind::Usage);
        let shown = path.display().to_string();
        assert_eq!(err.context_value("path"), Some(shown.as_str()), "{err}");
        assert_eq!(
            err.context_value("line"),
            Some(case.line.to_string().as_str()),
            "{err}"
        );
        assert_eq!(err.context_value("key"), case.key.as_deref(), "{err}");
        assert!(
            err.message().contains(&case.message),
            "{}: {err}",
            case.file
        );
        assert!(
            err.message()
                .starts_with(&format!("{shown}:{}:", case.line)),
            "{err}"
        );
    }
}
