//! 07: secrets in the environment. The dispatcher's own `/proc/<pid>/environ`
//! shows none (tests/sandbox.rs reads it from inside); the dispatcher's pid is no
//! longer handed to agents; a token the process that started git agentos still
//! holds (the `git` of `git agentos run`) cannot be wiped, and is said.
use crate::publish::TOKEN;
use crate::support::{FakeAgent, Run, TestRepo, BIN};

#[test]
fn a_token_its_parent_holds_is_named_and_no_pid_is_advertised() {
    let repo = TestRepo::initialised();
    let bin = repo.dir.path().join("bin");
    std::fs::create_dir_all(&bin).expect("mkdir");
    std::os::unix::fs::symlink(BIN, bin.join("git-agentos")).expect("link");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let agent = FakeAgent::new(&repo)
        .runs(r#"env > "$AGENTOS_TASK_ID.txt""#)
        .build();
    repo.agentos(&["add", "Env", "-t", "env.txt", "--id", "env"])
        .ok();
    // `git agentos run`: git runs git-agentos as its child, and keeps its own
    // environment, the token included, while it waits.
    let mut cmd = std::process::Command::new("git");
    crate::support::seal(&mut cmd, &repo.home);
    let out = cmd
        .args(["agentos", "run", "--no-pr"])
        .current_dir(repo.root())
        .env("PATH", &path)
        .env("GITHUB_TOKEN", TOKEN)
        .env("AGENTOS_AGENT_CMD", &agent)
        .output()
        .expect("git agentos run");
    let run = Run::from(out)
        .ok()
        .stderr_has("warning: the GitHub token is also in the environment of process")
        .stderr_has("(`git`), which started git agentos");
    assert!(!run.stderr.contains(TOKEN) && !run.stdout.contains(TOKEN));
    let env = repo.git(&["show", "agentos/env:env.txt"]);
    assert!(!env.contains("AGENTOS_DISPATCHER_PID"), "{env}");
    assert!(!env.contains(TOKEN), "{env}");
    // doctor says the same.
    let mut cmd = std::process::Command::new("git");
    crate::support::seal(&mut cmd, &repo.home);
    let out = cmd
        .args(["agentos", "doctor"])
        .current_dir(repo.root())
        .env("PATH", &path)
        .env("GITHUB_TOKEN", TOKEN)
        .output()
        .expect("git agentos doctor");
    let doctor = Run::from(out);
    assert!(
        doctor
            .stdout
            .contains("warn  token       the GitHub token is also in the environment of process"),
        "{}",
        doctor.stdout
    );
    // Given to git-agentos alone, no ancestor holds it: no warning.
    repo.agentos(&["add", "Again", "-t", "again.txt", "--id", "again"])
        .ok();
    let quiet = repo.agentos_env(
        &["run", "--no-pr"],
        &[("GITHUB_TOKEN", TOKEN), ("AGENTOS_AGENT_CMD", &agent)],
    );
    assert!(
        !quiet.stderr.contains("warning: the GitHub token"),
        "{}",
        quiet.stderr
    );
}
