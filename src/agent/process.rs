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

/// SIGTERM to the whole group, then SIGKILL to whatever is left after `grace`.
pub fn terminate_group(pgid: i32, grace: Duration) {
    if pgid <= 1 {
        return;
    }
    let group = Pid::from_raw(pgid);
    if killpg(group, Signal::SIGTERM).is_err() {
        return;
    }
    let deadline = Instant::now() + grace;
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

/// The pids whose process group is `pgid` (from /proc).
pub fn processes_in_group(pgid: i32) -> Vec<i32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|stat| {
                    // Fields after the command name: state ppid pgrp …
                    let rest = stat.rsplit_once(')')?.1;
                    rest.split_whitespace().nth(2)?.parse::<i32>().ok()
                })
                == Some(pgid)
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
    kill_group(pgid);
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
