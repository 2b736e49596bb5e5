//! Policy data: what the recorder does when something fails, and how it reports.

use std::path::PathBuf;

use recorder_errors::prelude::*;
use serde::Serialize;

use super::log_filter::LogFilter;

pub use recorder_errors::OnRecorderError;

/// The policy in force: one global snapshot, read by whoever needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecorderPolicy {
    /// Abort or disable after a recorder failure.
    pub on_recorder_error: OnRecorderError,
    /// Finishing without a trace (or without any event) is `ERR_TRACE_MISSING`.
    pub require_trace: bool,
    /// On failure keep the staged files, marked partial with the reason code.
    pub keep_partial_trace: bool,
    /// Log filter: a level or a `module=level,...` list.
    pub log_level: String,
    /// Append JSON log lines to this file instead of stderr.
    pub log_file: Option<PathBuf>,
    /// Write one JSON trailer line on stderr per error surfaced to Python.
    pub json_errors: bool,
    /// Record each forked child into its own directory `<dir>.fork-<pid>`.
    pub follow_fork: bool,
}

/// The log filter used when nobody set one.
pub const DEFAULT_LOG_LEVEL: &str = "warn";

impl Default for RecorderPolicy {
    fn default() -> Self {
        RecorderPolicy {
            on_recorder_error: OnRecorderError::Abort,
            require_trace: false,
            keep_partial_trace: false,
            log_level: DEFAULT_LOG_LEVEL.to_owned(),
            log_file: None,
            json_errors: false,
            follow_fork: false,
        }
    }
}

/// One policy setting, named the same way by the API, the environment and the CLI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyKey {
    /// `on_recorder_error`
    OnRecorderError,
    /// `require_trace`
    RequireTrace,
    /// `keep_partial_trace`
    KeepPartialTrace,
    /// `log_level`
    LogLevel,
    /// `log_file`
    LogFile,
    /// `json_errors`
    JsonErrors,
    /// `follow_fork`
    FollowFork,
}

const BOOLEAN_VALUES: &str = "1/0, true/false, yes/no, on/off (any case)";

impl PolicyKey {
    /// Every key, in documentation order.
    pub const ALL: &'static [PolicyKey] = &[
        PolicyKey::OnRecorderError,
        PolicyKey::RequireTrace,
        PolicyKey::KeepPartialTrace,
        PolicyKey::LogLevel,
        PolicyKey::LogFile,
        PolicyKey::JsonErrors,
        PolicyKey::FollowFork,
    ];

    /// The keyword accepted by `configure_policy`.
    pub fn name(self) -> &'static str {
        match self {
            PolicyKey::OnRecorderError => "on_recorder_error",
            PolicyKey::RequireTrace => "require_trace",
            PolicyKey::KeepPartialTrace => "keep_partial_trace",
            PolicyKey::LogLevel => "log_level",
            PolicyKey::LogFile => "log_file",
            PolicyKey::JsonErrors => "json_errors",
            PolicyKey::FollowFork => "follow_fork",
        }
    }

    /// The environment variable that sets this key.
    pub fn env_var(self) -> &'static str {
        match self {
            PolicyKey::OnRecorderError => "CODETRACER_ON_RECORDER_ERROR",
            PolicyKey::RequireTrace => "CODETRACER_REQUIRE_TRACE",
            PolicyKey::KeepPartialTrace => "CODETRACER_KEEP_PARTIAL_TRACE",
            PolicyKey::LogLevel => "CODETRACER_LOG_LEVEL",
            PolicyKey::LogFile => "CODETRACER_LOG_FILE",
            PolicyKey::JsonErrors => "CODETRACER_JSON_ERRORS",
            PolicyKey::FollowFork => "CODETRACER_FOLLOW_FORK",
        }
    }

    /// A human description of the values this key accepts.
    pub fn accepted(self) -> &'static str {
        match self {
            PolicyKey::OnRecorderError => "abort, disable",
            PolicyKey::RequireTrace
            | PolicyKey::KeepPartialTrace
            | PolicyKey::JsonErrors
            | PolicyKey::FollowFork => BOOLEAN_VALUES,
            PolicyKey::LogLevel => {
                "off, error, warn, info, debug, trace, or a `module=level,...` list"
            }
            PolicyKey::LogFile => "a file path (empty for stderr)",
        }
    }

    /// Looks a key up by its keyword name.
    pub fn parse(name: &str) -> Option<PolicyKey> {
        PolicyKey::ALL
            .iter()
            .copied()
            .find(|key| key.name() == name)
    }

    /// The error for a bad value of this key; `source` says where it came from
    /// (e.g. `environment variable CODETRACER_REQUIRE_TRACE`).
    pub fn invalid(self, source: &str, value: &str) -> RecorderError {
        usage!(
            ErrorCode::InvalidPolicyValue,
            "invalid value {:?} for {}: accepted values are {}",
            value, source, self.accepted();
            "key" = self.name(),
            "value" = value
        )
    }
}

/// Parses a policy boolean: `1/0`, `true/false`, `yes/no`, `on/off`, any case.
pub fn parse_bool(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// A partial policy: the settings one source (environment, API, CLI) gives.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicyUpdate {
    /// `on_recorder_error`, when set.
    pub on_recorder_error: Option<OnRecorderError>,
    /// `require_trace`, when set.
    pub require_trace: Option<bool>,
    /// `keep_partial_trace`, when set.
    pub keep_partial_trace: Option<bool>,
    /// `log_level`, when set (already validated).
    pub log_level: Option<String>,
    /// `log_file`, when set; `Some(None)` means stderr explicitly.
    pub log_file: Option<Option<PathBuf>>,
    /// `json_errors`, when set.
    pub json_errors: Option<bool>,
    /// `follow_fork`, when set.
    pub follow_fork: Option<bool>,
}

impl PolicyUpdate {
    /// Parses `text` as the value of `key` and sets it; `source` names the
    /// origin in the error (variable, keyword or flag).
    pub fn set_text(&mut self, key: PolicyKey, text: &str, source: &str) -> RecorderResult<()> {
        let bad = || key.invalid(source, text);
        match key {
            PolicyKey::OnRecorderError => {
                self.on_recorder_error = Some(OnRecorderError::parse(text).ok_or_else(bad)?);
            }
            PolicyKey::RequireTrace => self.require_trace = Some(parse_bool(text).ok_or_else(bad)?),
            PolicyKey::KeepPartialTrace => {
                self.keep_partial_trace = Some(parse_bool(text).ok_or_else(bad)?);
            }
            PolicyKey::JsonErrors => self.json_errors = Some(parse_bool(text).ok_or_else(bad)?),
            PolicyKey::FollowFork => self.follow_fork = Some(parse_bool(text).ok_or_else(bad)?),
            PolicyKey::LogLevel => {
                let spec = text.trim();
                LogFilter::parse(spec).map_err(|_| bad())?;
                self.log_level = Some(spec.to_owned());
            }
            PolicyKey::LogFile => {
                let path = text.trim();
                self.log_file = Some((!path.is_empty()).then(|| PathBuf::from(path)));
            }
        }
        Ok(())
    }

    /// Forgets the setting of `key`, so a lower layer (environment, default) shows through.
    pub fn clear(&mut self, key: PolicyKey) {
        match key {
            PolicyKey::OnRecorderError => self.on_recorder_error = None,
            PolicyKey::RequireTrace => self.require_trace = None,
            PolicyKey::KeepPartialTrace => self.keep_partial_trace = None,
            PolicyKey::LogLevel => self.log_level = None,
            PolicyKey::LogFile => self.log_file = None,
            PolicyKey::JsonErrors => self.json_errors = None,
            PolicyKey::FollowFork => self.follow_fork = None,
        }
    }

    /// Takes every setting `other` has, keeping ours elsewhere.
    pub fn merge(&mut self, other: &PolicyUpdate) {
        fn take<T: Clone>(mine: &mut Option<T>, theirs: &Option<T>) {
            if theirs.is_some() {
                mine.clone_from(theirs);
            }
        }
        take(&mut self.on_recorder_error, &other.on_recorder_error);
        take(&mut self.require_trace, &other.require_trace);
        take(&mut self.keep_partial_trace, &other.keep_partial_trace);
        take(&mut self.log_level, &other.log_level);
        take(&mut self.log_file, &other.log_file);
        take(&mut self.json_errors, &other.json_errors);
        take(&mut self.follow_fork, &other.follow_fork);
    }

    /// Writes our settings over `policy`.
    pub fn apply_to(&self, policy: &mut RecorderPolicy) {
        if let Some(value) = self.on_recorder_error {
            policy.on_recorder_error = value;
        }
        if let Some(value) = self.require_trace {
            policy.require_trace = value;
        }
        if let Some(value) = self.keep_partial_trace {
            policy.keep_partial_trace = value;
        }
        if let Some(value) = &self.log_level {
            policy.log_level.clone_from(value);
        }
        if let Some(value) = &self.log_file {
            policy.log_file.clone_from(value);
        }
        if let Some(value) = self.json_errors {
            policy.json_errors = value;
        }
        if let Some(value) = self.follow_fork {
            policy.follow_fork = value;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans_accept_every_documented_spelling_in_any_case() {
        for text in ["1", "true", "TRUE", "Yes", "on", " On "] {
            assert_eq!(parse_bool(text), Some(true), "{text}");
        }
        for text in ["0", "false", "False", "NO", "off"] {
            assert_eq!(parse_bool(text), Some(false), "{text}");
        }
        for text in ["", "2", "enabled", "y"] {
            assert_eq!(parse_bool(text), None, "{text}");
        }
    }

    #[test]
    fn a_bad_value_is_a_usage_error_naming_the_source_and_the_accepted_values() {
        let mut update = PolicyUpdate::default();
        let error = update
            .set_text(
                PolicyKey::RequireTrace,
                "maybe",
                "environment variable CODETRACER_REQUIRE_TRACE",
            )
            .err()
            .map(|e| (e.kind(), e.code(), e.to_string()));
        let (kind, code, text) = error.unwrap_or_else(|| panic!("accepted `maybe`"));
        assert_eq!(kind, ErrorKind::Usage);
        assert_eq!(code, ErrorCode::InvalidPolicyValue);
        assert!(text.contains("CODETRACER_REQUIRE_TRACE"), "{text}");
        assert!(text.contains("yes/no"), "{text}");
        assert_eq!(update, PolicyUpdate::default());
    }

    #[test]
    fn on_recorder_error_accepts_abort_and_disable_only() {
        let mut update = PolicyUpdate::default();
        assert!(update
            .set_text(PolicyKey::OnRecorderError, "DISABLE", "k")
            .is_ok());
        assert_eq!(update.on_recorder_error, Some(OnRecorderError::Disable));
        assert!(update
            .set_text(PolicyKey::OnRecorderError, "ignore", "k")
            .is_err());
    }

    #[test]
    fn log_level_is_validated_and_an_empty_log_file_means_stderr() {
        let mut update = PolicyUpdate::default();
        assert!(update
            .set_text(PolicyKey::LogLevel, "info,tracer=trace", "k")
            .is_ok());
        assert!(update.set_text(PolicyKey::LogLevel, "loud", "k").is_err());
        assert!(update.set_text(PolicyKey::LogFile, "", "k").is_ok());
        assert_eq!(update.log_file, Some(None));
    }

    #[test]
    fn later_layers_win_and_cleared_keys_show_the_lower_layer() {
        let mut policy = RecorderPolicy::default();
        let env = PolicyUpdate {
            require_trace: Some(true),
            json_errors: Some(true),
            ..PolicyUpdate::default()
        };
        let mut explicit = PolicyUpdate {
            json_errors: Some(false),
            ..PolicyUpdate::default()
        };
        let mut merged = env.clone();
        merged.merge(&explicit);
        merged.apply_to(&mut policy);
        assert!(policy.require_trace);
        assert!(!policy.json_errors);
        explicit.clear(PolicyKey::JsonErrors);
        let mut merged = env;
        merged.merge(&explicit);
        let mut policy = RecorderPolicy::default();
        merged.apply_to(&mut policy);
        assert!(policy.json_errors);
    }
}
