//! What is wrong with a scenario file: file, line, key and message.

use std::fmt;
use std::path::PathBuf;

use recorder_errors::{ErrorCode, RecorderError};

/// One defect in a scenario file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The scenario file.
    pub file: PathBuf,
    /// 1-based line of the offending key (or its nearest ancestor).
    pub line: usize,
    /// Dotted key path, e.g. `case[1].expect.exit_code`.
    pub key: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: {}: {}",
            self.file.display(),
            self.line,
            self.key,
            self.message
        )
    }
}

/// Every defect found in one or more scenario files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScenarioError {
    /// The defects, in file order.
    pub problems: Vec<Problem>,
}

impl ScenarioError {
    /// The error as a Usage `ERR_INVALID_SCENARIO` naming the first defect's
    /// file, line and key; the message lists every defect, one per line.
    pub fn to_recorder_error(&self) -> RecorderError {
        let message = self
            .problems
            .iter()
            .map(Problem::to_string)
            .collect::<Vec<_>>()
            .join("\n");
        let mut error = RecorderError::from_code(ErrorCode::InvalidScenario, message);
        if let Some(first) = self.problems.first() {
            error = error
                .with_context("file", first.file.display())
                .with_context("line", first.line)
                .with_context("key", &first.key);
        }
        error
    }
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for problem in &self.problems {
            writeln!(f, "{problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ScenarioError {}
