//! `git agentos demo`: a newcomer's tour on a throwaway repository.
use crate::dispatch::{self, Options};
use crate::error::{CmdResult, CommandError};
use crate::path_error::PathError;
use crate::workspace::Workspace;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A guided tour: create a throwaway repository with a typo in its README, queue a
/// task to fix it, run it end to end, and show the branch, the diff and where
/// everything lives.
///
/// Uses Claude Code when it is installed and has credentials (ANTHROPIC_API_KEY or a
/// login); otherwise a built-in scripted agent that makes the same fix.
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
    println!(
        "1. A throwaway repository with a typo in its README: {}",
        dir.display()
    );
    git(&dir, &["init", "-q", "-b", "main"])?;
    std::fs::write(dir.join("README.md"), README).map_err(PathError::at("write", &dir))?;
    git(&dir, &["add", "README.md"])?;
    git(&dir, &["commit", "-q", "-m", "A README with a typo"])?;
    super::init::run(&dir, super::init::Args {})?;

    let use_claude =
        !args.scripted && std::env::var_os("AGENTOS_AGENT_CMD").is_none() && claude_available();
    let agent_command = if use_claude {
        None
    } else {
        let exe = std::env::current_exe()
            .map_err(|e| CommandError::env(format!("cannot find this program: {e}")))?;
        Some(format!("'{}' demo-agent", exe.display()))
    };
    println!(
        "\n2. Queue a task (agent: {}):\n   git agentos add \"Fix the install command\" --target README.md",
        if use_claude {
            "Claude Code"
        } else if std::env::var_os("AGENTOS_AGENT_CMD").is_some() && !args.scripted {
            "AGENTOS_AGENT_CMD"
        } else {
            "the built-in scripted agent"
        }
    );
    super::add::run(
        &dir,
        super::add::Args {
            title: Some("Fix the install command".into()),
            targets: vec!["README.md".into()],
            agent: None,
            verify: vec![],
            base: None,
            body: Some(
                "The install section says `cargo instal`; it should say `cargo install`.".into(),
            ),
            body_file: None,
            priority: None,
            timeout: Some("10m".into()),
            id: Some("fix-install".into()),
            template: None,
            file: None,
        },
    )?;
    println!("\n3. Run the queue: git agentos run --no-pr");
    let ctx = Workspace::discover(&dir)?;
    let summary = dispatch::run(
        &ctx,
        Options {
            no_pr: true,
            agent_command,
            ..Options::default()
        },
    )?;
    if summary.done.is_empty() {
        let reason = summary
            .failed
            .first()
            .map(|(_, r)| r.clone())
            .unwrap_or_else(|| "unknown".into());
        return Err(CommandError::failed(format!(
            "the demo task did not finish: {reason}"
        )));
    }
    println!("\n4. The result is a branch, agentos/fix-install:\n");
    print!(
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
    print!(
        "{}",
        git(&dir, &["--no-pager", "diff", "main", "agentos/fix-install"])?
    );
    println!("\n5. Where everything lives:");
    println!(
        "   {}/.agentos/done/fix-install.md            the task, with its result appended",
        dir.display()
    );
    println!(
        "   {}/.agentos/done/fix-install.record.json   every step, the agent's turns and cost",
        dir.display()
    );
    println!(
        "   {}/.agentos/runs/fix-install/               the agent's stream and logs",
        dir.display()
    );
    println!("\nTry: git -C {} agentos show fix-install", dir.display());
    Ok(())
}

/// The built-in scripted agent (`git-agentos demo-agent`): speaks Claude Code's
/// stream-json and fixes the demo README's typo.
pub fn scripted_agent() -> i32 {
    let cwd = std::env::current_dir().unwrap_or_default();
    let readme = cwd.join("README.md");
    println!(
        r#"{{"type":"system","subtype":"init","session_id":"demo","cwd":{}}}"#,
        serde_json::json!(cwd.display().to_string())
    );
    println!(
        r#"{{"type":"assistant","message":{{"content":[{{"type":"tool_use","name":"Edit","input":{{"file_path":{}}}}}]}}}}"#,
        serde_json::json!(readme.display().to_string())
    );
    let ok = std::fs::read_to_string(&readme)
        .map(|text| text.replace("cargo instal ", "cargo install "))
        .and_then(|text| std::fs::write(&readme, text))
        .is_ok();
    println!(
        r#"{{"type":"result","subtype":"{}","is_error":{},"num_turns":1,"total_cost_usd":0,"result":"Fixed the install command in README.md."}}"#,
        if ok {
            "success"
        } else {
            "error_during_execution"
        },
        !ok
    );
    if ok {
        0
    } else {
        1
    }
}
