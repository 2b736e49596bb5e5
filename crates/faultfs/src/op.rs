//! Operation kinds and per-kind operation counts.

use std::fmt;

/// The kind of a filesystem operation, as counted, logged and targeted by faults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OpKind {
    /// `create_new`.
    Create,
    /// `open_append`.
    Open,
    /// `FsFile::write`.
    Write,
    /// `FsFile::flush`.
    Flush,
    /// `FsFile::sync_all` and `sync_dir`.
    Fsync,
    /// `rename`.
    Rename,
    /// `remove_file` and `remove_dir`.
    Remove,
    /// `create_dir`.
    Mkdir,
}

impl OpKind {
    /// Every kind, in a fixed order.
    pub const ALL: [OpKind; 8] = [
        OpKind::Create,
        OpKind::Open,
        OpKind::Write,
        OpKind::Flush,
        OpKind::Fsync,
        OpKind::Rename,
        OpKind::Remove,
        OpKind::Mkdir,
    ];

    /// The kind's name in plans and the fixture log (`write`).
    pub fn as_str(self) -> &'static str {
        match self {
            OpKind::Create => "create",
            OpKind::Open => "open",
            OpKind::Write => "write",
            OpKind::Flush => "flush",
            OpKind::Fsync => "fsync",
            OpKind::Rename => "rename",
            OpKind::Remove => "remove",
            OpKind::Mkdir => "mkdir",
        }
    }

    /// The `fail` crate point evaluated on every operation of this kind.
    pub fn failpoint(self) -> &'static str {
        match self {
            OpKind::Create => "faultfs::create",
            OpKind::Open => "faultfs::open",
            OpKind::Write => "faultfs::write",
            OpKind::Flush => "faultfs::flush",
            OpKind::Fsync => "faultfs::fsync",
            OpKind::Rename => "faultfs::rename",
            OpKind::Remove => "faultfs::remove",
            OpKind::Mkdir => "faultfs::mkdir",
        }
    }

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
    by_kind: [u64; 8],
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
        }
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
