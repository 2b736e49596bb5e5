//! Per-thread attribution: `ThreadStart` before a thread's first event,
//! `ThreadSwitch` before an event of another thread than the last one written,
//! and each thread's stack of open frames (for balanced returns).

use std::cell::Cell;

use recorder_errors::RecorderResult;
use runtime_tracing::{ThreadId, TraceLowLevelEvent};

use crate::writer::TraceWriter;

/// One thread seen by the recorder.
#[derive(Debug)]
pub struct ThreadState {
    /// `threading.get_native_id()` of the thread.
    pub id: u64,
    /// Code objects (addresses) of the frames whose `Call` was written and whose `Return` was not.
    pub stack: Vec<usize>,
}

/// Every thread seen, and which one the last event belonged to.
#[derive(Debug)]
pub struct Threads {
    states: Vec<ThreadState>,
    current: usize,
}

thread_local! {
    /// The calling thread's native id, read once per thread.
    static NATIVE_ID: Cell<u64> = const { Cell::new(0) };
}

/// The calling thread's native id (`threading.get_native_id()`, the kernel's
/// thread id). Unlike `threading.get_ident()` it is not reused by the next
/// thread as soon as one ends, so short-lived threads stay apart in the trace.
pub fn current_thread_id() -> u64 {
    NATIVE_ID.with(|cell| {
        let cached = cell.get();
        if cached != 0 {
            return cached;
        }
        // SAFETY: gettid has no preconditions.
        let id = u64::try_from(unsafe { libc::gettid() }).unwrap_or_default();
        cell.set(id);
        id
    })
}

impl Threads {
    /// Starts with the calling thread as the current one, writing its `ThreadStart`.
    pub fn start(writer: &mut TraceWriter) -> RecorderResult<Threads> {
        let id = current_thread_id();
        writer.emit(&TraceLowLevelEvent::ThreadStart(ThreadId(id)))?;
        Ok(Threads {
            states: vec![ThreadState {
                id,
                stack: Vec::new(),
            }],
            current: 0,
        })
    }

    /// Makes the calling thread current, writing `ThreadStart`/`ThreadSwitch` as
    /// needed, and returns its state.
    pub fn enter(&mut self, writer: &mut TraceWriter) -> RecorderResult<&mut ThreadState> {
        let id = current_thread_id();
        if self.states[self.current].id != id {
            match self.states.iter().position(|state| state.id == id) {
                Some(index) => {
                    writer.emit(&TraceLowLevelEvent::ThreadSwitch(ThreadId(id)))?;
                    self.current = index;
                }
                None => {
                    writer.emit(&TraceLowLevelEvent::ThreadStart(ThreadId(id)))?;
                    self.states.push(ThreadState {
                        id,
                        stack: Vec::new(),
                    });
                    self.current = self.states.len() - 1;
                }
            }
        }
        Ok(&mut self.states[self.current])
    }

    /// The calling thread's state, when it has one, without writing anything.
    pub fn peek(&mut self) -> Option<&mut ThreadState> {
        let id = current_thread_id();
        if self.states[self.current].id == id {
            return Some(&mut self.states[self.current]);
        }
        self.states.iter_mut().find(|state| state.id == id)
    }

    /// Closes every thread: each one's open frames get a `Return` of `None`,
    /// threads other than the first get `ThreadExit`; the first (the one that
    /// started recording) is closed last and left current.
    pub fn close_all(&mut self, writer: &mut TraceWriter) -> RecorderResult<()> {
        let none = runtime_tracing::NONE_VALUE;
        for index in (1..self.states.len()).chain(std::iter::once(0)) {
            let id = self.states[index].id;
            if self.current != index {
                writer.emit(&TraceLowLevelEvent::ThreadSwitch(ThreadId(id)))?;
                self.current = index;
            }
            while self.states[index].stack.pop().is_some() {
                writer.emit(&TraceLowLevelEvent::Return(runtime_tracing::ReturnRecord {
                    return_value: none.clone(),
                }))?;
            }
            if index != 0 {
                writer.emit(&TraceLowLevelEvent::ThreadExit(ThreadId(id)))?;
            }
        }
        Ok(())
    }
}
