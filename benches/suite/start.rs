//! Start-up: `git agentos list` in an empty repository next to `git status` in
//! the same repository, by CPU time (user + system, from the kernel's account of
//! each waited-for child), which start-up costs such as loading a CA bundle show
//! in and a busy machine's scheduling does not.
use crate::common::{git, median};
use crate::{fixtures, runs, Row};
use nix::sys::resource::{getrusage, UsageWho};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

/// CPU time of running `cmd` to its end (it must succeed).
pub fn cpu(cmd: &mut Command) -> Duration {
    let used = || {
        let u = getrusage(UsageWho::RUSAGE_CHILDREN).expect("getrusage");
        let tv = |t: nix::sys::time::TimeVal| {
            Duration::from_secs(t.tv_sec() as u64) + Duration::from_micros(t.tv_usec() as u64)
        };
        tv(u.user_time()) + tv(u.system_time())
    };
    let before = used();
    let status = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("spawn");
    assert!(status.success(), "{cmd:?} failed");
    used() - before
}

pub fn rows(scratch: &Path) -> Vec<Row> {
    let repo = scratch.join("empty");
    std::fs::create_dir_all(&repo).expect("mkdir");
    git(&repo, &["init", "-q", "-b", "main"]);
    git(&repo, &["commit", "-q", "--allow-empty", "-m", "init"]);
    fixtures::agentos(&repo, &["init"]);
    let (mut ours, mut floor) = (Vec::new(), Vec::new());
    for _ in 0..runs().max(30) {
        ours.push(cpu(Command::new(crate::common::BIN)
            .arg("list")
            .current_dir(&repo)));
        floor.push(cpu(Command::new("git").arg("status").current_dir(&repo)));
    }
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    vec![Row::ratio(
        "`git agentos list` in an empty repository, CPU time",
        ms(median(ours)),
        "`git status`, CPU time",
        ms(median(floor)),
        3.0,
    )]
}
