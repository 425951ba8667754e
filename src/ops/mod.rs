//! The operations a person starts on the queue, shared by the command line and
//! the board so both do exactly the same thing: queue a new task ([`add`]),
//! queue a failed one again ([`retry`]) and cancel one ([`cancel`], which lives
//! with the dispatcher because it may have to stop a running agent). Each moves
//! task files only through `queue`.
pub mod add;
mod retry;

pub use crate::dispatch::cancel::{cancel, Cancelled};
pub use add::{add, body_text, AddError, NewTask};
pub use retry::retry;
