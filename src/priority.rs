//! Work nobody waits for now (a worktree prepared ahead while the dispatcher
//! is idle, the post-commit hook's job) runs at a low priority: the lowest CPU
//! priority (nice 19) and a low I/O priority, for the calling thread and every
//! process it starts afterwards (Linux keeps both per thread, and a child
//! inherits them).

/// The I/O class the thread takes with nice 19.
#[derive(Debug, Clone, Copy)]
pub enum Io {
    /// The lowest best-effort level: for work a task may come to wait for
    /// (idle-class I/O can wait indefinitely behind other I/O).
    Lowest,
    /// The idle class: for work nobody waits for.
    Idle,
}

/// Lower the calling thread's priority (see the module). A failure changes nothing.
#[allow(unsafe_code)]
pub fn lower_this_thread(io: Io) {
    const IOPRIO_WHO_PROCESS: nix::libc::c_int = 1;
    const IOPRIO_CLASS_BE: nix::libc::c_int = 2;
    const IOPRIO_CLASS_IDLE: nix::libc::c_int = 3;
    const LOWEST_LEVEL: nix::libc::c_int = 7;
    let ioprio = match io {
        Io::Lowest => (IOPRIO_CLASS_BE << 13) | LOWEST_LEVEL,
        Io::Idle => IOPRIO_CLASS_IDLE << 13,
    };
    let tid = nix::unistd::gettid().as_raw();
    // SAFETY: both calls take plain integers and change only the scheduling of
    // this thread; neither touches memory.
    unsafe {
        nix::libc::setpriority(nix::libc::PRIO_PROCESS, tid as nix::libc::id_t, 19);
        nix::libc::syscall(nix::libc::SYS_ioprio_set, IOPRIO_WHO_PROCESS, tid, ioprio);
    }
}
