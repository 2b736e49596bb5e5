//! Closing a trace whose process died: what the writer would have written at
//! stop. Every thread's open frames get a `Return` of `None`, threads other
//! than the first get `ThreadExit`, the first thread (the one that started
//! recording, whose `<toplevel>` call is open) is closed last.

use runtime_tracing::{ReturnRecord, ThreadId, TraceLowLevelEvent, NONE_VALUE};

/// One thread's open calls.
#[derive(Debug)]
struct Open {
    id: Option<u64>,
    depth: usize,
    exited: bool,
}

/// The events that close `events`: balancing returns and thread exits.
pub fn closing_events(events: &[TraceLowLevelEvent]) -> Vec<TraceLowLevelEvent> {
    // Events before any ThreadStart belong to an unnamed first thread.
    let mut threads = vec![Open {
        id: None,
        depth: 0,
        exited: false,
    }];
    let mut current = 0;
    for event in events {
        match event {
            TraceLowLevelEvent::ThreadStart(ThreadId(id))
            | TraceLowLevelEvent::ThreadSwitch(ThreadId(id)) => {
                current = match threads.iter().position(|open| open.id == Some(*id)) {
                    Some(index) => index,
                    None if threads.len() == 1
                        && threads[0].id.is_none()
                        && threads[0].depth == 0 =>
                    {
                        threads[0].id = Some(*id);
                        0
                    }
                    None => {
                        threads.push(Open {
                            id: Some(*id),
                            depth: 0,
                            exited: false,
                        });
                        threads.len() - 1
                    }
                };
            }
            TraceLowLevelEvent::ThreadExit(ThreadId(id)) => {
                if let Some(open) = threads.iter_mut().find(|open| open.id == Some(*id)) {
                    open.exited = true;
                }
            }
            TraceLowLevelEvent::Call(_) => threads[current].depth += 1,
            TraceLowLevelEvent::Return(_) => {
                threads[current].depth = threads[current].depth.saturating_sub(1);
            }
            _ => {}
        }
    }
    let mut closing = Vec::new();
    for index in (1..threads.len()).chain(std::iter::once(0)) {
        let open = &threads[index];
        if open.depth == 0 && (index == 0 || open.exited) {
            continue;
        }
        if index != current {
            if let Some(id) = open.id {
                closing.push(TraceLowLevelEvent::ThreadSwitch(ThreadId(id)));
            }
            current = index;
        }
        for _ in 0..open.depth {
            closing.push(TraceLowLevelEvent::Return(ReturnRecord {
                return_value: NONE_VALUE,
            }));
        }
        if let (Some(id), false) = (open.id, index == 0 || open.exited) {
            closing.push(TraceLowLevelEvent::ThreadExit(ThreadId(id)));
        }
    }
    closing
}

#[cfg(test)]
mod tests {
    use super::*;
    use runtime_tracing::{CallRecord, FunctionId};

    fn call() -> TraceLowLevelEvent {
        TraceLowLevelEvent::Call(CallRecord {
            function_id: FunctionId(0),
            args: Vec::new(),
        })
    }

    fn ret() -> TraceLowLevelEvent {
        TraceLowLevelEvent::Return(ReturnRecord {
            return_value: NONE_VALUE,
        })
    }

    fn start(id: u64) -> TraceLowLevelEvent {
        TraceLowLevelEvent::ThreadStart(ThreadId(id))
    }

    fn switch(id: u64) -> TraceLowLevelEvent {
        TraceLowLevelEvent::ThreadSwitch(ThreadId(id))
    }

    fn names(events: &[TraceLowLevelEvent]) -> Vec<String> {
        events
            .iter()
            .map(|event| match event {
                TraceLowLevelEvent::ThreadSwitch(ThreadId(id)) => format!("switch {id}"),
                TraceLowLevelEvent::ThreadExit(ThreadId(id)) => format!("exit {id}"),
                TraceLowLevelEvent::Return(_) => "return".to_string(),
                other => format!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn open_frames_of_every_thread_are_returned_first_thread_last() {
        let events = [start(1), call(), call(), start(2), call(), switch(1), ret()];
        assert_eq!(
            names(&closing_events(&events)),
            ["switch 2", "return", "exit 2", "switch 1", "return"]
        );
    }

    #[test]
    fn a_balanced_trace_gets_nothing_and_a_finished_thread_no_second_exit() {
        let events = [
            start(1),
            call(),
            start(2),
            call(),
            ret(),
            TraceLowLevelEvent::ThreadExit(ThreadId(2)),
            switch(1),
            ret(),
        ];
        assert!(closing_events(&events).is_empty());
        assert!(closing_events(&[]).is_empty());
    }

    #[test]
    fn a_thread_that_never_returned_to_the_first_is_closed_in_place() {
        let events = [start(7), call(), start(8), call(), call()];
        assert_eq!(
            names(&closing_events(&events)),
            ["return", "return", "exit 8", "switch 7", "return"]
        );
    }
}
