//! Runtime-health counters: dropped events, detaches and caught panics.
//!
//! Every call is counted in-process (see [`snapshot`]) and forwarded to the
//! installed [`RecorderMetrics`] sink, a no-op until a host installs one.

use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock, Mutex, RwLock};

/// A metrics sink. Every method defaults to doing nothing.
pub trait RecorderMetrics: Send + Sync {
    /// An event was not recorded (e.g. code with a synthetic file name).
    fn record_dropped_event(&self, _reason: &str) {}
    /// The recorder detached from the interpreter because of the policy.
    fn record_detach(&self, _reason: &str) {}
    /// The FFI wrapper caught a panic in the named entry point.
    fn record_panic(&self, _label: &str) {}
}

/// The default sink: ignores everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoopMetrics;

impl RecorderMetrics for NoopMetrics {}

/// Counters by metric and reason, as returned by [`snapshot`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetricsSnapshot {
    /// `record_dropped_event` calls by reason.
    pub dropped_events: BTreeMap<String, u64>,
    /// `record_detach` calls by reason.
    pub detaches: BTreeMap<String, u64>,
    /// `record_panic` calls by label.
    pub panics: BTreeMap<String, u64>,
}

static SINK: LazyLock<RwLock<Arc<dyn RecorderMetrics>>> =
    LazyLock::new(|| RwLock::new(Arc::new(NoopMetrics)));
static COUNTS: LazyLock<Mutex<MetricsSnapshot>> =
    LazyLock::new(|| Mutex::new(MetricsSnapshot::default()));

/// Installs `sink` in place of the current one (`NoopMetrics` to uninstall).
pub fn install(sink: Arc<dyn RecorderMetrics>) {
    *SINK
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner()) = sink;
}

/// The counters so far, since the process started.
pub fn snapshot() -> MetricsSnapshot {
    COUNTS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .clone()
}

fn count(select: impl FnOnce(&mut MetricsSnapshot) -> &mut BTreeMap<String, u64>, key: &str) {
    let mut counts = COUNTS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    *select(&mut counts).entry(key.to_owned()).or_insert(0) += 1;
}

fn sink() -> Arc<dyn RecorderMetrics> {
    SINK.read()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .clone()
}

/// Counts an event that was not recorded and tells the sink.
pub fn record_dropped_event(reason: &str) {
    count(|c| &mut c.dropped_events, reason);
    sink().record_dropped_event(reason);
}

/// Counts a policy-triggered detach and tells the sink.
pub fn record_detach(reason: &str) {
    count(|c| &mut c.detaches, reason);
    sink().record_detach(reason);
}

/// Counts a panic caught at the FFI boundary and tells the sink.
pub fn record_panic(label: &str) {
    count(|c| &mut c.panics, label);
    sink().record_panic(label);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Collector(Mutex<Vec<String>>);

    impl RecorderMetrics for Collector {
        fn record_detach(&self, reason: &str) {
            self.0.lock().unwrap().push(format!("detach:{reason}"));
        }
        fn record_panic(&self, label: &str) {
            self.0.lock().unwrap().push(format!("panic:{label}"));
        }
    }

    #[test]
    fn calls_are_counted_and_forwarded_to_the_installed_sink() {
        let collector = Arc::new(Collector::default());
        install(collector.clone());
        record_detach("unit-test-detach");
        record_panic("unit-test-panic");
        record_dropped_event("unit-test-drop");
        install(Arc::new(NoopMetrics));
        record_detach("unit-test-detach");

        assert_eq!(
            *collector.0.lock().unwrap(),
            vec![
                "detach:unit-test-detach".to_owned(),
                "panic:unit-test-panic".to_owned()
            ]
        );
        let counts = snapshot();
        assert_eq!(counts.detaches.get("unit-test-detach"), Some(&2));
        assert_eq!(counts.panics.get("unit-test-panic"), Some(&1));
        assert_eq!(counts.dropped_events.get("unit-test-drop"), Some(&1));
    }
}
