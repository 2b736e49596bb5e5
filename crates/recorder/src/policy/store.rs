//! The global policy: environment and explicit layers over the defaults.
//! Nothing is pushed to the readers: they read the policy when they need it,
//! and [`generation`] tells a reader that caches something derived from it
//! (the logger's filter and file) when to read again.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{LazyLock, RwLock};

use recorder_errors::prelude::*;

use super::model::{PolicyKey, PolicyUpdate, RecorderPolicy};

#[derive(Default)]
struct Layers {
    env: PolicyUpdate,
    explicit: PolicyUpdate,
    effective: RecorderPolicy,
}

impl Layers {
    fn recompute(&mut self) {
        let mut effective = RecorderPolicy::default();
        self.env.apply_to(&mut effective);
        self.explicit.apply_to(&mut effective);
        self.effective = effective;
    }
}

static LAYERS: LazyLock<RwLock<Layers>> = LazyLock::new(|| RwLock::new(Layers::default()));
/// Counts policy changes; starts at 1 so a reader's initial 0 means "never read".
static GENERATION: AtomicU64 = AtomicU64::new(1);

/// Changes whenever the policy in force may have changed.
pub fn generation() -> u64 {
    GENERATION.load(Ordering::Acquire)
}

/// A copy of the policy in force.
pub fn snapshot() -> RecorderPolicy {
    with_policy(RecorderPolicy::clone)
}

/// Reads the policy in force without copying it.
pub fn with_policy<R>(read: impl FnOnce(&RecorderPolicy) -> R) -> R {
    let layers = LAYERS
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    read(&layers.effective)
}

/// Re-reads the `CODETRACER_*` variables into the environment layer. The good
/// variables apply even when one is bad; the first bad one is returned
/// (`ERR_INVALID_POLICY_VALUE`, naming the variable).
pub fn apply_env() -> RecorderResult<()> {
    let (update, error) = super::env::read_process_env();
    publish(|layers| layers.env = update);
    error.map_or(Ok(()), Err)
}

/// Applies explicit settings (API or CLI) and forgets the explicit settings of
/// `cleared`, so the environment or the default shows through again.
pub fn configure(update: &PolicyUpdate, cleared: &[PolicyKey]) {
    publish(|layers| {
        for &key in cleared {
            layers.explicit.clear(key);
        }
        layers.explicit.merge(update);
    });
}

fn publish(change: impl FnOnce(&mut Layers)) {
    let mut layers = LAYERS
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    change(&mut layers);
    layers.recompute();
    GENERATION.fetch_add(1, Ordering::AcqRel);
}
