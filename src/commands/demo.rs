//! `git agentos demo`: a newcomer's tour on a throwaway repository.
use crate::dispatch::{self, Options};
use crate::error::{CmdResult, CommandError};
use crate::path_error::PathError;
use crate::term::untrusted;
use crate::workspace::Workspace;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A guided tour: create a throwaway repository with a typo in its README, queue a
/// task to fix it, run it end to end, and show the branch, the diff and where
/// everything lives.
///
/// Two more tasks, always run by a built-in scripted agent, show what git agentos
/// is for: one edits `doc/README.md` where the task said `docs/README.md`
/// (rejected, with "did you mean"), one runs a shell command that writes
/// outside its worktree (refused by the sandbox).
///
/// Uses Claude Code for the first task when it is installed and has credentials
/// (ANTHROPIC_API_KEY or a login); otherwise the scripted agent makes the same fix.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Where to create the demo repository (default: a new temporary folder).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Use the built-in scripted agent even when Claude Code is available.
    #[arg(long)]
    pub scripted: bool,
}

const README: &str =
    "# hello\n\nA tiny example project.\n\n## Install\n\n    cargo instal --path .\n";

const DOCS: &str = "# hello's documentation\n\nStart with the README.\n";

/// The ids of the tour's tasks: the fix, the near miss, the escape.
const FIX: &str = "fix-install";
const NEAR_MISS: &str = "document-usage";
const ESCAPE: &str = "add-changelog";

/// git in the demo repository, committing as the demo.
fn git(dir: &Path, args: &[&str]) -> CmdResult<String> {
    let mut full = vec![
        "-c",
        "user.name=git agentos demo",
        "-c",
        "user.email=demo@agentos.invalid",
    ];
    full.extend_from_slice(args);
    Ok(crate::git::run::git(dir, &full)?)
}

fn claude_available() -> bool {
    let on_path = Command::new("claude")
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    let credentials = std::env::var_os("ANTHROPIC_API_KEY").is_some()
        || home.join(".claude/.credentials.json").exists()
        || home.join(".claude.json").exists();
    on_path && credentials
}

/// `git agentos add TITLE --target TARGET [--agent AGENT] --id ID --body BODY`.
fn queue(
    dir: &Path,
    id: &str,
    title: &str,
    target: &str,
    agent: Option<&str>,
    body: &str,
) -> CmdResult {
    super::add::run(
        dir,
        super::add::Args {
            title: Some(title.into()),
            targets: vec![target.into()],
            agent: agent.map(str::to_string),
            verify: vec![],
            base: None,
            body: Some(body.into()),
            body_file: None,
            priority: None,
            timeout: Some("10m".into()),
            id: Some(id.into()),
            after: vec![],
            no_stack: false,
            max_turns: None,
            max_cost_usd: None,
            template: None,
            file: None,
        },
    )
}

/// The `scripted` agent: this program's demo-agent, whatever the default is.
fn scripted_agent_folder(dir: &Path, exe: &Path, landlock: bool) -> CmdResult {
    let folder = dir.join(".agentos/agents/scripted");
    std::fs::create_dir_all(&folder).map_err(PathError::at("create", &folder))?;
    let off = if landlock { "" } else { "sandbox = \"off\"\n" };
    for (name, text) in [
        (
            "AGENT.md",
            "# The scripted agent\n\nThe demo's agent: it makes the mistakes the tour shows.\n"
                .to_string(),
        ),
        (
            "agent.toml",
            format!("command = \"'{}' demo-agent\"\n{off}", exe.display()),
        ),
    ] {
        let path = folder.join(name);
        std::fs::write(&path, text).map_err(PathError::at("write", &path))?;
    }
    Ok(())
}

pub fn run(args: Args) -> CmdResult {
    let dir = match args.dir {
        Some(dir) => dir,
        None => std::env::temp_dir().join(format!("git-agentos-demo-{}", std::process::id())),
    };
    if dir.exists()
        && std::fs::read_dir(&dir)
            .map(|mut d| d.next().is_some())
            .unwrap_or(false)
    {
        return Err(
            CommandError::invalid(format!("{} exists and is not empty", dir.display()))
                .hint("pass --dir with a new or empty folder"),
        );
    }
    std::fs::create_dir_all(&dir).map_err(PathError::at("create", &dir))?;
    outln!(
        "1. A throwaway repository with a typo in its README: {}",
        dir.display()
    );
    git(&dir, &["init", "-q", "-b", "main"])?;
    std::fs::write(dir.join("README.md"), README).map_err(PathError::at("write", &dir))?;
    std::fs::create_dir_all(dir.join("docs")).map_err(PathError::at("create", &dir))?;
    std::fs::write(dir.join("docs/README.md"), DOCS).map_err(PathError::at("write", &dir))?;
    git(&dir, &["add", "README.md", "docs/README.md"])?;
    git(&dir, &["commit", "-q", "-m", "A README with a typo"])?;
    super::init::run(&dir, super::init::Args {})?;
    let exe = crate::exe::path()
        .map_err(|e| CommandError::env(format!("cannot find this program: {e}")))?;
    let landlock = crate::agent::sandbox::support().abi().is_some();
    scripted_agent_folder(&dir, &exe, landlock)?;

    let use_claude =
        !args.scripted && std::env::var_os("AGENTOS_AGENT_CMD").is_none() && claude_available();
    let agent_command = if use_claude {
        None
    } else {
        if !landlock {
            // The scripted agent is this program: it may run without a sandbox.
            let toml = dir.join(".agentos/agents/default/agent.toml");
            std::fs::write(&toml, "sandbox = \"off\"\n").map_err(PathError::at("write", &toml))?;
        }
        Some(format!("'{}' demo-agent", exe.display()))
    };
    outln!(
        "\n2. Queue a task (agent: {}):\n   git agentos add \"Fix the install command\" --target README.md",
        if use_claude {
            "Claude Code"
        } else if std::env::var_os("AGENTOS_AGENT_CMD").is_some() && !args.scripted {
            "AGENTOS_AGENT_CMD"
        } else {
            "the built-in scripted agent"
        }
    );
    queue(
        &dir,
        FIX,
        "Fix the install command",
        "README.md",
        None,
        "The install section says `cargo instal`; it should say `cargo install`.",
    )?;
    outln!(
        "\n   and two tasks for the scripted agent that show what the checks are for:\n   git agentos add \"Document the usage\" --target docs/README.md   (it will edit doc/README.md)\n   git agentos add \"Add a changelog\" --target CHANGELOG.md       (it will also try to write outside)"
    );
    queue(
        &dir,
        NEAR_MISS,
        "Document the usage",
        "docs/README.md",
        Some("scripted"),
        "Add a usage section to docs/README.md.",
    )?;
    if landlock {
        queue(
            &dir,
            ESCAPE,
            "Add a changelog",
            "CHANGELOG.md",
            Some("scripted"),
            "Start CHANGELOG.md.",
        )?;
    } else {
        outln!(
            "   (the third is left out: this machine has no Landlock, see `git agentos doctor`)"
        );
    }
    outln!("\n3. Run the queue: git agentos run --no-pr");
    let ctx = Workspace::discover(&dir)?;
    let summary = dispatch::run(
        &ctx,
        Options {
            no_pr: true,
            agent_command,
            ..Options::default()
        },
    )?;
    if !summary.done.iter().any(|id| id == FIX) {
        let reason = summary
            .failed
            .iter()
            .find(|(id, _)| id == FIX)
            .map(|(_, r)| r.clone())
            .unwrap_or_else(|| "unknown".into());
        return Err(CommandError::failed(format!(
            "the demo task did not finish: {reason}"
        )));
    }
    outln!("\n4. What came of each task:");
    outln!("   {FIX}: done");
    for (id, reason) in &summary.failed {
        outln!("   {}: failed: {}", untrusted(id), untrusted(reason));
    }
    if summary.done.iter().any(|id| id == ESCAPE) {
        let record =
            crate::queue::read_record(&dir.join(format!(".agentos/done/{ESCAPE}.record.json")))
                .ok()
                .flatten()
                .unwrap_or_default();
        outln!("   {ESCAPE}: done; its agent also ran a shell command that wrote outside its worktree:");
        for denial in &record.sandbox_denials {
            outln!("      refused by the sandbox: {}", untrusted(&denial.path));
        }
        outln!("      (listed in its report: .agentos/runs/{ESCAPE}/attempt-1/report.md)");
    }
    outln!("\n5. The result is a branch, agentos/fix-install:\n");
    out!(
        "{}",
        git(
            &dir,
            &[
                "--no-pager",
                "log",
                "--oneline",
                "main..agentos/fix-install"
            ]
        )?
    );
    out!(
        "{}",
        git(&dir, &["--no-pager", "diff", "main", "agentos/fix-install"])?
    );
    outln!("\n6. Where everything lives:");
    outln!(
        "   {}/.agentos/done/fix-install.md            the task, with its result appended",
        dir.display()
    );
    outln!(
        "   {}/.agentos/done/fix-install.record.json   every step, the agent's turns and cost",
        dir.display()
    );
    outln!(
        "   {}/.agentos/runs/fix-install/               the agent's stream and logs",
        dir.display()
    );
    outln!("\nTry: git -C {} agentos show fix-install", dir.display());
    Ok(())
}

/// The built-in scripted agent (`git-agentos demo-agent`): speaks Claude Code's
/// stream-json. On the tour's near miss it edits `doc/README.md` instead of
/// `docs/README.md`; on the changelog it first runs a shell command that writes
/// outside its worktree; otherwise it fixes the demo README's typo.
pub fn scripted_agent() -> i32 {
    let cwd = std::env::current_dir().unwrap_or_default();
    let event = |value: serde_json::Value| outln!("{value}");
    event(
        serde_json::json!({"type": "system", "subtype": "init", "session_id": "demo", "cwd": cwd}),
    );
    let tool = |name: &str, input: serde_json::Value| {
        event(
            serde_json::json!({"type": "assistant", "message": {"content": [
            {"type": "tool_use", "id": "demo", "name": name, "input": input}]}}),
        );
    };
    let task = std::env::var("AGENTOS_TASK_ID").unwrap_or_default();
    let done = match task.as_str() {
        NEAR_MISS => {
            let path = cwd.join("doc/README.md");
            tool("Write", serde_json::json!({ "file_path": path }));
            std::fs::create_dir_all(cwd.join("doc"))
                .and_then(|_| std::fs::write(&path, "# Usage\n\nRun `hello`.\n"))
                .is_ok()
        }
        ESCAPE => {
            let command = "echo 'an agent was here' >> ../../../README.md";
            tool("Bash", serde_json::json!({ "command": command }));
            let output = Command::new("sh").arg("-c").arg(command).output();
            let text = output
                .map(|o| String::from_utf8_lossy(&o.stderr).into_owned())
                .unwrap_or_else(|e| e.to_string());
            event(
                serde_json::json!({"type": "user", "message": {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "demo", "content": text}]}}),
            );
            let path = cwd.join("CHANGELOG.md");
            tool("Write", serde_json::json!({ "file_path": path }));
            std::fs::write(&path, "# Changelog\n\n- The install command is fixed.\n").is_ok()
        }
        _ => {
            let readme = cwd.join("README.md");
            tool("Edit", serde_json::json!({ "file_path": readme }));
            std::fs::read_to_string(&readme)
                .map(|text| text.replace("cargo instal ", "cargo install "))
                .and_then(|text| std::fs::write(&readme, text))
                .is_ok()
        }
    };
    event(serde_json::json!({
        "type": "result",
        "subtype": if done { "success" } else { "error_during_execution" },
        "is_error": !done,
        "num_turns": 1,
        "total_cost_usd": 0,
        "result": "Done.",
    }));
    if done {
        0
    } else {
        1
    }
}
