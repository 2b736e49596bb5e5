//! The `recorder::*` fail points (`failure-fixtures` builds): where they are
//! reached and how `FAILPOINTS` configures them.

use recorder_errors::prelude::*;

/// `recorder::callback`: `return` fails the callback, `panic` panics with the lock held.
pub(super) fn callback_failpoint() -> RecorderResult<()> {
    faultfs::note_failpoint(recorder_errors::failpoints::CALLBACK);
    fail::fail_point!("recorder::callback", |arg: Option<String>| {
        Err(bug!(
            ErrorCode::Unknown,
            "fail point recorder::callback returned {}",
            arg.unwrap_or_default()
        ))
    });
    Ok(())
}

/// `recorder::finish`: after callbacks are off, before the output is settled.
pub(super) fn finish_failpoint() -> RecorderResult<()> {
    faultfs::note_failpoint(recorder_errors::failpoints::FINISH);
    fail::fail_point!("recorder::finish", |arg: Option<String>| {
        Err(bug!(
            ErrorCode::Unknown,
            "fail point recorder::finish returned {}",
            arg.unwrap_or_default()
        ))
    });
    Ok(())
}

/// Applies the `recorder::*` entries of `FAILPOINTS` (fixture builds only),
/// through faultfs's one reader of that variable.
pub(super) fn configure_failpoints() -> RecorderResult<()> {
    #[cfg(feature = "failure-fixtures")]
    {
        faultfs::failpoints::configure_from_env(&recorder_errors::failpoints::ALL)
    }
    #[cfg(not(feature = "failure-fixtures"))]
    Ok(())
}
