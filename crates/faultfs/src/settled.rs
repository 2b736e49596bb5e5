//! What a settled staged output left on disk, so that what the recorder
//! reports always matches the directory: the state reached, and anything
//! cleanup could not remove (with the error that stopped it).

use std::fmt;
use std::io;
use std::path::PathBuf;

/// The state a staged output settled in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Every file under its final name (`commit`).
    Complete,
    /// The partial marker and the data files under their final names (`keep_partial`).
    Partial,
    /// Nothing the output created was meant to stay (`abort`, or a failed settle).
    Absent,
}

impl Outcome {
    /// `complete`, `partial` or `absent`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Complete => "complete",
            Outcome::Partial => "partial",
            Outcome::Absent => "absent",
        }
    }
}

/// The state reached, and what cleanup could not remove.
#[derive(Debug)]
pub struct Settled {
    outcome: Outcome,
    leftovers: Vec<PathBuf>,
    cleanup_error: Option<io::Error>,
}

impl Settled {
    pub(crate) fn new(
        outcome: Outcome,
        leftovers: Vec<PathBuf>,
        cleanup_error: Option<io::Error>,
    ) -> Settled {
        Settled {
            outcome,
            leftovers,
            cleanup_error,
        }
    }

    /// The state reached.
    pub fn outcome(&self) -> Outcome {
        self.outcome
    }

    /// Files and directories the output created that are still on disk but
    /// do not belong to the state reached (a staging directory, files of a
    /// rolled-back output), in the order cleanup met them.
    pub fn leftovers(&self) -> &[PathBuf] {
        &self.leftovers
    }

    /// The first error of the cleanup that left [`Settled::leftovers`].
    pub fn cleanup_error(&self) -> Option<&io::Error> {
        self.cleanup_error.as_ref()
    }

    /// The state as reported: `complete`, `partial`, `absent`, or
    /// `partial-leftovers` when the output should be absent but cleanup left
    /// files behind.
    pub fn describe(&self) -> &'static str {
        match self.outcome {
            Outcome::Absent if !self.leftovers.is_empty() => "partial-leftovers",
            outcome => outcome.as_str(),
        }
    }

    /// The leftovers as one comma-separated line.
    pub fn leftovers_text(&self) -> String {
        self.leftovers
            .iter()
            .map(|path| path.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A `commit` or `keep_partial` that did not reach its state: why, and what
/// the rollback to absent left.
#[derive(Debug)]
pub struct SettleError {
    error: io::Error,
    settled: Settled,
}

impl SettleError {
    pub(crate) fn new(error: io::Error, settled: Settled) -> SettleError {
        SettleError { error, settled }
    }

    /// The error that stopped settling.
    pub fn error(&self) -> &io::Error {
        &self.error
    }

    /// What is on disk after the rollback (outcome `Absent`, perhaps with leftovers).
    pub fn settled(&self) -> &Settled {
        &self.settled
    }

    /// The error that stopped settling and what the rollback left.
    pub fn into_parts(self) -> (io::Error, Settled) {
        (self.error, self.settled)
    }
}

impl fmt::Display for SettleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (output {}", self.error, self.settled.describe())?;
        if !self.settled.leftovers.is_empty() {
            write!(f, ": {} left", self.settled.leftovers_text())?;
        }
        f.write_str(")")
    }
}

impl std::error::Error for SettleError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

impl From<SettleError> for io::Error {
    /// The error that stopped settling (what the rollback left is dropped).
    fn from(error: SettleError) -> io::Error {
        error.error
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_with_leftovers_reads_partial_leftovers() {
        let clean = Settled::new(Outcome::Absent, Vec::new(), None);
        assert_eq!(clean.describe(), "absent");
        let left = Settled::new(
            Outcome::Absent,
            vec![PathBuf::from("/t/a"), PathBuf::from("/t/b")],
            Some(io::Error::from_raw_os_error(libc::EACCES)),
        );
        assert_eq!(left.describe(), "partial-leftovers");
        assert_eq!(left.leftovers_text(), "/t/a, /t/b");
        let complete = Settled::new(Outcome::Complete, vec![PathBuf::from("/t/s")], None);
        assert_eq!(complete.describe(), "complete");
        let error = SettleError::new(io::Error::from_raw_os_error(libc::EIO), left);
        assert!(error
            .to_string()
            .contains("output partial-leftovers: /t/a, /t/b left"));
        assert_eq!(io::Error::from(error).raw_os_error(), Some(libc::EIO));
    }
}
