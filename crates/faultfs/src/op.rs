//! Operation kinds, their fail-point names, and per-kind operation counts.

use std::fmt;

/// Declares [`OpKind`] and derives every name from one list: the kind's name
/// in plans and the fixture log, and its fail point `faultfs::<name>`.
macro_rules! op_kinds {
    ($( $(#[$doc:meta])* $variant:ident => $name:literal, )+) => {
        /// The kind of a filesystem operation, as counted, logged and targeted by faults.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum OpKind {
            $( $(#[$doc])* $variant, )+
        }

        impl OpKind {
            /// Every kind, in a fixed order.
            pub const ALL: [OpKind; KINDS] = [ $( OpKind::$variant, )+ ];

            /// The kind's name in plans and the fixture log (`write`).
            pub const fn as_str(self) -> &'static str {
                match self { $( OpKind::$variant => $name, )+ }
            }

            /// The `fail` crate point evaluated on every operation of this kind
            /// (`faultfs::write`).
            pub const fn failpoint(self) -> &'static str {
                match self { $( OpKind::$variant => concat!("faultfs::", $name), )+ }
            }
        }

        /// Every fail point of the filesystem, one per [`OpKind`] in
        /// [`OpKind::ALL`] order (`faultfs::create`, `faultfs::open`, ...).
        pub const FAILPOINTS: [&str; KINDS] = [ $( concat!("faultfs::", $name), )+ ];

        /// How many operation kinds there are.
        const KINDS: usize = [ $( $name, )+ ].len();
    };
}

op_kinds! {
    /// `create_new`.
    Create => "create",
    /// `open_append`.
    Open => "open",
    /// `FsFile::write`.
    Write => "write",
    /// `FsFile::flush`.
    Flush => "flush",
    /// `FsFile::sync_all` and `sync_dir`.
    Fsync => "fsync",
    /// `rename`.
    Rename => "rename",
    /// `remove_file` and `remove_dir`.
    Remove => "remove",
    /// `create_dir`.
    Mkdir => "mkdir",
    /// `read` (a whole file; the recorder reads only its trace filters).
    Read => "read",
}

impl OpKind {
    /// The kind named `text`, if any.
    pub fn parse(text: &str) -> Option<OpKind> {
        OpKind::ALL.into_iter().find(|kind| kind.as_str() == text)
    }

    fn slot(self) -> usize {
        self as usize
    }
}

impl fmt::Display for OpKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How many operations a [`crate::FaultFs`] has seen, in total and by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OpCounts {
    total: u64,
    by_kind: [u64; KINDS],
}

impl OpCounts {
    /// All operations so far.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Operations of one kind so far.
    pub fn get(&self, kind: OpKind) -> u64 {
        self.by_kind[kind.slot()]
    }

    /// Counts one more operation; returns its (index, kind index), both from 1.
    pub(crate) fn bump(&mut self, kind: OpKind) -> (u64, u64) {
        self.total += 1;
        self.by_kind[kind.slot()] += 1;
        (self.total, self.by_kind[kind.slot()])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_counts_bump() {
        for kind in OpKind::ALL {
            assert_eq!(OpKind::parse(kind.as_str()), Some(kind));
            assert_eq!(kind.failpoint(), format!("faultfs::{kind}"));
            assert_eq!(FAILPOINTS[kind.slot()], kind.failpoint());
        }
        assert_eq!(FAILPOINTS.len(), OpKind::ALL.len());
        assert!(FAILPOINTS.contains(&"faultfs::open"));
        assert_eq!(OpKind::parse("any"), None);
        let mut counts = OpCounts::default();
        assert_eq!(counts.bump(OpKind::Write), (1, 1));
        assert_eq!(counts.bump(OpKind::Create), (2, 1));
        assert_eq!(counts.bump(OpKind::Write), (3, 2));
        assert_eq!(counts.total(), 3);
        assert_eq!(counts.get(OpKind::Write), 2);
        assert_eq!(counts.get(OpKind::Rename), 0);
    }
}
