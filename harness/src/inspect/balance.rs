//! Call/Return balance per thread, following `ThreadStart`/`ThreadSwitch`.

use std::collections::BTreeMap;

use runtime_tracing::TraceLowLevelEvent;

/// Counts of a loaded event stream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Balance {
    /// Number of events.
    pub events: usize,
    /// Number of `Call` events.
    pub calls: usize,
    /// Number of threads seen (the implicit first thread included).
    pub threads: usize,
    /// `Call` events per thread that made any, by thread id; `None` is the
    /// implicit thread of events before the first `ThreadStart`/`ThreadSwitch`.
    pub calls_per_thread: BTreeMap<Option<u64>, usize>,
}

/// Checks that every thread's calls and returns balance and that no thread
/// returns more often than it called; `Err` says where it first breaks.
pub fn check(events: &[TraceLowLevelEvent]) -> Result<Balance, String> {
    let mut depth: BTreeMap<Option<u64>, i64> = BTreeMap::new();
    let mut calls_per_thread: BTreeMap<Option<u64>, usize> = BTreeMap::new();
    let mut current = None;
    for (position, event) in events.iter().enumerate() {
        match event {
            TraceLowLevelEvent::ThreadStart(id) | TraceLowLevelEvent::ThreadSwitch(id) => {
                current = Some(id.0);
                depth.entry(current).or_insert(0);
            }
            TraceLowLevelEvent::Call(_) => {
                *calls_per_thread.entry(current).or_insert(0) += 1;
                *depth.entry(current).or_insert(0) += 1;
            }
            TraceLowLevelEvent::Return(_) => {
                let entry = depth.entry(current).or_insert(0);
                *entry -= 1;
                if *entry < 0 {
                    return Err(format!(
                        "event #{position}: Return without a matching Call on thread {}",
                        thread_name(current)
                    ));
                }
            }
            _ => {}
        }
    }
    let open: Vec<String> = depth
        .iter()
        .filter(|(_, open)| **open != 0)
        .map(|(thread, open)| {
            format!(
                "thread {} has {open} call(s) without Return",
                thread_name(*thread)
            )
        })
        .collect();
    if !open.is_empty() {
        return Err(open.join("; "));
    }
    Ok(Balance {
        events: events.len(),
        calls: calls_per_thread.values().sum(),
        threads: depth.len().max(usize::from(!events.is_empty())),
        calls_per_thread,
    })
}

fn thread_name(id: Option<u64>) -> String {
    match id {
        Some(id) => id.to_string(),
        None => "(first)".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use runtime_tracing::{CallRecord, FunctionId, ReturnRecord, ThreadId, TypeId, ValueRecord};

    use super::*;

    fn call() -> TraceLowLevelEvent {
        TraceLowLevelEvent::Call(CallRecord {
            function_id: FunctionId(0),
            args: vec![],
        })
    }

    fn ret() -> TraceLowLevelEvent {
        TraceLowLevelEvent::Return(ReturnRecord {
            return_value: ValueRecord::None { type_id: TypeId(0) },
        })
    }

    #[test]
    fn balanced_threads_pass() {
        let events = vec![
            TraceLowLevelEvent::ThreadStart(ThreadId(1)),
            call(),
            TraceLowLevelEvent::ThreadStart(ThreadId(2)),
            call(),
            ret(),
            TraceLowLevelEvent::ThreadSwitch(ThreadId(1)),
            ret(),
        ];
        assert_eq!(
            check(&events),
            Ok(Balance {
                events: 7,
                calls: 2,
                threads: 2,
                calls_per_thread: BTreeMap::from([(Some(1), 1), (Some(2), 1)]),
            })
        );
    }

    #[test]
    fn a_call_left_open_on_one_thread_is_reported() {
        let events = vec![
            TraceLowLevelEvent::ThreadStart(ThreadId(1)),
            call(),
            TraceLowLevelEvent::ThreadStart(ThreadId(2)),
            call(),
            ret(),
        ];
        assert_eq!(
            check(&events),
            Err("thread 1 has 1 call(s) without Return".to_string())
        );
    }

    #[test]
    fn a_return_on_the_wrong_thread_is_reported() {
        let events = vec![call(), TraceLowLevelEvent::ThreadSwitch(ThreadId(2)), ret()];
        let error = check(&events).err().unwrap_or_default();
        assert!(
            error.contains("Return without a matching Call on thread 2"),
            "{error}"
        );
    }

    #[test]
    fn calls_before_the_first_thread_event_count_for_the_implicit_thread() {
        let events = vec![call(), ret(), TraceLowLevelEvent::ThreadStart(ThreadId(4))];
        let balance = check(&events).unwrap_or_default();
        assert_eq!(balance.calls_per_thread, BTreeMap::from([(None, 1)]));
        assert_eq!(balance.threads, 2);
        assert_eq!(
            check(&[call()]),
            Err("thread (first) has 1 call(s) without Return".to_string())
        );
    }
}
