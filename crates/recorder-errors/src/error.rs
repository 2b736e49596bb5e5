//! `RecorderError`: kind, code, message, ordered context and an optional source.

use std::error::Error as StdError;
use std::fmt;

use crate::{ErrorCode, ErrorKind};

/// The boxed cause of an error.
pub type BoxedSource = Box<dyn StdError + Send + Sync + 'static>;

/// The one error type of the recorder.
#[derive(Debug)]
pub struct RecorderError {
    kind: ErrorKind,
    code: ErrorCode,
    message: String,
    context: Vec<(String, String)>,
    source: Option<BoxedSource>,
}

/// A result whose error is a [`RecorderError`].
pub type RecorderResult<T> = Result<T, RecorderError>;

impl RecorderError {
    /// A new error of the given kind and code.
    pub fn new(kind: ErrorKind, code: ErrorCode, message: impl Into<String>) -> Self {
        RecorderError {
            kind,
            code,
            message: message.into(),
            context: Vec::new(),
            source: None,
        }
    }

    /// A new error whose kind is the code's default kind.
    pub fn from_code(code: ErrorCode, message: impl Into<String>) -> Self {
        RecorderError::new(code.default_kind(), code, message)
    }

    /// Adds (or replaces) one context entry, keeping insertion order.
    pub fn with_context(mut self, key: impl Into<String>, value: impl ToString) -> Self {
        self.set_context(key, value);
        self
    }

    /// Adds (or replaces) one context entry in place.
    pub fn set_context(&mut self, key: impl Into<String>, value: impl ToString) {
        let key = key.into();
        let value = value.to_string();
        match self.context.iter_mut().find(|(k, _)| *k == key) {
            Some(entry) => entry.1 = value,
            None => self.context.push((key, value)),
        }
    }

    /// Attaches the underlying cause.
    pub fn with_source(mut self, source: impl Into<BoxedSource>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// The error's kind.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The error's stable code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// The human-readable message, without code or context.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The context entries in insertion order.
    pub fn context(&self) -> &[(String, String)] {
        &self.context
    }

    /// One context value by key.
    pub fn context_value(&self, key: &str) -> Option<&str> {
        self.context
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The exit code of a run aborted by this error.
    pub fn exit_code(&self) -> i32 {
        self.kind.exit_code()
    }
}

impl fmt::Display for RecorderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] {}", self.code, self.message)?;
        if !self.context.is_empty() {
            f.write_str(" (")?;
            for (index, (key, value)) in self.context.iter().enumerate() {
                if index > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{key}={value}")?;
            }
            f.write_str(")")?;
        }
        Ok(())
    }
}

impl StdError for RecorderError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|source| source as &(dyn StdError + 'static))
    }
}
