//! The one error type every command returns, and its mapping to exit codes.
use std::fmt;

/// What kind of failure this is; decides the process exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// A task failed or verification rejected the change (exit 1).
    Failed,
    /// Bad usage or invalid input (exit 2).
    Invalid,
    /// The environment is not usable: not a git repo, lock held, agent CLI missing (exit 3).
    Environment,
}

impl ErrorKind {
    pub fn exit_code(self) -> i32 {
        match self {
            ErrorKind::Failed => 1,
            ErrorKind::Invalid => 2,
            ErrorKind::Environment => 3,
        }
    }
}

/// An error with a message that says what happened and to what, plus hints on what to do.
#[derive(Debug)]
pub struct CommandError {
    pub kind: ErrorKind,
    pub message: String,
    pub hints: Vec<String>,
}

impl CommandError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        CommandError {
            kind,
            message: message.into(),
            hints: Vec::new(),
        }
    }
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Invalid, message)
    }
    pub fn env(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Environment, message)
    }
    pub fn failed(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Failed, message)
    }
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hints.push(hint.into());
        self
    }
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.message)
    }
}

impl std::error::Error for CommandError {}

/// An I/O error on a named path becomes an environment error that names the path.
pub fn io_error(action: &str, path: &std::path::Path, err: std::io::Error) -> CommandError {
    CommandError::env(format!("cannot {action} `{}`: {err}", path.display()))
}

pub type CmdResult<T = ()> = Result<T, CommandError>;
