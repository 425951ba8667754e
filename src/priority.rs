//! Work nobody waits for (a worktree prepared ahead while the dispatcher is
//! idle) runs at a low priority: the lowest CPU priority (nice 19) and the
//! lowest best-effort I/O level, for the calling thread and every process it
//! starts afterwards (Linux keeps both per thread, and a child inherits them).
//! Best-effort rather than the idle I/O class: a task may come to wait for
//! this work, and idle-class I/O can wait indefinitely behind other I/O.

/// Lower the calling thread's priority (see the module). A failure changes nothing.
#[allow(unsafe_code)]
pub fn lower_this_thread() {
    const IOPRIO_WHO_PROCESS: nix::libc::c_int = 1;
    const IOPRIO_CLASS_BE: nix::libc::c_int = 2;
    const LOWEST_LEVEL: nix::libc::c_int = 7;
    let tid = nix::unistd::gettid().as_raw();
    // SAFETY: both calls take plain integers and change only the scheduling of
    // this thread; neither touches memory.
    unsafe {
        nix::libc::setpriority(nix::libc::PRIO_PROCESS, tid as nix::libc::id_t, 19);
        nix::libc::syscall(
            nix::libc::SYS_ioprio_set,
            IOPRIO_WHO_PROCESS,
            tid,
            (IOPRIO_CLASS_BE << 13) | LOWEST_LEVEL,
        );
    }
}
