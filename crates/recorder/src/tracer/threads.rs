//! Per-thread attribution: `ThreadStart` before a thread's first event,
//! `ThreadSwitch` before an event of another thread than the last one written,
//! each thread's stack of open frames (for balanced returns) and the step it
//! is on (for attributing its IO).

use recorder_errors::RecorderResult;
use runtime_tracing::{Line, PathId, ThreadId, TraceLowLevelEvent};

use crate::stdio::current_thread_id;
use crate::writer::TraceWriter;

/// Where a thread is: the path and line of its last `Step`.
pub type StepSite = (PathId, Line);

/// A frame whose `Call` was written and whose `Return` was not.
#[derive(Debug, Clone, Copy)]
pub struct OpenFrame {
    /// The frame's code object (address).
    pub code: usize,
    /// The caller's step when the frame was entered, current again when it returns.
    pub caller_step: Option<StepSite>,
}

/// One thread seen by the recorder.
#[derive(Debug)]
pub struct ThreadState {
    /// `threading.get_native_id()` of the thread.
    pub id: u64,
    /// Its open frames, innermost last.
    pub stack: Vec<OpenFrame>,
    /// The step it is on: the last `Step` written for its innermost recorded frame.
    pub step: Option<StepSite>,
}

impl ThreadState {
    fn new(id: u64) -> ThreadState {
        ThreadState {
            id,
            stack: Vec::new(),
            step: None,
        }
    }

    /// Opens a frame for `code`; the caller's step comes back when it closes.
    pub fn push_frame(&mut self, code: usize) {
        self.stack.push(OpenFrame {
            code,
            caller_step: self.step,
        });
    }

    /// Closes the innermost frame, making the caller's step current again.
    pub fn pop_frame(&mut self) {
        if let Some(frame) = self.stack.pop() {
            self.step = frame.caller_step;
        }
    }
}

/// Every thread seen, and which one the last event belonged to.
#[derive(Debug)]
pub struct Threads {
    states: Vec<ThreadState>,
    current: usize,
}

impl Threads {
    /// Starts with the calling thread as the current one, writing its `ThreadStart`.
    pub fn start(writer: &mut TraceWriter) -> RecorderResult<Threads> {
        let id = current_thread_id();
        writer.emit(&TraceLowLevelEvent::ThreadStart(ThreadId(id)))?;
        Ok(Threads {
            states: vec![ThreadState::new(id)],
            current: 0,
        })
    }

    /// Makes the calling thread current, writing `ThreadStart`/`ThreadSwitch` as
    /// needed, and returns its state.
    pub fn enter(&mut self, writer: &mut TraceWriter) -> RecorderResult<&mut ThreadState> {
        self.enter_id(current_thread_id(), writer)
    }

    /// Makes thread `id` current, writing `ThreadStart`/`ThreadSwitch` as
    /// needed, and returns its state.
    pub fn enter_id(
        &mut self,
        id: u64,
        writer: &mut TraceWriter,
    ) -> RecorderResult<&mut ThreadState> {
        if self.states[self.current].id != id {
            match self.states.iter().position(|state| state.id == id) {
                Some(index) => {
                    writer.emit(&TraceLowLevelEvent::ThreadSwitch(ThreadId(id)))?;
                    self.current = index;
                }
                None => {
                    writer.emit(&TraceLowLevelEvent::ThreadStart(ThreadId(id)))?;
                    self.states.push(ThreadState::new(id));
                    self.current = self.states.len() - 1;
                }
            }
        }
        Ok(&mut self.states[self.current])
    }

    /// The thread the last event was written for.
    pub fn current(&mut self) -> &mut ThreadState {
        &mut self.states[self.current]
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
