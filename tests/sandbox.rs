//! The write boundary (issue #14): every route out of the worktree, tried with the
//! `Bash` tool of the real Claude Code CLI against the scripted Messages API,
//! writes nothing outside; legitimate work still succeeds; the token reaches no
//! agent; without Landlock an agent that can run commands does not start; the
//! refs guard catches what an unsandboxed agent does to the repository's refs.
use crate::publish::{with_remote, TOKEN};
use crate::support::messages_api::{MessagesApi, Reply, Turn};
use crate::support::{alive, FakeAgent, TestRepo};
use serde_json::json;
use std::path::Path;
use std::sync::Arc;

/// Claude Code's `Bash` tool running `command`.
fn bash(command: String) -> Reply {
    Reply::Tool {
        name: "Bash".into(),
        input: json!({"command": command, "description": "run it"}),
    }
}

/// A script of `Bash` calls, one per turn, then "Done.".
fn script(commands: Vec<String>) -> MessagesApi {
    MessagesApi::start(Arc::new(move |turn: &Turn| {
        match commands.get(turn.tool_results) {
            Some(command) => bash(command.clone()),
            None => Reply::Text("Done.".into()),
        }
    }))
}

/// Every file and link under `dir` with its content (a link: its target), for
/// "nothing changed" comparisons.
fn contents(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read_dir").flatten() {
            let path = e.path();
            let kind = e.file_type().expect("file type");
            let shown = path.display().to_string();
            if kind.is_symlink() {
                let to = std::fs::read_link(&path).expect("link");
                out.push((shown, format!("-> {}", to.display())));
            } else if kind.is_dir() {
                stack.push(path);
            } else {
                out.push((
                    shown,
                    String::from_utf8_lossy(&std::fs::read(&path).expect("read")).into(),
                ));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn bash_writes_nothing_outside_the_worktree_and_legitimate_work_succeeds() {
    let repo = with_remote();
    let root = repo.root().canonicalize().expect("root");
    let r = root.display().to_string();
    let origin = repo.dir.path().join("remote.git");
    let outside = repo.dir.path().join("outside");
    std::fs::create_dir_all(&outside).expect("mkdir");
    std::fs::write(outside.join("outside.txt"), "outside\n").expect("write");
    std::fs::write(outside.join("movable.txt"), "movable\n").expect("write");
    std::fs::write(repo.home.join(".bashrc"), "# the person's\n").expect("bashrc");
    let o = outside.display().to_string();
    // Claude Code refuses a Bash command that names a path outside its folder
    // before it runs; a script does not show it what it does (as `make` would
    // not), so the escapes are one, and the kernel is what stops them.
    repo.write(
        "tools/escape.sh",
        &format!(
            "echo escaped >> ../../../README.md\n\
             echo escaped >> {r}/README.md\n\
             git -C {r} -c user.name=a -c user.email=a@a commit -q --allow-empty -m escaped\n\
             git -C {r} push -q origin main:refs/heads/pushed-from-agent\n\
             ln -s {o} lnk; echo x > lnk/through-link.txt; rm -f lnk\n\
             ln {o}/outside.txt hard; echo x >> hard; rm -f hard\n\
             mv {o}/movable.txt ./moved.txt; rm -f moved.txt\n\
             truncate -s 0 {o}/outside.txt\n\
             echo x >> ~/.bashrc\n\
             echo x > {r}/.agentos/worktrees/other/evil.txt\n\
             echo x > {r}/.agentos/todo/evil.md; echo x >> {r}/.agentos/todo/queued.md\n\
             echo x >> {r}/.agentos/doing/escape.record.json; echo x > {r}/.agentos/done/evil.md\n\
             true\n"
        ),
    );
    repo.write(".gitignore", "build/\n");
    repo.git(&["add", ".gitignore", "tools/escape.sh"]);
    repo.git(&["commit", "-q", "-m", "ignore build/, and a script"]);
    repo.git(&["push", "-q", "origin", "main"]);
    // Another task's kept worktree, and the dispatcher's own state.
    repo.git(&[
        "worktree",
        "add",
        "-q",
        ".agentos/worktrees/other",
        "-b",
        "agentos/other",
    ]);
    repo.agentos(&[
        "add",
        "Escape",
        "-t",
        "out/**",
        "--id",
        "escape",
        "--verify",
        &format!("if echo v >> {r}/README.md; then exit 1; fi; test -f out/added.txt"),
    ])
    .ok();
    repo.agentos(&["add", "Queued", "-t", "x.md", "--id", "queued"])
        .ok();
    let escapes = "sh tools/escape.sh".to_string();
    let legitimate = "mkdir -p build out && echo built > build/out.o && \
         echo tmp > \"$TMPDIR/t\" && cat \"$TMPDIR/t\" && mktemp && \
         git status --short && git diff --stat && \
         printf 'added\\n' > out/added.txt && git add out/added.txt && git diff --cached --name-only && \
         echo target > out/target.txt && \
         env > out/env.txt && tr '\\0' '\\n' < /proc/$PPID/environ > out/claude-env.txt && \
         SHIM=$(cut -d' ' -f4 /proc/$PPID/stat) && tr '\\0' '\\n' < /proc/$SHIM/environ > out/shim-env.txt && \
         DISPATCHER=$(awk '/^PPid/{print $2}' /proc/$SHIM/status) && \
         tr '\\0' '\\n' < /proc/$DISPATCHER/environ > out/dispatcher-env.txt && \
         (setsid sh -c 'echo $$ > out/late.pid; sleep 2; echo INJECTED >> out/target.txt' > /dev/null 2>&1 &) && \
         while [ ! -s out/late.pid ]; do sleep 0.01; done"
        .to_string();
    let api = script(vec![escapes, legitimate]);
    let mut env = repo.claude_env(&api);
    env.push(("GITHUB_TOKEN".into(), TOKEN.into()));
    env.push(("GH_TOKEN".into(), TOKEN.into()));
    env.push(("SSH_AUTH_SOCK".into(), "/tmp/agent.sock".into()));
    env.push(("GH_ENTERPRISE_TOKEN".into(), format!("{TOKEN}-enterprise")));
    env.push((
        "GIT_CONFIG_PARAMETERS".into(),
        "'credential.helper'='!echo password=hunter2'".into(),
    ));
    let readme = repo.read("README.md");
    let main_before = repo.git(&["rev-parse", "main"]);
    let outside_before = contents(&outside);
    let run = repo.agentos_with(&["run", "--once", "--no-pr", "--keep"], &env);
    run.stdout_has("done    escape");

    // Nothing outside the worktree changed.
    assert_eq!(repo.read("README.md"), readme, "the main checkout's README");
    assert_eq!(repo.git(&["rev-parse", "main"]), main_before, "main");
    let remote = repo.git(&["ls-remote", origin.to_str().expect("utf8")]);
    assert!(!remote.contains("pushed-from-agent"), "{remote}");
    assert_eq!(contents(&outside), outside_before, "the outside folder");
    assert_eq!(
        std::fs::read_to_string(repo.home.join(".bashrc")).expect("bashrc"),
        "# the person's\n"
    );
    assert!(!repo.exists(".agentos/worktrees/other/evil.txt"));
    assert!(!repo.exists(".agentos/todo/evil.md") && !repo.exists(".agentos/done/evil.md"));
    assert!(!repo.read(".agentos/todo/queued.md").contains("\nx\n"));
    let record: serde_json::Value =
        serde_json::from_str(&repo.read(".agentos/done/escape.record.json")).expect("a record");
    assert!(!repo.home.join(".claude").exists() && !repo.home.join(".claude.json").exists());
    assert!(record.get("attempt_dir").is_none(), "{record}");

    // Legitimate work: committed from the worktree's files, the agent's `git
    // add` included (its objects went to its private folder), fsck clean.
    let branch = |path: &str| repo.git(&["show", &format!("agentos/escape:{path}")]);
    assert_eq!(branch("out/added.txt"), "added\n");
    assert_eq!(branch("out/target.txt"), "target\n", "no late write");
    repo.git(&["fsck", "--no-progress"]);
    assert!(repo.exists(".agentos/worktrees/escape/build/out.o"));
    // The process that left with setsid is gone, so the line never comes.
    let late: i32 = branch("out/late.pid").trim().parse().expect("pid");
    assert!(!alive(late), "the setsid writer {late} outlived its agent");

    // No token anywhere the agent could see: its environment, Claude Code's,
    // the shim's and the dispatcher's own /proc/<pid>/environ.
    for file in ["env", "claude-env", "shim-env", "dispatcher-env"] {
        let text = branch(&format!("out/{file}.txt"));
        assert!(text.contains("PATH="), "{file} was read: {text}");
        assert!(!text.contains(TOKEN), "the token is in {file}");
        // The dispatcher keeps the other secrets for its own git, but its
        // /proc/<pid>/environ shows none of their values.
        for value in ["/tmp/agent.sock", "hunter2"] {
            assert!(!text.contains(value), "{value} is in {file}: {text}");
        }
        if file != "dispatcher-env" {
            assert!(!text.contains("SSH_AUTH_SOCK"), "{file}: {text}");
            assert!(!text.contains("AGENTOS_DISPATCHER_PID"), "{file}: {text}");
        }
    }
    assert!(branch("out/env.txt").contains("ANTHROPIC_BASE_URL="));
    assert_eq!(
        crate::support::search_files(repo.dir.path(), TOKEN).1,
        Vec::<String>::new()
    );

    // What the sandbox refused is listed in the report, `show` and the friction log.
    let report = repo.read(".agentos/runs/escape/attempt-1/report.md");
    assert!(
        report.contains("the agent ran with the sandbox on (Landlock ABI"),
        "{report}"
    );
    assert!(
        report.contains("the verify commands ran with the sandbox on"),
        "{report}"
    );
    assert!(report.contains("### `if echo v >>"), "{report}");
    for refused in [
        format!("`{r}/README.md`"),
        format!(
            "`{}`",
            repo.home
                .canonicalize()
                .expect("home")
                .join(".bashrc")
                .display()
        ),
        format!("`{r}/.agentos/todo/evil.md`"),
        format!(
            "`{}/outside.txt`",
            outside.canonicalize().expect("o").display()
        ),
    ] {
        assert!(
            report.contains(&refused),
            "{refused} in\n{report}\n{}",
            repo.read(".agentos/runs/escape/attempt-1/agent.jsonl")
        );
    }
    repo.agentos(&["show", "escape"])
        .ok()
        .stdout_has("sandbox   on (Landlock ABI");
    repo.agentos(&["logs", "escape"])
        .ok()
        .stdout_has("refused: tools/escape.sh: 9: cannot create");
    let friction = std::fs::read_to_string(repo.path(".agentos/friction.jsonl")).expect("friction");
    assert!(
        friction.contains("\"kind\":\"sandbox-denied\""),
        "{friction}"
    );
}

#[test]
fn without_landlock_an_agent_that_can_run_commands_does_not_start() {
    let repo = TestRepo::initialised();
    let api = MessagesApi::writes(vec![("README.md".into(), "fixed\n".into())]);
    let mut env = repo.claude_env(&api);
    env.push(("AGENTOS_SANDBOX_UNAVAILABLE".into(), "1".into()));

    // Limited to file tools (the default without a sandbox): it runs, and says so.
    // Its verify commands, though, are commands: they do not run unconfined.
    repo.agentos(&[
        "add",
        "Files only",
        "-t",
        "README.md",
        "--id",
        "files",
        "--verify",
        "true",
    ])
    .ok();
    repo.agentos_with(&["run", "--no-pr"], &env).code(1);
    let report = repo.read(".agentos/runs/files/attempt-1/report.md");
    assert!(
        report.contains("the agent ran with the sandbox off: no usable Landlock (AGENTOS_SANDBOX_UNAVAILABLE is set); the agent's tools cannot run commands")
            && report.contains("the verify commands did not run: there is no sandbox for them"),
        "{report}"
    );
    let reason = repo.read(".agentos/failed/files.reason");
    assert!(
        reason.contains("not run: verify commands run only inside the sandbox"),
        "{reason}"
    );
    let requests = api.count();
    assert!(requests > 0);
    let tools: Vec<String> = api.requests.lock().expect("lock")[0]["tools"]
        .as_array()
        .map(|t| {
            t.iter()
                .filter_map(|t| t["name"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    assert!(
        !tools.iter().any(|t| t == "Bash"),
        "Bash is disallowed: {tools:?}"
    );

    // With Bash among its tools: it does not start, and the reason says how to fix it.
    repo.write(
        ".agentos/agents/default/agent.toml",
        "allowed_tools = [\"Read\", \"Bash\"]\n",
    );
    repo.agentos(&["add", "Bash", "-t", "README.md", "--id", "bash"])
        .ok();
    repo.agentos_with(&["run", "--no-pr"], &env).code(1);
    assert_eq!(api.count(), requests, "Claude Code was never started");
    let reason = repo.read(".agentos/failed/bash.reason");
    for part in [
        "the agent `default` can run commands (`Bash` is among its allowed tools)",
        "AGENTOS_SANDBOX_UNAVAILABLE is set",
        "Linux 6.2+",
        "`sandbox = \"off\"`",
    ] {
        assert!(reason.contains(part), "{part} in {reason}");
    }

    // Any other command can run commands; `sandbox = "off"` runs it on purpose,
    // and `status`, `show` and the report say so. `pass_env` passes a variable
    // that is otherwise scrubbed.
    let agent = FakeAgent::new(&repo)
        .runs("env > seen-env.txt")
        .writes("README.md", "fixed by hand\n")
        .build();
    repo.agentos(&[
        "add",
        "Fake",
        "-t",
        "README.md",
        "-t",
        "seen-env.txt",
        "--id",
        "fake",
    ])
    .ok();
    repo.write(".agentos/agents/default/agent.toml", "");
    let fake_env = [
        ("AGENTOS_AGENT_CMD", agent.as_str()),
        ("AGENTOS_SANDBOX_UNAVAILABLE", "1"),
        ("SSH_AUTH_SOCK", "/tmp/agent.sock"),
        ("GITHUB_TOKEN", TOKEN),
    ];
    repo.agentos_env(&["run", "--no-pr"], &fake_env).code(1);
    let reason = repo.read(".agentos/failed/fake.reason");
    assert!(
        reason.contains("its command `") && reason.contains("is not Claude Code"),
        "{reason}"
    );
    repo.agentos(&["retry", "fake"]).ok();
    repo.write(
        ".agentos/agents/default/agent.toml",
        "[sandbox]\nmode = \"off\"\npass_env = [\"SSH_AUTH_SOCK\"]\n",
    );
    let run = repo.agentos_env(&["run", "--no-pr"], &fake_env).ok();
    run.stderr_has(
        "runs unsandboxed: `sandbox = \"off\"` in the settings of .agentos/agents/default/",
    );
    let seen = repo.git(&["show", "agentos/fake:seen-env.txt"]);
    assert!(
        seen.contains("SSH_AUTH_SOCK=/tmp/agent.sock") && !seen.contains(TOKEN),
        "{seen}"
    );
    repo.agentos(&["status"])
        .ok()
        .stdout_has("fake: agentos/fake at");
    repo.agentos(&["status"])
        .ok()
        .stdout_has("(ran unsandboxed)");
    repo.agentos(&["show", "fake"]).ok().stdout_has(
        "sandbox   off: `sandbox = \"off\"` in the settings of .agentos/agents/default/",
    );
}

#[test]
fn the_refs_guard_fails_an_unsandboxed_agent_that_moves_a_ref_and_restores_nothing() {
    let repo = TestRepo::initialised();
    repo.git(&["tag", "v1"]);
    repo.write(".agentos/agents/default/agent.toml", "sandbox = \"off\"\n");
    let main_before = repo.git(&["rev-parse", "main"]).trim().to_string();
    let r = repo.root().display().to_string();
    let agent = FakeAgent::new(&repo)
        .runs(&format!(
            "git -C {r} -c user.name=a -c user.email=a@a commit -q --allow-empty -m escaped"
        ))
        .runs(&format!(
            "git -C {r} branch evil && git -C {r} tag -d v1 > /dev/null"
        ))
        .writes("README.md", "fixed\n")
        .build();
    repo.agentos(&["add", "Moves", "-t", "README.md", "--id", "moves"])
        .ok();
    repo.agentos_env(&["run", "--no-pr"], &[("AGENTOS_AGENT_CMD", &agent)])
        .code(1);
    let main_after = repo.git(&["rev-parse", "main"]).trim().to_string();
    assert_ne!(
        main_after, main_before,
        "nothing was restored behind the person's back"
    );
    let reason = repo.read(".agentos/failed/moves.reason");
    for part in [
        format!(
            "the agent moved `refs/heads/main` from {} to {}",
            &main_before[..12],
            &main_after[..12]
        ),
        "the agent created `refs/heads/evil` at".to_string(),
        "the agent deleted `refs/tags/v1`".to_string(),
        "git agentos restored nothing".to_string(),
    ] {
        assert!(reason.contains(&part), "{part} in {reason}");
    }
    let friction = std::fs::read_to_string(repo.path(".agentos/friction.jsonl")).expect("friction");
    assert!(friction.contains("\"kind\":\"escape\""), "{friction}");
}
