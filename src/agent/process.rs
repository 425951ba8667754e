//! Process groups: ending an agent and everything it started, and finding out
//! whether a recorded group still runs a given task.
use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use std::process::Command;
use std::time::{Duration, Instant};

/// Start `cmd`'s child with no signals blocked. The dispatcher and the shim block
/// SIGINT/SIGTERM/SIGHUP in every thread (a dedicated thread receives them), and a
/// child inherits its parent's mask across fork and exec: without this, an agent
/// could never be stopped by SIGTERM.
#[allow(unsafe_code)]
pub fn unblock_signals_in_child(cmd: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: the closure runs between fork and exec and only calls
    // pthread_sigmask, which is async-signal-safe; it allocates nothing.
    unsafe {
        cmd.pre_exec(|| {
            nix::sys::signal::SigSet::empty()
                .thread_set_mask()
                .map_err(std::io::Error::from)
        });
    }
}

/// True while any process is in the group.
pub fn group_alive(pgid: i32) -> bool {
    pgid > 1 && killpg(Pid::from_raw(pgid), None).is_ok()
}

/// How much longer than its grace the dispatcher waits for a shim to finish
/// ending its command's processes before it kills the group itself (a SIGKILL
/// to the shim mid-way would leave the processes that left the group behind).
pub const SHIM_MARGIN: Duration = Duration::from_secs(2);

/// SIGTERM to the whole group (its shim ends every process below it within
/// `grace`), then SIGKILL to whatever is left after `grace` and [`SHIM_MARGIN`].
pub fn terminate_group(pgid: i32, grace: Duration) {
    if pgid <= 1 {
        return;
    }
    let group = Pid::from_raw(pgid);
    if killpg(group, Signal::SIGTERM).is_err() {
        return;
    }
    let deadline = Instant::now() + grace + SHIM_MARGIN;
    while Instant::now() < deadline {
        if !group_has_live_members(pgid) {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = killpg(group, Signal::SIGKILL);
}

/// SIGKILL to the whole group, at once.
pub fn kill_group(pgid: i32) {
    if pgid > 1 {
        let _ = killpg(Pid::from_raw(pgid), Signal::SIGKILL);
    }
}

/// Members of the group that are not zombies (a zombie waits only to be reaped).
fn group_has_live_members(pgid: i32) -> bool {
    processes_in_group(pgid).iter().any(|pid| !is_zombie(*pid))
}

fn is_zombie(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            stat.rsplit_once(')')
                .map(|(_, rest)| rest.trim_start().starts_with('Z'))
        })
        .unwrap_or(false)
}

/// Every process's pid, parent and process group (from /proc).
fn process_table() -> Vec<(i32, i32, i32)> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            // Fields after the command name: state ppid pgrp …
            let mut rest = stat.rsplit_once(')')?.1.split_whitespace().skip(1);
            let ppid = rest.next()?.parse().ok()?;
            let pgrp = rest.next()?.parse().ok()?;
            Some((pid, ppid, pgrp))
        })
        .collect()
}

/// The pids whose process group is `pgid`.
pub fn processes_in_group(pgid: i32) -> Vec<i32> {
    process_table()
        .into_iter()
        .filter(|(_, _, pgrp)| *pgrp == pgid)
        .map(|(pid, _, _)| pid)
        .collect()
}

/// Every process below `root`: its children, theirs, and so on.
pub fn descendants(root: i32) -> Vec<i32> {
    let table = process_table();
    let mut found = vec![root];
    let mut i = 0;
    while i < found.len() {
        let parent = found[i];
        let children: Vec<i32> = table
            .iter()
            .filter(|(pid, ppid, _)| *ppid == parent && !found.contains(pid))
            .map(|(pid, _, _)| *pid)
            .collect();
        found.extend(children);
        i += 1;
    }
    found.remove(0);
    found
}

/// The processes whose working directory is `dir` or below it (those this user
/// may look at): a worktree is recycled only when none is left.
pub fn processes_in(dir: &std::path::Path) -> Vec<i32> {
    let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    process_table()
        .into_iter()
        .map(|(pid, _, _)| pid)
        .filter(|pid| {
            std::fs::read_link(format!("/proc/{pid}/cwd")).is_ok_and(|cwd| cwd.starts_with(&dir))
        })
        .collect()
}

/// End the process group an earlier attempt recorded, if it still runs the same
/// task. A pid reused by an unrelated process is never touched: each member must
/// carry `AGENTOS_TASK_ID=<task>` in its environment.
pub fn end_stray_group(pgid: i32, task_id: &str) -> bool {
    if !group_runs_task(pgid, task_id) {
        return false;
    }
    // The shim of that attempt ends what it started (its dispatcher's death
    // already told it to); it gets the time to, then the group is killed.
    terminate_group(pgid, Duration::from_secs(3));
    let deadline = Instant::now() + Duration::from_secs(5);
    while group_has_live_members(pgid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    true
}

/// True when a process of the group carries `AGENTOS_TASK_ID=<task>`: the group
/// is that task's agent, not an unrelated one that reused the number.
fn group_runs_task(pgid: i32, task_id: &str) -> bool {
    let marker = format!("AGENTOS_TASK_ID={task_id}");
    processes_in_group(pgid).into_iter().any(|pid| {
        std::fs::read(format!("/proc/{pid}/environ"))
            .map(|env| env.split(|b| *b == 0).any(|kv| kv == marker.as_bytes()))
            .unwrap_or(false)
    })
}

/// SIGTERM (then SIGKILL) to a task's agent group, if the group still runs that task.
pub fn terminate_group_of_task(pgid: i32, task_id: &str) -> bool {
    let ours = group_runs_task(pgid, task_id);
    if ours {
        terminate_group(pgid, Duration::from_secs(3));
    }
    ours
}
