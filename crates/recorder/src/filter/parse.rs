//! One filter file's text to its rules: TOML decoding (unknown keys are
//! errors) and validation, every error naming the file, line, column and key.

use std::fmt::Display;
use std::ops::Range;
use std::sync::Arc;

use recorder_errors::prelude::*;
use serde::Deserialize;
use toml::Spanned;

use super::model::{
    ExecDecision, FilterMeta, IoConfig, IoStream, ScopeRule, ValueAction, ValuePattern,
};
use super::selector::{ScopeSelector, ValueSelector};

/// A scope default that is either set or taken from the previous filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting<T> {
    /// `inherit`: keep the value of the filters before this one.
    Inherit,
    /// An explicit value.
    Value(T),
}

/// One parsed filter file.
#[derive(Debug, Clone)]
pub struct FilterFile {
    /// `[meta]`.
    pub meta: FilterMeta,
    /// `scope.default_exec`.
    pub default_exec: Setting<ExecDecision>,
    /// `scope.default_value_action`.
    pub default_value_action: Setting<ValueAction>,
    /// `[[scope.rules]]`, each marked with the file's chain index.
    pub rules: Vec<ScopeRule>,
    /// `[io]`, if present.
    pub io: Option<IoConfig>,
}

/// Parses the filter `text` read from `origin` (a path, for messages), which
/// is filter number `index` of its chain: the first one cannot `inherit`.
pub fn parse_filter(text: &str, origin: &str, index: usize) -> RecorderResult<FilterFile> {
    let doc = Document { origin, text };
    let raw: RawFile = toml::from_str(text).map_err(|err| doc.toml_error(&err))?;
    let first = index == 0;
    let meta = doc.meta(raw.meta)?;
    let default_exec = doc.setting(
        &raw.scope.default_exec,
        "scope.default_exec",
        first,
        ExecDecision::parse,
        ExecDecision::EXPECTED,
    )?;
    let default_value_action = doc.setting(
        &raw.scope.default_value_action,
        "scope.default_value_action",
        first,
        ValueAction::parse,
        ValueAction::EXPECTED,
    )?;
    let mut rules = Vec::new();
    for (position, rule) in raw.scope.rules.into_iter().enumerate() {
        rules.push(doc.rule(rule, &format!("scope.rules[{position}]"), index)?);
    }
    let io = raw.io.map(|io| doc.io(io)).transpose()?;
    Ok(FilterFile {
        meta,
        default_exec,
        default_value_action,
        rules,
        io,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    meta: RawMeta,
    io: Option<Spanned<RawIo>>,
    scope: RawScope,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMeta {
    name: Spanned<String>,
    version: Spanned<i64>,
    description: Option<String>,
    #[serde(default)]
    labels: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIo {
    #[serde(default)]
    capture: bool,
    #[serde(default)]
    streams: Vec<Spanned<String>>,
    modes: Option<Spanned<Vec<String>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScope {
    default_exec: Spanned<String>,
    default_value_action: Spanned<String>,
    #[serde(default)]
    rules: Vec<RawRule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    selector: Spanned<String>,
    exec: Option<Spanned<String>>,
    value_default: Option<Spanned<String>>,
    reason: Option<String>,
    #[serde(default)]
    value_patterns: Vec<RawPattern>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPattern {
    selector: Spanned<String>,
    action: Spanned<String>,
    // Validated as a string, kept only in the file.
    #[serde(rename = "reason")]
    _reason: Option<String>,
}

/// The text being parsed, for turning byte spans into positions.
struct Document<'a> {
    origin: &'a str,
    text: &'a str,
}

impl Document<'_> {
    /// 1-based line and column of a byte offset.
    fn position(&self, offset: usize) -> (usize, usize) {
        let before = &self.text[..offset.min(self.text.len())];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        (line, column)
    }

    fn error(&self, span: Range<usize>, key: &str, message: impl Display) -> RecorderError {
        let (line, column) = self.position(span.start);
        usage!(
            ErrorCode::InvalidTraceFilter,
            "{}:{line}:{column}: {key}: {message}",
            self.origin;
            "path" = self.origin,
            "line" = line,
            "column" = column,
            "key" = key
        )
    }

    fn toml_error(&self, err: &toml::de::Error) -> RecorderError {
        let message = err.message().trim_end();
        let Some(span) = err.span() else {
            return usage!(ErrorCode::InvalidTraceFilter, "{}: {message}", self.origin; "path" = self.origin);
        };
        let (line, column) = self.position(span.start);
        match self.key_on_line(line) {
            Some(key) => self.error(span, key, message),
            None => usage!(
                ErrorCode::InvalidTraceFilter,
                "{}:{line}:{column}: {message}",
                self.origin;
                "path" = self.origin,
                "line" = line,
                "column" = column
            ),
        }
    }

    /// The key assigned on a line (`key = value`), if the line is an assignment.
    fn key_on_line(&self, line: usize) -> Option<&str> {
        let text = self.text.lines().nth(line - 1)?;
        let (key, _) = text.split_once('=')?;
        let key = key.trim();
        let bare = key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
        (bare && !key.is_empty()).then_some(key)
    }

    fn meta(&self, raw: RawMeta) -> RecorderResult<FilterMeta> {
        if raw.name.get_ref().trim().is_empty() {
            return Err(self.error(raw.name.span(), "meta.name", "empty; expected a name"));
        }
        let version = u32::try_from(*raw.version.get_ref())
            .ok()
            .filter(|version| *version >= 1)
            .ok_or_else(|| {
                self.error(
                    raw.version.span(),
                    "meta.version",
                    format!(
                        "{}; expected an integer of at least 1",
                        raw.version.get_ref()
                    ),
                )
            })?;
        let mut labels: Vec<String> = Vec::new();
        for label in raw.labels {
            if !labels.contains(&label) {
                labels.push(label);
            }
        }
        Ok(FilterMeta {
            name: raw.name.into_inner(),
            version,
            description: raw.description,
            labels,
        })
    }

    fn setting<T>(
        &self,
        raw: &Spanned<String>,
        key: &str,
        first: bool,
        parse: fn(&str) -> Option<T>,
        expected: &str,
    ) -> RecorderResult<Setting<T>> {
        let text = raw.get_ref().as_str();
        if text == "inherit" {
            if first {
                return Err(self.error(
                    raw.span(),
                    key,
                    "\"inherit\" in the first filter of the chain, which has nothing to inherit from; expected an explicit value",
                ));
            }
            return Ok(Setting::Inherit);
        }
        parse(text).map(Setting::Value).ok_or_else(|| {
            self.error(
                raw.span(),
                key,
                format!("{text:?}; expected {expected} or \"inherit\""),
            )
        })
    }

    /// An optional rule field: absent and `inherit` both leave the decision alone.
    fn optional<T>(
        &self,
        raw: Option<&Spanned<String>>,
        key: &str,
        parse: fn(&str) -> Option<T>,
        expected: &str,
    ) -> RecorderResult<Option<T>> {
        match raw.map(|raw| (raw, raw.get_ref().as_str())) {
            None | Some((_, "inherit")) => Ok(None),
            Some((raw, text)) => parse(text).map(Some).ok_or_else(|| {
                self.error(
                    raw.span(),
                    key,
                    format!("{text:?}; expected {expected} or \"inherit\""),
                )
            }),
        }
    }

    fn rule(&self, raw: RawRule, key: &str, source: usize) -> RecorderResult<ScopeRule> {
        let selector = ScopeSelector::parse(raw.selector.get_ref()).map_err(|message| {
            self.error(raw.selector.span(), &format!("{key}.selector"), message)
        })?;
        let exec = self.optional(
            raw.exec.as_ref(),
            &format!("{key}.exec"),
            ExecDecision::parse,
            ExecDecision::EXPECTED,
        )?;
        let value_default = self.optional(
            raw.value_default.as_ref(),
            &format!("{key}.value_default"),
            ValueAction::parse,
            ValueAction::EXPECTED,
        )?;
        let mut value_patterns = Vec::new();
        for (position, pattern) in raw.value_patterns.iter().enumerate() {
            let key = format!("{key}.value_patterns[{position}]");
            let selector = ValueSelector::parse(pattern.selector.get_ref()).map_err(|message| {
                self.error(pattern.selector.span(), &format!("{key}.selector"), message)
            })?;
            let text = pattern.action.get_ref();
            let action = ValueAction::parse(text).ok_or_else(|| {
                self.error(
                    pattern.action.span(),
                    &format!("{key}.action"),
                    format!("{text:?}; expected {}", ValueAction::EXPECTED),
                )
            })?;
            value_patterns.push(Arc::new(ValuePattern { selector, action }));
        }
        Ok(ScopeRule {
            selector,
            exec,
            value_default,
            value_patterns,
            reason: raw.reason.map(Arc::from),
            source,
        })
    }

    fn io(&self, raw: Spanned<RawIo>) -> RecorderResult<IoConfig> {
        let span = raw.span();
        let raw = raw.into_inner();
        let mut streams = Vec::new();
        for (position, stream) in raw.streams.iter().enumerate() {
            let text = stream.get_ref();
            let parsed = IoStream::parse(text).ok_or_else(|| {
                self.error(
                    stream.span(),
                    &format!("io.streams[{position}]"),
                    format!("{text:?}; expected {}", IoStream::EXPECTED),
                )
            })?;
            if !streams.contains(&parsed) {
                streams.push(parsed);
            }
        }
        if raw.capture && streams.is_empty() {
            return Err(self.error(
                span,
                "io.streams",
                format!(
                    "missing while `capture = true`; expected a list of {}",
                    IoStream::EXPECTED
                ),
            ));
        }
        if let Some(modes) = raw.modes.filter(|modes| !modes.get_ref().is_empty()) {
            return Err(self.error(
                modes.span(),
                "io.modes",
                "reserved for later use; expected an empty list or no `modes` key",
            ));
        }
        Ok(IoConfig {
            capture: raw.capture,
            streams,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "[meta]\nname = \"t\"\nversion = 1\n\n";

    fn parse(body: &str, index: usize) -> RecorderResult<FilterFile> {
        parse_filter(&format!("{HEADER}{body}"), "filters/t.toml", index)
    }

    /// The error for `body`, checked to be a Usage `ERR_INVALID_TRACE_FILTER` naming the file.
    fn error(body: &str, index: usize) -> RecorderError {
        let err = parse(body, index)
            .err()
            .unwrap_or_else(|| panic!("parsed:\n{body}"));
        assert_eq!(err.code(), ErrorCode::InvalidTraceFilter, "{err}");
        assert_eq!(err.kind(), ErrorKind::Usage);
        assert_eq!(err.exit_code(), 2);
        assert_eq!(err.context_value("path"), Some("filters/t.toml"));
        err
    }

    fn assert_error(body: &str, line: usize, key: &str, text: &str) {
        let err = error(body, 1);
        assert_eq!(
            err.context_value("line"),
            Some(line.to_string().as_str()),
            "{err}"
        );
        assert_eq!(err.context_value("key"), Some(key), "{err}");
        assert!(err.message().contains(text), "{err}");
        assert!(
            err.message()
                .starts_with(&format!("filters/t.toml:{line}:")),
            "{err}"
        );
    }

    const SCOPE: &str = "[scope]\ndefault_exec = \"trace\"\ndefault_value_action = \"allow\"\n";

    #[test]
    fn a_0_3_filter_parses_in_full() {
        let file = parse(
            r#"
[io]
capture = true
streams = ["stdout", "stderr", "stdout"]

[scope]
default_exec = "skip"
default_value_action = "deny"

[[scope.rules]]
selector = "pkg:my_app.core.*"
exec = "trace"
value_default = "redact"
reason = "business logic"

[[scope.rules.value_patterns]]
selector = "local:literal:user"
action = "allow"

[[scope.rules.value_patterns]]
selector = 'attr:regex:(?i).*token'
action = "deny"
reason = "tokens"

[[scope.rules]]
selector = "file:my_app/services/**/*.py"
exec = "inherit"
value_default = "inherit"
"#,
            0,
        )
        .unwrap_or_else(|err| panic!("{err}"));
        assert_eq!(file.meta.name, "t");
        assert_eq!(file.default_exec, Setting::Value(ExecDecision::Skip));
        assert_eq!(
            file.default_value_action,
            Setting::Value(ValueAction::Redact)
        );
        assert_eq!(
            file.io,
            Some(IoConfig {
                capture: true,
                streams: vec![IoStream::Stdout, IoStream::Stderr]
            })
        );
        assert_eq!(file.rules.len(), 2);
        let core = &file.rules[0];
        assert_eq!(core.exec, Some(ExecDecision::Trace));
        assert_eq!(core.value_default, Some(ValueAction::Redact));
        assert_eq!(core.reason.as_deref(), Some("business logic"));
        assert_eq!(core.value_patterns.len(), 2);
        assert_eq!(core.value_patterns[1].action, ValueAction::Redact);
        let services = &file.rules[1];
        assert_eq!((services.exec, services.value_default), (None, None));
    }

    #[test]
    fn meta_labels_lose_duplicates_and_description_is_optional() {
        let file = parse_filter(
            &format!("[meta]\nname = \"n\"\nversion = 3\nlabels = [\"a\", \"b\", \"a\"]\n{SCOPE}"),
            "x.toml",
            0,
        )
        .unwrap_or_else(|err| panic!("{err}"));
        assert_eq!(file.meta.labels, ["a", "b"]);
        assert_eq!(file.meta.version, 3);
        assert_eq!(file.meta.description, None);
        assert_eq!(file.io, None);
    }

    #[test]
    fn inherit_needs_an_earlier_filter() {
        let body = "[scope]\ndefault_exec = \"inherit\"\ndefault_value_action = \"inherit\"\n";
        let err = error(body, 0);
        assert_eq!(err.context_value("key"), Some("scope.default_exec"));
        assert_eq!(err.context_value("line"), Some("6"));
        assert_eq!(err.context_value("column"), Some("16"));
        assert!(err.message().contains("first filter of the chain"), "{err}");
        let file = parse(body, 1).unwrap_or_else(|err| panic!("{err}"));
        assert_eq!(file.default_exec, Setting::Inherit);
        assert_eq!(file.default_value_action, Setting::Inherit);
    }

    #[test]
    fn unknown_keys_are_rejected_where_they_are() {
        assert_error(
            &format!("{SCOPE}colour = \"red\"\n"),
            8,
            "colour",
            "unknown field `colour`",
        );
        assert_error(
            &format!("{SCOPE}[[scope.rules]]\nselector = \"pkg:a\"\nexecute = \"skip\"\n"),
            10,
            "execute",
            "unknown field `execute`, expected one of",
        );
        assert_error(
            &format!("{SCOPE}[[scope.rules]]\nselector = \"pkg:a\"\n[[scope.rules.value_patterns]]\nselector = \"local:x\"\naction = \"drop\"\nwhy = \"x\"\n"),
            13,
            "why",
            "unknown field `why`",
        );
        let err = error(&format!("[extra]\nx = 1\n{SCOPE}"), 1);
        assert!(err.message().contains("unknown field `extra`"), "{err}");
    }

    #[test]
    fn values_of_the_wrong_type_or_range_name_their_key() {
        let err = parse_filter(
            &format!("[meta]\nname = \"n\"\nversion = \"1\"\n{SCOPE}"),
            "f.toml",
            0,
        )
        .err()
        .unwrap_or_else(|| panic!("parsed"));
        assert_eq!(err.context_value("key"), Some("version"), "{err}");
        assert_eq!(err.context_value("line"), Some("3"));
        let err = parse_filter(
            &format!("[meta]\nname = \"n\"\nversion = 0\n{SCOPE}"),
            "f.toml",
            0,
        )
        .err()
        .unwrap_or_else(|| panic!("parsed"));
        assert_eq!(err.context_value("key"), Some("meta.version"), "{err}");
        assert!(
            err.message()
                .contains("0; expected an integer of at least 1"),
            "{err}"
        );
        let err = parse_filter(
            &format!("[meta]\nname = \" \"\nversion = 1\n{SCOPE}"),
            "f.toml",
            0,
        )
        .err()
        .unwrap_or_else(|| panic!("parsed"));
        assert_eq!(err.context_value("key"), Some("meta.name"), "{err}");
        let err = parse_filter(SCOPE, "f.toml", 0)
            .err()
            .unwrap_or_else(|| panic!("parsed"));
        assert!(err.message().contains("missing field `meta`"), "{err}");
        let err = error("[scope]\ndefault_exec = \"trace\"\n", 1);
        assert!(
            err.message()
                .contains("missing field `default_value_action`"),
            "{err}"
        );
    }

    #[test]
    fn bad_decisions_list_the_accepted_words() {
        assert_error(
            "[scope]\ndefault_exec = \"record\"\ndefault_value_action = \"allow\"\n",
            6,
            "scope.default_exec",
            "\"record\"; expected \"trace\" or \"skip\" or \"inherit\"",
        );
        assert_error(
            &format!("{SCOPE}[[scope.rules]]\nselector = \"pkg:a\"\nvalue_default = \"hide\"\n"),
            10,
            "scope.rules[0].value_default",
            "\"hide\"; expected \"allow\", \"redact\", \"drop\" or \"deny\" or \"inherit\"",
        );
        assert_error(
            &format!("{SCOPE}[[scope.rules]]\nselector = \"pkg:a\"\n[[scope.rules.value_patterns]]\nselector = \"local:x\"\naction = \"inherit\"\n"),
            12,
            "scope.rules[0].value_patterns[0].action",
            "\"inherit\"; expected \"allow\", \"redact\", \"drop\" or \"deny\"",
        );
    }

    #[test]
    fn bad_selectors_point_at_their_rule() {
        assert_error(
            &format!("{SCOPE}[[scope.rules]]\nselector = \"pkg:a\"\n\n[[scope.rules]]\nselector = \"module:a\"\n"),
            12,
            "scope.rules[1].selector",
            "unknown selector kind \"module\"; expected pkg, file, obj or lib",
        );
        assert_error(
            &format!("{SCOPE}[[scope.rules]]\nselector = \"pkg:a\"\n[[scope.rules.value_patterns]]\nselector = 'local:regex:(?P<x'\naction = \"redact\"\n"),
            11,
            "scope.rules[0].value_patterns[0].selector",
            "bad regex",
        );
    }

    #[test]
    fn io_streams_are_checked() {
        assert_error(
            &format!("[io]\ncapture = true\nstreams = [\"stdout\", \"network\"]\n{SCOPE}"),
            7,
            "io.streams[1]",
            "\"network\"; expected \"stdout\", \"stderr\", \"stdin\" or \"files\"",
        );
        assert_error(
            &format!("[io]\ncapture = true\n{SCOPE}"),
            5,
            "io.streams",
            "missing while `capture = true`",
        );
        assert_error(
            &format!("[io]\nmodes = [\"fd\"]\n{SCOPE}"),
            6,
            "io.modes",
            "reserved",
        );
        let file =
            parse(&format!("[io]\nmodes = []\n{SCOPE}"), 1).unwrap_or_else(|err| panic!("{err}"));
        assert_eq!(file.io, Some(IoConfig::default()));
    }

    #[test]
    fn toml_syntax_errors_carry_the_position() {
        let err = error("[scope\n", 1);
        assert_eq!(err.context_value("line"), Some("5"), "{err}");
        assert!(err.message().starts_with("filters/t.toml:5:"), "{err}");
    }
}
