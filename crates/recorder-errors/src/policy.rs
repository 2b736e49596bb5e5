//! Policy vocabulary shared by the recorder and the harness.

use std::fmt;

/// What the recorder does after one of its own failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize),
    serde(rename_all = "lowercase")
)]
pub enum OnRecorderError {
    /// Detach, settle the output, then surface the error (CLI: exit with the kind's code).
    #[default]
    Abort,
    /// Detach, log one warning, let the program run on untraced.
    Disable,
}

impl OnRecorderError {
    /// Both values.
    pub const ALL: [OnRecorderError; 2] = [OnRecorderError::Abort, OnRecorderError::Disable];

    /// The stable name used by the API, the environment, the CLI and scenario files.
    pub fn as_str(self) -> &'static str {
        match self {
            OnRecorderError::Abort => "abort",
            OnRecorderError::Disable => "disable",
        }
    }

    /// Parses `abort` / `disable` (any case, surrounding blanks ignored).
    pub fn parse(text: &str) -> Option<OnRecorderError> {
        let text = text.trim();
        OnRecorderError::ALL
            .into_iter()
            .find(|value| value.as_str().eq_ignore_ascii_case(text))
    }
}

impl fmt::Display for OnRecorderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::OnRecorderError;

    #[test]
    fn values_parse_in_any_case_and_print_as_written() {
        for value in OnRecorderError::ALL {
            assert_eq!(OnRecorderError::parse(value.as_str()), Some(value));
            assert_eq!(value.to_string(), value.as_str());
        }
        assert_eq!(
            OnRecorderError::parse(" DISABLE\n"),
            Some(OnRecorderError::Disable)
        );
        assert_eq!(OnRecorderError::parse("ignore"), None);
        assert_eq!(OnRecorderError::default(), OnRecorderError::Abort);
    }
}
