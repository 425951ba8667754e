//! Starting an agent under the sandbox against starting it without: the shim
//! with Landlock (11 writable paths, more than a Claude Code task's 8: worktree,
//! its git folder, the private folder, the vault, four devices) and without,
//! each running `/bin/true`, taking turns; then a whole task with an instant
//! agent, sandboxed and with `sandbox = "off"`, for scale.
use crate::common::{median, ms, timed, BIN};
use crate::{fixtures, runs, Row};
use std::path::Path;
use std::process::Command;

/// The shim running `/bin/true`, confined to `writable` when given.
fn shim(writable: Option<&[String]>) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.arg("agent-shim");
    if let Some(paths) = writable {
        cmd.arg("--sandbox");
        for p in paths {
            cmd.args(["--write", p]);
        }
    }
    cmd.args(["--", "/bin/true"]);
    cmd
}

pub fn rows(scratch: &Path) -> Vec<Row> {
    let mut writable: Vec<String> = ["worktree", "gitdir", "private", "vault"]
        .iter()
        .map(|d| {
            let p = scratch.join(d);
            std::fs::create_dir_all(&p).expect("mkdir");
            p.display().to_string()
        })
        .collect();
    writable.extend(
        [
            "/dev/null",
            "/dev/zero",
            "/dev/full",
            "/dev/tty",
            "/dev/ptmx",
            "/dev/pts",
            "/dev/urandom",
        ]
        .map(String::from),
    );
    let (mut with, mut without) = (Vec::new(), Vec::new());
    for _ in 0..runs() * 20 {
        with.push(timed(&mut shim(Some(&writable))));
        without.push(timed(&mut shim(None)));
    }
    let (ours, base) = (ms(median(with)), ms(median(without)));
    let mut out = vec![Row {
        what:
            "agent start under the sandbox (shim + Landlock, 11 writable paths, runs `/bin/true`)"
                .into(),
        measured: format!("{ours:.2} ms"),
        baseline: format!("the same shim without it: {base:.2} ms"),
        ratio: Some(ours / base),
        goal: "under 2 ms more".into(),
        met: ours - base < 2.0,
    }];

    let repo = fixtures::repo(&scratch.join("repo"), 1000);
    let agent = fixtures::instant_agent(&scratch.join("agent.sh"), "echo x >> README.md");
    let toml = repo.join(".agentos/agents/default/agent.toml");
    let (mut on, mut off) = (Vec::new(), Vec::new());
    for i in 0..=runs() {
        for (mode, samples) in [("on", &mut on), ("off", &mut off)] {
            std::fs::write(&toml, format!("sandbox = \"{mode}\"\n")).expect("agent.toml");
            let id = format!("task-{mode}-{i}");
            fixtures::drop_task(&repo, &id, "README.md");
            let took = timed(
                Command::new(BIN)
                    .args(["run", "--no-pr"])
                    .env("AGENTOS_AGENT_CMD", &agent)
                    .current_dir(&repo),
            );
            assert!(
                repo.join(format!(".agentos/done/{id}.md")).exists(),
                "{id} done"
            );
            if i > 0 {
                samples.push(took);
            }
        }
    }
    let (ours, base) = (ms(median(on)), ms(median(off)));
    out.push(Row {
        what: "whole task, instant agent, sandboxed (1,000-file repo)".into(),
        measured: format!("{ours:.1} ms"),
        baseline: format!("`sandbox = \"off\"`: {base:.1} ms"),
        ratio: Some(ours / base),
        goal: "— (information)".into(),
        met: true,
    });
    out
}
