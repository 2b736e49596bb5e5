//! The data of a loaded filter chain: decisions, value kinds, rules, sources
//! and the `[io]` settings.

use std::path::PathBuf;
use std::sync::Arc;

use super::selector::{ScopeSelector, ValueSelector};

/// Whether a scope's events are recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExecDecision {
    /// Record the scope's events.
    Trace,
    /// Record nothing from the scope (its callbacks return `DISABLE`).
    Skip,
}

impl ExecDecision {
    /// The accepted spellings, for messages.
    pub const EXPECTED: &'static str = "\"trace\" or \"skip\"";

    /// Parses `trace` or `skip`.
    pub fn parse(text: &str) -> Option<ExecDecision> {
        match text {
            "trace" => Some(ExecDecision::Trace),
            "skip" => Some(ExecDecision::Skip),
            _ => None,
        }
    }
}

/// What happens to one captured value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueAction {
    /// Encode the value.
    Allow,
    /// Record a redaction marker under the value's name; the value is never read.
    Redact,
    /// Leave the value out (a return keeps its event with a placeholder).
    Drop,
}

impl ValueAction {
    /// The accepted spellings, for messages.
    pub const EXPECTED: &'static str = "\"allow\", \"redact\", \"drop\" or \"deny\"";

    /// The one of `self` and `other` that records less: drop, then redact, then allow.
    pub fn stricter(self, other: ValueAction) -> ValueAction {
        let rank = |action: ValueAction| match action {
            ValueAction::Allow => 0,
            ValueAction::Redact => 1,
            ValueAction::Drop => 2,
        };
        if rank(other) > rank(self) {
            other
        } else {
            self
        }
    }

    /// Parses `allow`, `redact`, `drop`, or `deny` (0.3's older word for `redact`).
    pub fn parse(text: &str) -> Option<ValueAction> {
        match text {
            "allow" => Some(ValueAction::Allow),
            "redact" | "deny" => Some(ValueAction::Redact),
            "drop" => Some(ValueAction::Drop),
            _ => None,
        }
    }
}

/// The kinds of captured values a value selector can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// A local variable of a function frame (`local:`).
    Local,
    /// A module global (`global:`).
    Global,
    /// A call argument (`arg:`).
    Arg,
    /// A return value, named by the function's qualified name (`ret:`).
    Ret,
    /// A field of an instance's `__dict__`, at any depth (`attr:`).
    Attr,
}

impl ValueKind {
    /// Every kind, in [`ValueKind::index`] order.
    pub const ALL: [ValueKind; 5] = [
        ValueKind::Local,
        ValueKind::Global,
        ValueKind::Arg,
        ValueKind::Ret,
        ValueKind::Attr,
    ];

    /// A dense index (0..5) for per-kind tables.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The selector prefix (`local`, `global`, `arg`, `ret`, `attr`).
    pub fn selector_name(self) -> &'static str {
        match self {
            ValueKind::Local => "local",
            ValueKind::Global => "global",
            ValueKind::Arg => "arg",
            ValueKind::Ret => "ret",
            ValueKind::Attr => "attr",
        }
    }

    /// The kind whose selector prefix is `name`.
    pub fn parse(name: &str) -> Option<ValueKind> {
        ValueKind::ALL
            .into_iter()
            .find(|kind| kind.selector_name() == name)
    }
}

/// A stream the IO capture may record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IoStream {
    /// `sys.stdout` / fd 1.
    Stdout,
    /// `sys.stderr` / fd 2.
    Stderr,
    /// `sys.stdin` / fd 0.
    Stdin,
    /// Other file descriptors.
    Files,
}

impl IoStream {
    /// The accepted spellings, for messages.
    pub const EXPECTED: &'static str = "\"stdout\", \"stderr\", \"stdin\" or \"files\"";

    /// Parses one `io.streams` entry.
    pub fn parse(text: &str) -> Option<IoStream> {
        match text {
            "stdout" => Some(IoStream::Stdout),
            "stderr" => Some(IoStream::Stderr),
            "stdin" => Some(IoStream::Stdin),
            "files" => Some(IoStream::Files),
            _ => None,
        }
    }
}

/// The `[io]` table: read by the IO capture, not by the filter engine.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IoConfig {
    /// `capture`: whether IO is captured at all (default false).
    pub capture: bool,
    /// `streams`: which streams, without duplicates, in file order.
    pub streams: Vec<IoStream>,
}

/// The `[meta]` table of one filter file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterMeta {
    /// `name`, never empty.
    pub name: String,
    /// `version`, at least 1.
    pub version: u32,
    /// `description`.
    pub description: Option<String>,
    /// `labels`, duplicates removed.
    pub labels: Vec<String>,
}

/// One filter of the chain, as the metadata summary lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterSource {
    /// The absolute path of the file, or `<inline:builtin-default>`.
    pub path: String,
    /// SHA-256 of the file's bytes, lowercase hex.
    pub sha256: String,
    /// Its `[meta]` table.
    pub meta: FilterMeta,
    /// The directory `file:` selectors of this filter are relative to: the
    /// parent of the `.codetracer` directory holding the file, else the file's
    /// own directory; none for the builtin filter.
    pub project_root: Option<PathBuf>,
}

/// One `[[scope.rules.value_patterns]]` entry.
#[derive(Debug, Clone)]
pub struct ValuePattern {
    /// Which values it applies to.
    pub selector: ValueSelector,
    /// What happens to them.
    pub action: ValueAction,
}

/// One `[[scope.rules]]` entry.
#[derive(Debug, Clone)]
pub struct ScopeRule {
    /// Which scopes it applies to.
    pub selector: ScopeSelector,
    /// `exec`; `None` for `inherit` or absent.
    pub exec: Option<ExecDecision>,
    /// `value_default`; `None` for `inherit` or absent.
    pub value_default: Option<ValueAction>,
    /// `value_patterns`, in file order.
    pub value_patterns: Vec<Arc<ValuePattern>>,
    /// `reason`, for diagnostics.
    pub reason: Option<Arc<str>>,
    /// Index of the filter it came from in [`FilterChain::sources`].
    pub source: usize,
}

/// Every filter of a run composed into one ordered rule list.
#[derive(Debug, Clone)]
pub struct FilterChain {
    /// The filters, in load order (the builtin default first).
    pub sources: Vec<FilterSource>,
    /// The last `scope.default_exec` that was not `inherit`.
    pub default_exec: ExecDecision,
    /// The last `scope.default_value_action` that was not `inherit`.
    pub default_value_action: ValueAction,
    /// Every filter's rules, appended in load order.
    pub rules: Vec<ScopeRule>,
    /// The `[io]` table of the last filter that has one; `None` when no
    /// filter has one (the `io_capture` policy alone decides).
    pub io: Option<IoConfig>,
}

#[cfg(test)]
mod tests {
    use super::ValueAction::{Allow, Drop, Redact};

    #[test]
    fn the_stricter_action_records_less() {
        assert_eq!(Allow.stricter(Redact), Redact);
        assert_eq!(Redact.stricter(Allow), Redact);
        assert_eq!(Redact.stricter(Drop), Drop);
        assert_eq!(Drop.stricter(Allow), Drop);
        assert_eq!(Allow.stricter(Allow), Allow);
    }
}
