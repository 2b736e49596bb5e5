//! The names of the recorder's `fail` points.
//!
//! The recorder crate evaluates these in `failure-fixtures` builds; the
//! harness validates scenario files against them. They live here, in a crate
//! without PyO3, so the harness can name them without linking the extension.
//! The filesystem's own fail points are `faultfs::FAILPOINTS`.

/// Inside every monitoring callback, while the tracer lock is held.
pub const CALLBACK: &str = "recorder::callback";

/// In the trace writer, each time it hands a chunk to the filesystem.
pub const WRITER: &str = "recorder::writer";

/// In stop/finish, after callbacks are off and before the output is settled.
pub const FINISH: &str = "recorder::finish";

/// In the IO capture's stream proxies, each time they record a call they
/// forwarded (the program's own call has already succeeded).
pub const IO: &str = "recorder::io";

/// Every fail point of the recorder crate.
pub const ALL: [&str; 4] = [CALLBACK, WRITER, FINISH, IO];

#[cfg(test)]
mod tests {
    #[test]
    fn names_are_unique_and_in_the_recorder_namespace() {
        let mut names = super::ALL.to_vec();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), super::ALL.len());
        assert!(super::ALL.iter().all(|name| name.starts_with("recorder::")));
    }
}
