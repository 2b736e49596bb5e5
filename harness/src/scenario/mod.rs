//! Scenario files: TOML format, validation and discovery.
//!
//! A file holds `[program]`, `[policy]`, `[faults]`, `[expect]` and `[sweep]`
//! tables and optionally `[[case]]` entries that override them key by key;
//! `scenarios/README.md` documents every key.

mod locate;
mod model;
mod problem;
mod raw;
mod real;
mod validate;

use std::fs;
use std::path::{Path, PathBuf};

pub use locate::{KeyPath, Locator};
pub use model::{
    Case, ExitExpect, Expect, Faults, Launch, Policy, PolicyVia, Program, ProgramSource,
    ScenarioFile, SignalSpec, SignalTrigger, StdoutExpect, SweepSpec, TraceState,
};
pub use problem::{Problem, ScenarioError};
pub use real::{EioOp, RealFault};
pub use validate::KNOWN_FAILPOINTS;

/// Parses and validates scenario text read from `file`.
pub fn parse(file: &Path, text: &str) -> Result<ScenarioFile, ScenarioError> {
    match toml::from_str::<raw::RawFile>(text) {
        Ok(raw) => {
            validate::validate(file, text, raw).map_err(|problems| ScenarioError { problems })
        }
        Err(error) => Err(ScenarioError {
            problems: vec![syntax_problem(file, text, &error)],
        }),
    }
}

/// Reads, parses and validates one scenario file.
pub fn load(file: &Path) -> Result<ScenarioFile, ScenarioError> {
    match fs::read_to_string(file) {
        Ok(text) => parse(file, &text),
        Err(error) => Err(ScenarioError {
            problems: vec![Problem {
                file: file.to_path_buf(),
                line: 1,
                key: "(file)".to_string(),
                message: format!("cannot read: {error}"),
            }],
        }),
    }
}

/// Expands files and directories (their `*.toml` files, sorted, not recursive)
/// into scenario file paths.
pub fn discover(inputs: &[PathBuf]) -> Result<Vec<PathBuf>, ScenarioError> {
    let mut files = Vec::new();
    let mut problems = Vec::new();
    for input in inputs {
        if input.is_dir() {
            match fs::read_dir(input) {
                Ok(entries) => {
                    let mut found: Vec<PathBuf> = entries
                        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
                        .filter(|path| {
                            path.is_file() && path.extension().is_some_and(|ext| ext == "toml")
                        })
                        .collect();
                    found.sort();
                    files.extend(found);
                }
                Err(error) => problems.push(unreadable(input, &error)),
            }
        } else if input.is_file() {
            files.push(input.clone());
        } else {
            problems.push(Problem {
                file: input.clone(),
                line: 1,
                key: "(file)".to_string(),
                message: "no such file or directory".to_string(),
            });
        }
    }
    if problems.is_empty() {
        Ok(files)
    } else {
        Err(ScenarioError { problems })
    }
}

/// Discovers and loads every scenario under `inputs`; all problems of all
/// files are reported together, before anything runs.
pub fn load_all(inputs: &[PathBuf]) -> Result<Vec<ScenarioFile>, ScenarioError> {
    let files = discover(inputs)?;
    let mut loaded = Vec::new();
    let mut problems = Vec::new();
    for file in files {
        match load(&file) {
            Ok(scenario) => loaded.push(scenario),
            Err(error) => problems.extend(error.problems),
        }
    }
    if problems.is_empty() {
        Ok(loaded)
    } else {
        Err(ScenarioError { problems })
    }
}

fn unreadable(path: &Path, error: &std::io::Error) -> Problem {
    Problem {
        file: path.to_path_buf(),
        line: 1,
        key: "(file)".to_string(),
        message: format!("cannot read: {error}"),
    }
}

/// A TOML or serde error as a problem: the line from the error's span, the
/// key written there, and the message without toml's source excerpt.
fn syntax_problem(file: &Path, text: &str, error: &toml::de::Error) -> Problem {
    let offset = error.span().map(|span| span.start);
    let line = offset.map_or(1, |offset| locate::line_of_offset(text, offset));
    let key = offset
        .and_then(|offset| Locator::new(text).path_at(offset))
        .map_or_else(|| "(syntax)".to_string(), |path| path.to_string());
    Problem {
        file: file.to_path_buf(),
        line,
        key,
        message: error.message().trim().to_string(),
    }
}

#[cfg(test)]
mod tests;
