//! Trust nothing it reads (#15): a cloned repository, an agent or a stray process
//! must not make git agentos touch anything outside its own state, nor lie about
//! what it did. One file per kind of case; each test reproduces one case of the
//! issue.
mod cancel;
mod door;
