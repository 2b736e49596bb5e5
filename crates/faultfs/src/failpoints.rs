//! The one reader of `FAILPOINTS` (`failpoints` builds only): the variable is
//! parsed once per process, and each crate configures the `fail` points it
//! owns with [`configure_from_env`].

use std::collections::BTreeSet;
use std::env;
use std::sync::{Mutex, OnceLock, PoisonError};

use recorder_errors::prelude::*;

/// The variable, as the `fail` crate's own `FailScenario` reads it.
pub(crate) const VAR: &str = "FAILPOINTS";

/// One `name=actions` entry of `FAILPOINTS`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    name: String,
    actions: String,
}

impl Entry {
    /// The entry as written in `FAILPOINTS` (blanks around it trimmed).
    fn text(&self) -> String {
        format!("{}={}", self.name, self.actions)
    }
}

/// Why `FAILPOINTS` cannot be used: the offending entry and what is wrong.
#[derive(Debug, Clone)]
struct Malformed {
    entry: String,
    why: &'static str,
}

/// `FAILPOINTS`, parsed on first use.
static ENTRIES: OnceLock<Result<Vec<Entry>, Malformed>> = OnceLock::new();
/// Fail points already configured from `FAILPOINTS` in this process.
static CONFIGURED: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());

/// Configures, with `fail::cfg`, the `FAILPOINTS` entries whose name is one
/// of `names` (the fail points the caller owns: `faultfs::FAILPOINTS` for the
/// filesystem, the recorder's for the recorder). Entries naming other points
/// are left to their owners.
///
/// Contract:
/// - `FAILPOINTS` is `name=actions` entries separated by `;` (blanks around
///   names and actions and empty entries ignored), read and parsed once per
///   process; an unset variable configures nothing.
/// - Each fail point is configured at most once per process: the first call
///   that owns it applies its entry, later calls leave it as it is, so a
///   counted action (`3*off->1*panic`) counts over the whole process however
///   often recording starts.
/// - Errors are Usage errors `ERR_INVALID_FAULT_PLAN` whose message names the
///   entry and whose `clause` context holds it: an entry without `=` or with
///   an empty name (reported to every caller, whatever `names` holds), a
///   variable that is not UTF-8, and an action the `fail` crate rejects (only
///   to the owner of that point). A failed call configures nothing further
///   and the next call reports the same error.
pub fn configure_from_env(names: &[&str]) -> RecorderResult<()> {
    let entries = entries()?;
    let mut configured = CONFIGURED.lock().unwrap_or_else(PoisonError::into_inner);
    for entry in entries
        .iter()
        .filter(|entry| names.contains(&entry.name.as_str()))
    {
        if configured.contains(&entry.name) {
            continue;
        }
        fail::cfg(entry.name.as_str(), &entry.actions).map_err(|why| {
            invalid(
                &entry.text(),
                &format!("the fail crate rejects the action: {why}"),
            )
        })?;
        configured.insert(entry.name.clone());
    }
    Ok(())
}

/// Whether `FAILPOINTS` has an entry for `name` (false when it is malformed).
pub(crate) fn is_named(name: &str) -> bool {
    parsed()
        .as_ref()
        .is_ok_and(|entries| entries.iter().any(|entry| entry.name == name))
}

/// The parsed entries, or the error for the first malformed one.
fn entries() -> RecorderResult<&'static [Entry]> {
    match parsed() {
        Ok(entries) => Ok(entries),
        Err(malformed) => Err(invalid(&malformed.entry, malformed.why)),
    }
}

fn parsed() -> &'static Result<Vec<Entry>, Malformed> {
    ENTRIES.get_or_init(|| match env::var_os(VAR) {
        None => Ok(Vec::new()),
        Some(value) => match value.into_string() {
            Ok(text) => parse(&text),
            Err(value) => Err(Malformed {
                entry: value.to_string_lossy().into_owned(),
                why: "the variable is not valid UTF-8",
            }),
        },
    })
}

/// Parses `name=actions;name=actions`.
fn parse(text: &str) -> Result<Vec<Entry>, Malformed> {
    let mut entries = Vec::new();
    for entry in text
        .split(';')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
    {
        let malformed = |why| Malformed {
            entry: entry.to_string(),
            why,
        };
        let Some((name, actions)) = entry.split_once('=') else {
            return Err(malformed("expected name=actions"));
        };
        let name = name.trim();
        if name.is_empty() {
            return Err(malformed("the fail point name is empty"));
        }
        entries.push(Entry {
            name: name.to_string(),
            actions: actions.trim().to_string(),
        });
    }
    Ok(entries)
}

fn invalid(entry: &str, why: &str) -> RecorderError {
    usage!(ErrorCode::InvalidFaultPlan, "invalid {VAR} entry {entry:?}: {why}"; "clause" = entry)
}

#[cfg(test)]
mod tests {
    use super::{parse, Entry};

    fn entry(name: &str, actions: &str) -> Entry {
        Entry {
            name: name.to_string(),
            actions: actions.to_string(),
        }
    }

    #[test]
    fn entries_are_split_and_trimmed_and_empty_ones_skipped() {
        let entries = parse(" a::b = 1*return(EIO) ;; c=panic ; ").map_err(|m| m.entry);
        assert_eq!(
            entries,
            Ok(vec![entry("a::b", "1*return(EIO)"), entry("c", "panic")])
        );
        assert_eq!(parse("").map_err(|m| m.entry), Ok(vec![]));
    }

    #[test]
    fn an_entry_without_a_name_or_an_equals_sign_is_malformed() {
        for (text, bad) in [
            ("a=off;faultfs::mkdir", "faultfs::mkdir"),
            ("=panic", "=panic"),
        ] {
            match parse(text) {
                Err(malformed) => assert_eq!(malformed.entry, bad),
                Ok(entries) => panic!("{text:?} parsed as {entries:?}"),
            }
        }
    }
}
