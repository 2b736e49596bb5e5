//! Reading the policy from `CODETRACER_*` environment variables.

use recorder_errors::prelude::*;

use super::model::{PolicyKey, PolicyUpdate};

/// Reads every policy variable through `lookup` (the process environment in
/// production). Returns the settings of the good variables, and the error of
/// the first bad one, if any: a bad value never hides the others. A variable
/// that is empty (or only blanks) is the same as an unset one, whatever its
/// key: `CODETRACER_REQUIRE_TRACE=` and `CODETRACER_LOG_FILE=` both leave the
/// default.
pub fn read_with(lookup: impl Fn(&str) -> Option<String>) -> (PolicyUpdate, Option<RecorderError>) {
    let mut update = PolicyUpdate::default();
    let mut first_error = None;
    for &key in PolicyKey::ALL {
        let Some(text) = lookup(key.env_var()).filter(|text| !text.trim().is_empty()) else {
            continue;
        };
        let source = format!("environment variable {}", key.env_var());
        if let Err(error) = update.set_text(key, &text, &source) {
            let error = error.with_context("variable", key.env_var());
            first_error.get_or_insert(error);
        }
    }
    (update, first_error)
}

/// Reads the policy variables of the process environment. A variable that is
/// not valid Unicode counts as a bad value.
pub fn read_process_env() -> (PolicyUpdate, Option<RecorderError>) {
    read_with(|name| std::env::var_os(name).map(|value| value.to_string_lossy().into_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::model::OnRecorderError;
    use std::collections::HashMap;

    fn read(vars: &[(&str, &str)]) -> (PolicyUpdate, Option<RecorderError>) {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        read_with(|name| vars.get(name).cloned())
    }

    #[test]
    fn unset_variables_leave_every_key_unset() {
        let (update, error) = read(&[]);
        assert_eq!(update, PolicyUpdate::default());
        assert!(error.is_none());
    }

    #[test]
    fn an_empty_variable_is_the_same_as_an_unset_one_for_every_key() {
        for &key in PolicyKey::ALL {
            for empty in ["", "  "] {
                let (update, error) = read(&[(key.env_var(), empty)]);
                assert!(error.is_none(), "{}={empty:?}: {error:?}", key.env_var());
                assert_eq!(update, PolicyUpdate::default(), "{}", key.env_var());
            }
        }
    }

    #[test]
    fn every_variable_is_read() {
        let (update, error) = read(&[
            ("CODETRACER_ON_RECORDER_ERROR", "disable"),
            ("CODETRACER_REQUIRE_TRACE", "yes"),
            ("CODETRACER_KEEP_PARTIAL_TRACE", "ON"),
            ("CODETRACER_LOG_LEVEL", "debug"),
            ("CODETRACER_LOG_FILE", "/tmp/x.log"),
            ("CODETRACER_JSON_ERRORS", "1"),
        ]);
        assert!(error.is_none());
        assert_eq!(update.on_recorder_error, Some(OnRecorderError::Disable));
        assert_eq!(update.require_trace, Some(true));
        assert_eq!(update.keep_partial_trace, Some(true));
        assert_eq!(update.log_level.as_deref(), Some("debug"));
        assert_eq!(update.log_file, Some(Some("/tmp/x.log".into())));
        assert_eq!(update.json_errors, Some(true));
    }

    #[test]
    fn a_bad_variable_is_reported_by_name_and_the_good_ones_still_apply() {
        let (update, error) = read(&[
            ("CODETRACER_JSON_ERRORS", "sometimes"),
            ("CODETRACER_REQUIRE_TRACE", "true"),
        ]);
        let error = error.map(|e| {
            (
                e.code(),
                e.context_value("variable").map(str::to_owned),
                e.to_string(),
            )
        });
        let Some((code, variable, text)) = error else {
            panic!("no error for a bad boolean");
        };
        assert_eq!(code, ErrorCode::InvalidPolicyValue);
        assert_eq!(variable.as_deref(), Some("CODETRACER_JSON_ERRORS"));
        assert!(text.contains("sometimes"), "{text}");
        assert_eq!(update.require_trace, Some(true));
        assert_eq!(update.json_errors, None);
    }
}
