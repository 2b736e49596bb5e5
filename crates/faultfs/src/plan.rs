//! Fault plans: `quota=<bytes>`, `deny=<kinds>:<glob>[:EACCES|EPERM]` and
//! `fail=<kind|any>#<n>:<ERRNO>` clauses separated by `;`.

use std::fmt;
use std::path::Path;

use recorder_errors::prelude::*;

use crate::errno::parse_errno;
use crate::glob::Glob;
use crate::op::OpKind;

/// Which operations a rule applies to; `None` means any kind.
type KindFilter = Option<Vec<OpKind>>;

/// `deny=<kinds>:<glob>[:errno]`: operations of those kinds on a matching path fail.
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
        self.quota.is_none() && self.denies.is_empty() && self.fails.is_empty()
    }

    fn add_clause(&mut self, clause: &str) -> Result<(), String> {
        let (key, value) = clause
            .split_once('=')
            .ok_or("expected quota=, deny= or fail=")?;
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
            .chain(self.fails.iter().map(|rule| &rule.clause));
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

/// `<kinds>:<glob>[:EACCES|EPERM]`.
fn parse_deny(value: &str, clause: &str) -> Result<DenyRule, String> {
    let (kinds, rest) = value
        .split_once(':')
        .ok_or("expected deny=<kinds>:<glob>[:EACCES|EPERM]")?;
    let kinds = parse_kinds(kinds)?;
    let (glob, errno) = match rest.rsplit_once(':') {
        Some((glob, name)) if name.eq_ignore_ascii_case("EACCES") => (glob, libc::EACCES),
        Some((glob, name)) if name.eq_ignore_ascii_case("EPERM") => (glob, libc::EPERM),
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
