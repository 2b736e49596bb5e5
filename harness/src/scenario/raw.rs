//! The scenario file as written: serde structures that reject unknown keys,
//! and the key-by-key overlay of a `[[case]]` on the file's defaults.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::real::RawReal;

/// A whole scenario file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFile {
    pub description: Option<String>,
    #[serde(default)]
    pub program: RawProgram,
    #[serde(default)]
    pub policy: RawPolicy,
    #[serde(default)]
    pub faults: RawFaults,
    #[serde(default)]
    pub expect: RawExpect,
    #[serde(default)]
    pub sweep: RawSweep,
    #[serde(default, rename = "case")]
    pub cases: Vec<RawCase>,
}

/// One `[[case]]`: a name plus overrides of the file-level tables.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCase {
    pub name: Option<String>,
    pub description: Option<String>,
    #[serde(default)]
    pub program: RawProgram,
    #[serde(default)]
    pub policy: RawPolicy,
    #[serde(default)]
    pub faults: RawFaults,
    #[serde(default)]
    pub expect: RawExpect,
    #[serde(default)]
    pub sweep: RawSweep,
}

/// `[program]`: what runs and how it is launched.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProgram {
    pub source: Option<String>,
    pub script: Option<String>,
    pub args: Option<Vec<String>>,
    pub stdin: Option<String>,
    pub launch: Option<String>,
    pub format: Option<String>,
    pub policy_via: Option<String>,
    pub timeout_ms: Option<u64>,
    pub env: Option<BTreeMap<String, String>>,
}

/// `[policy]`: recorder policy keys.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPolicy {
    pub on_recorder_error: Option<String>,
    pub require_trace: Option<bool>,
    pub keep_partial_trace: Option<bool>,
    pub log_level: Option<String>,
    pub log_file: Option<String>,
    pub json_errors: Option<bool>,
    pub follow_fork: Option<bool>,
}

/// `[faults]`: fail points, a faultfs plan, a signal, a real kernel fault and a kill.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFaults {
    pub failpoints: Option<BTreeMap<String, String>>,
    pub faultfs_plan: Option<String>,
    pub signal: Option<RawSignal>,
    pub real: Option<RawReal>,
    pub kill: Option<String>,
}

/// `signal = { send = "SIGINT", after_ms = N }` or `{ send, at_failpoint, delay_ms }`.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSignal {
    pub send: Option<String>,
    pub after_ms: Option<u64>,
    pub at_failpoint: Option<String>,
    pub delay_ms: Option<u64>,
}

/// A value that is one item or a list of alternatives.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany<T> {
    One(T),
    Many(Vec<T>),
}

impl<T> OneOrMany<T> {
    /// The alternatives as a list.
    pub fn into_vec(self) -> Vec<T> {
        match self {
            OneOrMany::One(item) => vec![item],
            OneOrMany::Many(items) => items,
        }
    }
}

/// `exit_code = 10`, `exit_code = [130, 1]` or `exit_code = "same_as_untraced"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum RawExitCode {
    Codes(OneOrMany<i32>),
    Keyword(String),
}

/// `[expect]`: what the run must look like.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawExpect {
    pub exit_code: Option<RawExitCode>,
    pub exception: Option<String>,
    pub error_code: Option<OneOrMany<String>>,
    pub trailers: Option<usize>,
    pub stdout: Option<String>,
    pub stdout_equals: Option<String>,
    pub program_stderr: Option<String>,
    pub stderr: Option<Vec<String>>,
    pub stderr_not: Option<Vec<String>>,
    pub trace: Option<OneOrMany<String>>,
    pub partial_reason: Option<String>,
    pub max_duration_ms: Option<u64>,
    pub not_reached: Option<Vec<String>>,
    pub min_events: Option<usize>,
    pub recover: Option<bool>,
}

/// `[sweep]`: how `harness sweep` injects its faults.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSweep {
    pub errno: Option<String>,
    pub in_tests: Option<bool>,
}

/// Field-wise overlay: a value set in `over` wins over the one in `self`.
pub trait Overlay {
    /// Returns `self` with every field that `over` sets replaced.
    fn overlay(self, over: Self) -> Self;
}

macro_rules! overlay_fields {
    ($ty:ty { $($field:ident),* $(,)? }) => {
        impl Overlay for $ty {
            fn overlay(self, over: Self) -> Self {
                Self { $($field: over.$field.or(self.$field)),* }
            }
        }
    };
}

overlay_fields!(RawProgram {
    source,
    script,
    args,
    stdin,
    launch,
    format,
    policy_via,
    timeout_ms,
    env
});
overlay_fields!(RawPolicy {
    on_recorder_error,
    require_trace,
    keep_partial_trace,
    log_level,
    log_file,
    json_errors,
    follow_fork
});
overlay_fields!(RawFaults {
    failpoints,
    faultfs_plan,
    signal,
    real,
    kill
});
overlay_fields!(RawSweep { errno, in_tests });
overlay_fields!(RawExpect {
    exit_code,
    exception,
    error_code,
    trailers,
    stdout,
    stdout_equals,
    program_stderr,
    stderr,
    stderr_not,
    trace,
    partial_reason,
    max_duration_ms,
    not_reached,
    min_events,
    recover,
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_case_value_replaces_the_file_value_and_unset_keys_are_inherited() {
        let base = RawProgram {
            launch: Some("cli".into()),
            timeout_ms: Some(1000),
            ..RawProgram::default()
        };
        let over = RawProgram {
            launch: Some("api".into()),
            ..RawProgram::default()
        };
        let merged = base.overlay(over);
        assert_eq!(merged.launch.as_deref(), Some("api"));
        assert_eq!(merged.timeout_ms, Some(1000));
    }
}
