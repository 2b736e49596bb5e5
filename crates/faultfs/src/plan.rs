//! Fault plans: `quota=<bytes>`, `deny=<kinds>:<glob>[:<ERRNO>]`,
//! `fail=<kind|any>#<n>:<ERRNO>` and `kill=<kind|any|failpoint>#<n>` clauses
//! separated by `;`.

use std::fmt;
use std::path::Path;

use recorder_errors::prelude::*;

use crate::errno::parse_errno;
use crate::glob::Glob;
use crate::op::OpKind;

/// Which operations a rule applies to; `None` means any kind.
type KindFilter = Option<Vec<OpKind>>;

/// `deny=<kinds>:<glob>[:<ERRNO>]`: operations of those kinds on a matching path fail.
#[derive(Debug, Clone, PartialEq, Eq)]
struct DenyRule {
    kinds: KindFilter,
    glob: Glob,
    errno: i32,
    clause: String,
}

/// `fail=<kind|any>#<n>:<errno>`: the n-th operation of that kind fails.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FailRule {
    kind: Option<OpKind>,
    nth: u64,
    errno: i32,
    clause: String,
}

/// `kill=<kind|any|failpoint>#<n>`: the process kills itself with SIGKILL.
#[derive(Debug, Clone, PartialEq, Eq)]
struct KillRule {
    at: KillAt,
    nth: u64,
    clause: String,
}

/// Where a kill rule counts.
#[derive(Debug, Clone, PartialEq, Eq)]
enum KillAt {
    /// Operations of one kind, or every operation (`None`).
    Op(Option<OpKind>),
    /// Reaches of one fail point (`recorder::writer`).
    Failpoint(String),
}

/// A fault that fires on one operation: the errno and the clause that caused it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fault<'a> {
    pub(crate) errno: i32,
    pub(crate) rule: &'a str,
}

/// The faults a [`crate::FaultFs`] injects; empty by default (no faults).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FaultPlan {
    quota: Option<(u64, String)>,
    denies: Vec<DenyRule>,
    fails: Vec<FailRule>,
    kills: Vec<KillRule>,
}

impl FaultPlan {
    /// Parses a plan; a malformed clause is a Usage error
    /// (`ERR_INVALID_FAULT_PLAN`) naming the clause. Empty clauses are ignored.
    pub fn parse(text: &str) -> RecorderResult<FaultPlan> {
        let mut plan = FaultPlan::default();
        for clause in text.split(';').map(str::trim).filter(|c| !c.is_empty()) {
            plan.add_clause(clause).map_err(|why| {
                usage!(ErrorCode::InvalidFaultPlan, "invalid fault plan clause {clause:?}: {why}";
                    "clause" = clause)
            })?;
        }
        Ok(plan)
    }

    /// The byte quota over all writes, if any.
    pub fn quota(&self) -> Option<u64> {
        self.quota.as_ref().map(|(bytes, _)| *bytes)
    }

    /// Whether the plan injects nothing.
    pub fn is_empty(&self) -> bool {
        self.quota.is_none()
            && self.denies.is_empty()
            && self.fails.is_empty()
            && self.kills.is_empty()
    }

    /// Whether a `kill` clause counts reaches of a fail point.
    pub fn kills_at_failpoints(&self) -> bool {
        self.kills
            .iter()
            .any(|rule| matches!(rule.at, KillAt::Failpoint(_)))
    }

    fn add_clause(&mut self, clause: &str) -> Result<(), String> {
        let (key, value) = clause
            .split_once('=')
            .ok_or("expected quota=, deny=, fail= or kill=")?;
        match key.trim() {
            "quota" => {
                if self.quota.is_some() {
                    return Err("quota given twice".into());
                }
                let bytes = value
                    .trim()
                    .parse::<u64>()
                    .map_err(|_| format!("quota {value:?} is not a byte count"))?;
                self.quota = Some((bytes, clause.to_string()));
            }
            "deny" => self.denies.push(parse_deny(value, clause)?),
            "fail" => self.fails.push(parse_fail(value, clause)?),
            "kill" => self.kills.push(parse_kill(value, clause)?),
            other => return Err(format!("unknown rule {other:?}")),
        }
        Ok(())
    }

    /// The deny or fail rule that fires for this operation, if any (deny
    /// rules first, then fail rules, each in plan order). A rule matches a
    /// rename when either path matches.
    pub(crate) fn fault_for(
        &self,
        kind: OpKind,
        index: u64,
        kind_index: u64,
        paths: &[&Path],
    ) -> Option<Fault<'_>> {
        let deny = self.denies.iter().find(|rule| {
            rule.kinds
                .as_ref()
                .is_none_or(|kinds| kinds.contains(&kind))
                && paths
                    .iter()
                    .any(|path| rule.glob.matches(&path.to_string_lossy()))
        });
        if let Some(rule) = deny {
            return Some(Fault {
                errno: rule.errno,
                rule: &rule.clause,
            });
        }
        self.fails
            .iter()
            .find(|rule| match rule.kind {
                Some(rule_kind) => rule_kind == kind && rule.nth == kind_index,
                None => rule.nth == index,
            })
            .map(|rule| Fault {
                errno: rule.errno,
                rule: &rule.clause,
            })
    }

    /// The `kill` clause that fires at this operation (before it takes effect), if any.
    pub(crate) fn kill_at_op(&self, kind: OpKind, index: u64, kind_index: u64) -> Option<&str> {
        self.kills
            .iter()
            .find(|rule| match rule.at {
                KillAt::Op(Some(rule_kind)) => rule_kind == kind && rule.nth == kind_index,
                KillAt::Op(None) => rule.nth == index,
                KillAt::Failpoint(_) => false,
            })
            .map(|rule| rule.clause.as_str())
    }

    /// The `kill` clause that fires at the `nth` reach of fail point `name`, if any.
    pub(crate) fn kill_at_failpoint(&self, name: &str, nth: u64) -> Option<&str> {
        self.kills
            .iter()
            .find(|rule| {
                matches!(&rule.at, KillAt::Failpoint(point) if point == name) && rule.nth == nth
            })
            .map(|rule| rule.clause.as_str())
    }

    /// The quota clause as written (`quota=4096`).
    pub(crate) fn quota_rule(&self) -> &str {
        self.quota.as_ref().map_or("quota", |(_, clause)| clause)
    }
}

impl fmt::Display for FaultPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let clauses = self
            .quota
            .iter()
            .map(|(_, clause)| clause)
            .chain(self.denies.iter().map(|rule| &rule.clause))
            .chain(self.fails.iter().map(|rule| &rule.clause))
            .chain(self.kills.iter().map(|rule| &rule.clause));
        for (i, clause) in clauses.enumerate() {
            if i > 0 {
                f.write_str(";")?;
            }
            f.write_str(clause)?;
        }
        Ok(())
    }
}

/// `<kind|any>[,<kind>...]`.
fn parse_kinds(text: &str) -> Result<KindFilter, String> {
    let mut kinds = Vec::new();
    for name in text.split(',').map(str::trim) {
        if name == "any" {
            return Ok(None);
        }
        kinds.push(OpKind::parse(name).ok_or_else(|| format!("unknown operation kind {name:?}"))?);
    }
    Ok(Some(kinds))
}

/// `<kinds>:<glob>[:<ERRNO>]`. A last `:`-separated part that looks like an
/// errno (`E` and capitals or digits, or a number) is one, and must be known;
/// anything else belongs to the glob.
fn parse_deny(value: &str, clause: &str) -> Result<DenyRule, String> {
    let (kinds, rest) = value
        .split_once(':')
        .ok_or("expected deny=<kinds>:<glob>[:<ERRNO>]")?;
    let kinds = parse_kinds(kinds)?;
    let (glob, errno) = match rest.rsplit_once(':') {
        Some((glob, name)) if looks_like_errno(name) => {
            let errno = parse_errno(name).ok_or_else(|| {
                format!("unknown errno {name:?} (a name such as EACCES, ENOSPC, EIO, or a positive number)")
            })?;
            (glob, errno)
        }
        _ => (rest, libc::EACCES),
    };
    if glob.is_empty() {
        return Err("empty path glob".into());
    }
    Ok(DenyRule {
        kinds,
        glob: Glob::new(glob),
        errno,
        clause: clause.to_string(),
    })
}

/// `ENOSPC`, `eacces`, `28`: text a plan means as an errno, known or not.
fn looks_like_errno(text: &str) -> bool {
    let text = text.trim();
    let name = text.len() > 1
        && text.starts_with(['E', 'e'])
        && text.chars().all(|c| c.is_ascii_alphanumeric());
    let number = !text.is_empty() && text.chars().all(|c| c.is_ascii_digit());
    name || number
}

/// `<kind|any>#<n>:<ERRNO>`.
fn parse_fail(value: &str, clause: &str) -> Result<FailRule, String> {
    let (target, errno) = value
        .rsplit_once(':')
        .ok_or("expected fail=<kind|any>#<n>:<ERRNO>")?;
    let (kind, nth) = target
        .split_once('#')
        .ok_or("expected fail=<kind|any>#<n>:<ERRNO>")?;
    let kind = match kind.trim() {
        "any" => None,
        name => {
            Some(OpKind::parse(name).ok_or_else(|| format!("unknown operation kind {name:?}"))?)
        }
    };
    let nth = nth
        .trim()
        .parse::<u64>()
        .ok()
        .filter(|&n| n >= 1)
        .ok_or_else(|| format!("operation number {nth:?} is not a count from 1"))?;
    let errno = parse_errno(errno).ok_or_else(|| format!("unknown errno {errno:?}"))?;
    Ok(FailRule {
        kind,
        nth,
        errno,
        clause: clause.to_string(),
    })
}

/// `<kind|any|failpoint>#<n>`: a fail point is a `crate::name` path.
fn parse_kill(value: &str, clause: &str) -> Result<KillRule, String> {
    let (target, nth) = value
        .rsplit_once('#')
        .ok_or("expected kill=<kind|any|failpoint>#<n>")?;
    let at = match target.trim() {
        "any" => KillAt::Op(None),
        name if is_failpoint_name(name) => KillAt::Failpoint(name.to_string()),
        name => KillAt::Op(Some(OpKind::parse(name).ok_or_else(|| {
            format!("{name:?} is neither an operation kind, `any`, nor a fail point name such as recorder::writer")
        })?)),
    };
    let nth = nth
        .trim()
        .parse::<u64>()
        .ok()
        .filter(|&n| n >= 1)
        .ok_or_else(|| format!("reach number {nth:?} is not a count from 1"))?;
    Ok(KillRule {
        at,
        nth,
        clause: clause.to_string(),
    })
}

/// `recorder::writer`: two or more `::`-separated identifiers.
fn is_failpoint_name(text: &str) -> bool {
    let parts: Vec<&str> = text.split("::").collect();
    parts.len() >= 2
        && parts.iter().all(|part| {
            !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fault(
        plan: &FaultPlan,
        kind: OpKind,
        index: u64,
        kind_index: u64,
        path: &str,
    ) -> Option<i32> {
        plan.fault_for(kind, index, kind_index, &[Path::new(path)])
            .map(|fault| fault.errno)
    }

    #[test]
    fn parses_the_documented_example() {
        let plan =
            FaultPlan::parse("quota=4096;deny=rename:**/trace*.json;fail=write#3:EIO").unwrap();
        assert_eq!(plan.quota(), Some(4096));
        assert_eq!(
            plan.to_string(),
            "quota=4096;deny=rename:**/trace*.json;fail=write#3:EIO"
        );
        assert_eq!(
            fault(&plan, OpKind::Rename, 9, 1, "/t/trace.json"),
            Some(libc::EACCES)
        );
        assert_eq!(fault(&plan, OpKind::Rename, 9, 1, "/t/trace.bin"), None);
        assert_eq!(fault(&plan, OpKind::Write, 7, 3, "/t/x"), Some(libc::EIO));
        assert_eq!(fault(&plan, OpKind::Write, 8, 4, "/t/x"), None);
        assert!(!plan.is_empty());
        assert!(FaultPlan::parse(" ; ").unwrap().is_empty());
    }

    #[test]
    fn deny_lists_kinds_and_errno() {
        let plan = FaultPlan::parse("deny=create,mkdir:/ro/**:EPERM").unwrap();
        assert_eq!(
            fault(&plan, OpKind::Mkdir, 1, 1, "/ro/a"),
            Some(libc::EPERM)
        );
        assert_eq!(
            fault(&plan, OpKind::Create, 1, 1, "/ro/a/b"),
            Some(libc::EPERM)
        );
        assert_eq!(fault(&plan, OpKind::Write, 1, 1, "/ro/a/b"), None);
        let any = FaultPlan::parse("deny=any:/x").unwrap();
        assert_eq!(fault(&any, OpKind::Fsync, 1, 1, "/x"), Some(libc::EACCES));
    }

    #[test]
    fn deny_takes_any_errno_and_never_swallows_one_into_the_glob() {
        let full = FaultPlan::parse("deny=write:**:ENOSPC").unwrap();
        assert_eq!(
            fault(&full, OpKind::Write, 1, 1, "/t/trace.json"),
            Some(libc::ENOSPC)
        );
        let numbered = FaultPlan::parse("deny=rename:**/*.json:5").unwrap();
        assert_eq!(
            fault(&numbered, OpKind::Rename, 1, 1, "/t/a.json"),
            Some(libc::EIO)
        );
        let colon = FaultPlan::parse("deny=create:/t/a:b").unwrap();
        assert_eq!(
            fault(&colon, OpKind::Create, 1, 1, "/t/a:b"),
            Some(libc::EACCES)
        );
        let err = FaultPlan::parse("deny=write:**:ENOSPACE").unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidFaultPlan);
        assert!(
            err.message().contains("unknown errno \"ENOSPACE\""),
            "{}",
            err.message()
        );
    }

    #[test]
    fn kill_rules_count_operations_or_fail_point_reaches() {
        let plan = FaultPlan::parse("kill=write#3;kill=any#9;kill=recorder::writer#2").unwrap();
        assert!(plan.kills_at_failpoints());
        assert_eq!(plan.kill_at_op(OpKind::Write, 5, 3), Some("kill=write#3"));
        assert_eq!(plan.kill_at_op(OpKind::Write, 6, 4), None);
        assert_eq!(plan.kill_at_op(OpKind::Mkdir, 9, 1), Some("kill=any#9"));
        assert_eq!(
            plan.kill_at_failpoint("recorder::writer", 2),
            Some("kill=recorder::writer#2")
        );
        assert_eq!(plan.kill_at_failpoint("recorder::writer", 1), None);
        assert_eq!(plan.kill_at_failpoint("recorder::finish", 2), None);
        assert_eq!(
            plan.to_string(),
            "kill=write#3;kill=any#9;kill=recorder::writer#2"
        );
        assert!(!FaultPlan::parse("kill=rename#1")
            .unwrap()
            .kills_at_failpoints());
        assert!(!FaultPlan::parse("kill=rename#1").unwrap().is_empty());
    }

    #[test]
    fn fail_any_counts_all_operations() {
        let plan = FaultPlan::parse("fail=any#2:28").unwrap();
        assert_eq!(fault(&plan, OpKind::Mkdir, 1, 1, "/a"), None);
        assert_eq!(fault(&plan, OpKind::Create, 2, 1, "/a"), Some(libc::ENOSPC));
    }

    #[test]
    fn malformed_clauses_are_usage_errors_naming_the_clause() {
        for bad in [
            "quota=lots",
            "quota=1;quota=2",
            "deny=write",
            "deny=chmod:/x",
            "deny=write:",
            "fail=write#0:EIO",
            "fail=write#3",
            "fail=write:EIO",
            "fail=rename#1:EWHAT",
            "explode=1",
            "nonsense",
            "kill=write",
            "kill=write#0",
            "kill=chmod#1",
            "kill=recorder:writer#1",
        ] {
            let err = FaultPlan::parse(&format!("deny=open:/ok ; {bad}")).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Usage, "{bad}");
            assert_eq!(err.code(), ErrorCode::InvalidFaultPlan, "{bad}");
            let clause = if bad == "quota=1;quota=2" {
                "quota=2"
            } else {
                bad
            };
            assert_eq!(err.context_value("clause"), Some(clause), "{bad}");
            assert!(err.message().contains(clause), "{}", err.message());
        }
    }
}
