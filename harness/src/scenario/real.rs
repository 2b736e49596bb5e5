//! `[faults] real`: a fault produced by the kernel itself, not simulated by
//! faultfs: a small tmpfs (ENOSPC), `RLIMIT_FSIZE` (EFBIG), a directory the
//! program may not write even as root (EACCES), or a device that fails one
//! kind of operation (EIO).

use serde::Deserialize;

/// `real = { kind = "enospc", size = 65536 }` as written.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawReal {
    pub kind: Option<String>,
    pub size: Option<u64>,
    pub inodes: Option<u64>,
    pub limit: Option<u64>,
    pub parent_mode: Option<u32>,
    pub op: Option<String>,
    pub after: Option<u64>,
}

/// The operation a failing device (`real:eio`) fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EioOp {
    /// Creating a directory.
    Mkdir,
    /// Writing, once `after` bytes went through.
    Write,
    /// Syncing a file or a directory.
    Fsync,
}

impl EioOp {
    /// The operation's name in scenario files.
    pub fn as_str(self) -> &'static str {
        match self {
            EioOp::Mkdir => "mkdir",
            EioOp::Write => "write",
            EioOp::Fsync => "fsync",
        }
    }

    fn parse(text: &str) -> Option<EioOp> {
        [EioOp::Mkdir, EioOp::Write, EioOp::Fsync]
            .into_iter()
            .find(|op| op.as_str() == text)
    }
}

/// A real kernel fault a case runs under (on the normal build of the recorder).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RealFault {
    /// The output directory lives on a tmpfs of `size` bytes and/or `inodes`
    /// inodes, mounted in a private mount namespace.
    Enospc {
        /// tmpfs `size=` in bytes (rounded up to pages by the kernel).
        size: Option<u64>,
        /// tmpfs `nr_inodes=` (the root directory takes one).
        inodes: Option<u64>,
    },
    /// `RLIMIT_FSIZE` of the program, with SIGXFSZ ignored.
    Efbig {
        /// Largest file size in bytes the program may write.
        limit: u64,
    },
    /// The output directory's parent has this mode and the program runs
    /// without `CAP_DAC_OVERRIDE`/`CAP_DAC_READ_SEARCH`.
    Eacces {
        /// Permission bits of the parent directory.
        parent_mode: u32,
    },
    /// The output directory is on a device (a FUSE filesystem the harness
    /// serves) that fails every `op` with EIO.
    Eio {
        /// The failing operation.
        op: EioOp,
        /// For `write`: bytes written before writes fail.
        after: u64,
    },
}

/// The kinds a scenario may name.
const KINDS: &[&str] = &["enospc", "efbig", "eacces", "eio"];

/// The parent directory's mode when `parent_mode` is not given.
const DEFAULT_PARENT_MODE: u32 = 0o555;

impl RealFault {
    /// The kind as written in scenario files (`enospc`).
    pub fn kind(&self) -> &'static str {
        match self {
            RealFault::Enospc { .. } => "enospc",
            RealFault::Efbig { .. } => "efbig",
            RealFault::Eacces { .. } => "eacces",
            RealFault::Eio { .. } => "eio",
        }
    }
}

/// A problem with the `real` table: the key it is about (`None` for the
/// table itself) and what is wrong.
pub type RealProblem = (Option<&'static str>, String);

/// Validates the `real` table; `Err` lists every problem.
pub fn validate(raw: RawReal) -> Result<RealFault, Vec<RealProblem>> {
    let mut problems: Vec<RealProblem> = Vec::new();
    let Some(kind) = raw.kind.as_deref() else {
        return Err(vec![(
            Some("kind"),
            format!("a real fault needs a kind: one of {}", KINDS.join(", ")),
        )]);
    };
    let allowed: &[&str] = match kind {
        "enospc" => &["size", "inodes"],
        "efbig" => &["limit"],
        "eacces" => &["parent_mode"],
        "eio" => &["op", "after"],
        other => {
            return Err(vec![(
                Some("kind"),
                format!("{other:?} is not one of {}", KINDS.join(", ")),
            )])
        }
    };
    let given = [
        ("size", raw.size.is_some()),
        ("inodes", raw.inodes.is_some()),
        ("limit", raw.limit.is_some()),
        ("parent_mode", raw.parent_mode.is_some()),
        ("op", raw.op.is_some()),
        ("after", raw.after.is_some()),
    ];
    for (key, present) in given {
        if present && !allowed.contains(&key) {
            let takes = if allowed.is_empty() {
                "no parameter".to_string()
            } else {
                allowed.join(", ")
            };
            problems.push((
                Some(key),
                format!("{key} does not apply to kind {kind:?} (it takes {takes})"),
            ));
        }
    }
    // tmpfs reads 0 as "no limit", which would inject nothing.
    for (key, value) in [("size", raw.size), ("inodes", raw.inodes)] {
        if kind == "enospc" && value == Some(0) {
            problems.push((
                Some(key),
                format!("{key} must be positive (tmpfs takes 0 as no limit)"),
            ));
        }
    }
    if kind == "enospc" && raw.size.is_none() && raw.inodes.is_none() {
        problems.push((
            None,
            "kind \"enospc\" needs size (bytes) or inodes (a count) for its tmpfs".to_string(),
        ));
    }
    if kind == "efbig" && raw.limit.is_none() {
        problems.push((
            Some("limit"),
            "kind \"efbig\" needs limit, the largest file size in bytes".to_string(),
        ));
    }
    if let Some(mode) = raw.parent_mode.filter(|mode| *mode > 0o777) {
        problems.push((
            Some("parent_mode"),
            format!("{mode:#o} is not a permission mode (0o000 to 0o777)"),
        ));
    }
    let op = match raw.op.as_deref() {
        None => EioOp::Write,
        Some(text) => EioOp::parse(text).unwrap_or_else(|| {
            problems.push((
                Some("op"),
                format!("{text:?} is not one of \"mkdir\", \"write\", \"fsync\""),
            ));
            EioOp::Write
        }),
    };
    if kind == "eio" && raw.after.is_some() && op != EioOp::Write {
        problems.push((Some("after"), "after goes with op = \"write\"".to_string()));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(match kind {
        "enospc" => RealFault::Enospc {
            size: raw.size,
            inodes: raw.inodes,
        },
        "efbig" => RealFault::Efbig {
            limit: raw.limit.unwrap_or(0),
        },
        "eacces" => RealFault::Eacces {
            parent_mode: raw.parent_mode.unwrap_or(DEFAULT_PARENT_MODE),
        },
        _ => RealFault::Eio {
            op,
            after: raw.after.unwrap_or(0),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(kind: &str) -> RawReal {
        RawReal {
            kind: Some(kind.to_string()),
            ..RawReal::default()
        }
    }

    #[test]
    fn each_kind_takes_its_own_parameters() {
        let enospc = RawReal {
            size: Some(65536),
            ..raw("enospc")
        };
        assert_eq!(
            validate(enospc).ok(),
            Some(RealFault::Enospc {
                size: Some(65536),
                inodes: None
            })
        );
        let efbig = RawReal {
            limit: Some(0),
            ..raw("efbig")
        };
        assert_eq!(validate(efbig).ok(), Some(RealFault::Efbig { limit: 0 }));
        assert_eq!(
            validate(raw("eacces")).ok(),
            Some(RealFault::Eacces { parent_mode: 0o555 })
        );
        let eio = RawReal {
            op: Some("fsync".to_string()),
            ..raw("eio")
        };
        assert_eq!(
            validate(eio).ok(),
            Some(RealFault::Eio {
                op: EioOp::Fsync,
                after: 0
            })
        );
    }

    #[test]
    fn bad_parameters_name_their_key() {
        let wrong = RawReal {
            limit: Some(10),
            size: Some(0),
            ..raw("enospc")
        };
        let problems = validate(wrong).err().unwrap_or_default();
        let keys: Vec<Option<&str>> = problems.iter().map(|(key, _)| *key).collect();
        assert_eq!(keys, [Some("limit"), Some("size")], "{problems:?}");
        assert!(problems[0].1.contains("does not apply to kind \"enospc\""));
        let missing = validate(raw("efbig")).err().unwrap_or_default();
        assert_eq!(missing.len(), 1);
        assert_eq!(missing[0].0, Some("limit"));
        let unknown = validate(raw("enomem")).err().unwrap_or_default();
        assert_eq!(unknown[0].0, Some("kind"));
        assert!(unknown[0].1.contains("enospc, efbig, eacces, eio"));
        let after = RawReal {
            op: Some("mkdir".to_string()),
            after: Some(10),
            ..raw("eio")
        };
        assert_eq!(
            validate(after).err().unwrap_or_default()[0].0,
            Some("after")
        );
        let mode = RawReal {
            parent_mode: Some(0o1000),
            ..raw("eacces")
        };
        assert_eq!(
            validate(mode).err().unwrap_or_default()[0].1,
            "0o1000 is not a permission mode (0o000 to 0o777)"
        );
    }
}

#[cfg(test)]
mod file_tests {
    use std::path::Path;

    use crate::scenario::{parse, Problem};

    const HEAD: &str = "[program]\nsource = 'pass'\n[expect]\nexit_code = 0\ntrace = 'absent'\n";

    fn problems(text: &str) -> Vec<Problem> {
        match parse(Path::new("scenarios/real_x.toml"), text) {
            Ok(file) => panic!("expected problems, got {} case(s)", file.cases.len()),
            Err(error) => error.problems,
        }
    }

    #[test]
    fn a_bad_parameter_is_named_with_file_line_and_key() {
        let text = format!(
            "{HEAD}[[case]]\nname = 'a'\nfaults.real = {{ kind = 'enospc', size = 0 }}\n\
             [[case]]\nname = 'b'\n[case.faults.real]\nkind = 'efbig'\nsize = 10\n"
        );
        let found = problems(&text);
        let seen: Vec<(usize, &str)> = found.iter().map(|p| (p.line, p.key.as_str())).collect();
        assert_eq!(
            seen,
            [
                (8, "case[0].faults.real.size"),
                (13, "case[1].faults.real.size"),
                (11, "case[1].faults.real.limit")
            ],
            "{found:?}"
        );
        assert_eq!(
            found[0].to_string(),
            "scenarios/real_x.toml:8: case[0].faults.real.size: size must be positive (tmpfs takes 0 as no limit)"
        );
    }

    #[test]
    fn a_real_fault_beside_a_simulated_one_or_in_test_sweeps_is_rejected() {
        let text =
            format!("{HEAD}[faults]\nreal = {{ kind = 'eio' }}\nfaultfs_plan = 'quota=10'\n");
        let found = problems(&text);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!((found[0].line, found[0].key.as_str()), (7, "faults.real"));
        assert!(found[0].message.contains("normal build"));
        let swept =
            format!("{HEAD}[faults]\nreal = {{ kind = 'eio' }}\n[sweep]\nin_tests = true\n");
        let found = problems(&swept);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            (found[0].line, found[0].key.as_str()),
            (9, "sweep.in_tests")
        );
    }

    #[test]
    fn a_real_fault_is_listed_as_its_kind() {
        let text = format!("{HEAD}[faults]\nreal = {{ kind = 'efbig', limit = 0 }}\n");
        let file = parse(Path::new("scenarios/real_x.toml"), &text);
        let kinds = file.map(|file| file.cases[0].faults.kinds());
        assert_eq!(kinds.ok().as_deref(), Some("real:efbig"));
    }
}
