//! The `recorder::*` fail points (`failure-fixtures` builds): where they are
//! reached and how `FAILPOINTS` configures them.

use recorder_errors::prelude::*;

/// `recorder::callback`: `return` fails the callback, `panic` panics with the lock held.
pub(super) fn callback_failpoint() -> RecorderResult<()> {
    faultfs::note_failpoint("recorder::callback");
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
    faultfs::note_failpoint("recorder::finish");
    fail::fail_point!("recorder::finish", |arg: Option<String>| {
        Err(bug!(
            ErrorCode::Unknown,
            "fail point recorder::finish returned {}",
            arg.unwrap_or_default()
        ))
    });
    Ok(())
}

/// Applies the `recorder::*` entries of `FAILPOINTS` (fixture builds only).
pub(super) fn configure_failpoints() -> RecorderResult<()> {
    #[cfg(feature = "failure-fixtures")]
    {
        static CONFIGURED: std::sync::Once = std::sync::Once::new();
        let mut result = Ok(());
        CONFIGURED.call_once(|| {
            let spec = std::env::var("FAILPOINTS").unwrap_or_default();
            for entry in spec.split(';') {
                let Some((name, actions)) = entry.split_once('=') else {
                    continue;
                };
                let name = name.trim();
                if !name.starts_with("recorder::") {
                    continue;
                }
                if let Err(why) = fail::cfg(name, actions.trim()) {
                    result = Err(usage!(ErrorCode::InvalidFaultPlan, "invalid FAILPOINTS entry {name}={actions}: {why}";
                        "clause" = format!("{name}={actions}")));
                }
            }
        });
        result
    }
    #[cfg(not(feature = "failure-fixtures"))]
    Ok(())
}
