//! Issue #22: the manual and shell completion. The pages `install-man` writes are
//! what `man`, `git agentos --help` and `git help agentos` open; every command's
//! page holds the options its `-h` lists; the completion scripts complete
//! `git agentos sh` to `show` and `git agentos show ` to the task ids in bash
//! (through git's own completion), zsh (through zsh's `_git`, in a pseudo
//! terminal) and fish. The tools are real: a missing `man`, `zsh`, `fish` or
//! git's bash completion fails these tests, it never skips them.
mod completion;

use crate::support::{seal, Run, TestRepo, BIN};
use insta::assert_snapshot;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const INSTALL: &str = "apt-get install -y man-db zsh fish bash-completion git (as .ci/run does)";

/// Fail, naming the package, when a tool these tests drive is missing.
#[track_caller]
fn require_tool(tool: &str) {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        found,
        "`{tool}` is not installed; these tests need it: {INSTALL}"
    );
}

#[track_caller]
fn require_file(path: &str) {
    assert!(
        Path::new(path).is_file(),
        "{path} is missing; these tests need it: {INSTALL}"
    );
}

/// PATH with the binary under test first, so git finds `git-agentos`.
fn path_with_binary() -> String {
    let bin_dir = Path::new(BIN).parent().expect("the binary's folder");
    format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// A command in the test's sealed environment, with the binary on PATH.
fn sealed(repo: &TestRepo, program: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new(program);
    seal(&mut cmd, &repo.home);
    cmd.env("PATH", path_with_binary())
        .args(args)
        .current_dir(repo.root())
        .stdin(Stdio::null());
    cmd
}

/// Run to the end, or fail clearly after `limit` (the shells' tests wait on
/// output they expect; this is the bound on a wait that never ends).
fn run_within(mut cmd: Command, limit: Duration, what: &str) -> Run {
    let dir = tempfile::tempdir().expect("tempdir");
    let (out, err) = (dir.path().join("out"), dir.path().join("err"));
    cmd.stdout(std::fs::File::create(&out).expect("out"))
        .stderr(std::fs::File::create(&err).expect("err"));
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{what} did not finish within {limit:?}\nstdout:\n{}\nstderr:\n{}",
                std::fs::read_to_string(&out).unwrap_or_default(),
                std::fs::read_to_string(&err).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Run {
        code: status.code().unwrap_or(-1),
        stdout: std::fs::read_to_string(&out).unwrap_or_default(),
        stderr: std::fs::read_to_string(&err).unwrap_or_default(),
    }
}

fn output(mut cmd: Command) -> Run {
    Run::from(cmd.output().expect("spawn"))
}

/// The manual installed into a folder of the test's own.
fn with_manual() -> (TestRepo, PathBuf) {
    let repo = TestRepo::new();
    let man = repo.dir.path().join("man");
    repo.agentos(&["install-man", "--dir", man.to_str().expect("utf-8")])
        .ok()
        .stdout_has("new or changed");
    (repo, man)
}

/// A command that reads the manual in `man`, rendered as plain text.
fn reading(repo: &TestRepo, man: &Path, program: &str, args: &[&str]) -> Command {
    let mut cmd = sealed(repo, program, args);
    cmd.env("MANPATH", man)
        .env("MANPAGER", "cat")
        .env("MANWIDTH", "200");
    cmd
}

#[test]
fn git_agentos_help_and_git_help_agentos_open_the_installed_page() {
    require_tool("man");
    require_tool("git");
    let (repo, man) = with_manual();
    let found = output(reading(&repo, &man, "man", &["-w", "git-agentos"])).ok();
    assert_eq!(
        found.stdout.trim(),
        man.join("man1/git-agentos.1").display().to_string()
    );
    for args in [&["agentos", "--help"][..], &["help", "agentos"]] {
        let page = output(reading(&repo, &man, "git", args)).ok();
        assert!(
            page.stdout
                .contains("NAME\n       git-agentos - run coding agents"),
            "git {args:?} did not open git-agentos(1):\n{}",
            page.stdout
        );
        assert!(page.stdout.contains("-v, --verbose"), "{}", page.stdout);
        assert!(
            page.stdout.contains("git-agentos-run(1)"),
            "{}",
            page.stdout
        );
        assert!(page.stdout.contains("EXIT STATUS"), "{}", page.stdout);
    }
    let page = output(reading(&repo, &man, "man", &["git-agentos-hooks-install"])).ok();
    assert!(
        page.stdout.contains("git agentos hooks install"),
        "{}",
        page.stdout
    );
    assert!(
        page.stdout
            .contains("git-agentos-hooks(1), git-agentos(1), git(1)"),
        "{}",
        page.stdout
    );
}

/// The commands `-h` lists under "Commands:" (without `help`).
fn commands_in_help(help: &str) -> Vec<String> {
    help.split("\nCommands:\n")
        .nth(1)
        .map(|rest| {
            rest.lines()
                .take_while(|l| !l.is_empty())
                .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
                .filter_map(|l| l.split_whitespace().next())
                .filter(|c| *c != "help")
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// The option names (`-C`, `--json`) and value names (`<ID>` as `ID`) that `-h`
/// lists under "Options:" and "Arguments:".
fn options_in_help(help: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for section in ["\nOptions:\n", "\nArguments:\n"] {
        let Some(rest) = help.split(section).nth(1) else {
            continue;
        };
        for line in rest.lines().take_while(|l| !l.is_empty()) {
            let head = line.trim_start();
            if line.len() - head.len() != 2 {
                continue;
            }
            // The names, before the help column (two spaces or more).
            let names = head.split("  ").next().unwrap_or("");
            for word in names.split([' ', ',']) {
                let word = word.trim_end_matches("...");
                if word.starts_with('-') {
                    out.insert(word.to_string());
                } else if word.starts_with('<') || word.starts_with('[') {
                    out.insert(word.trim_matches(['<', '>', '[', ']']).to_string());
                }
            }
        }
    }
    out
}

#[test]
fn every_command_has_a_page_that_holds_the_options_its_help_lists() {
    require_tool("man");
    let (repo, man) = with_manual();
    let mut pending: Vec<Vec<String>> = vec![vec![]];
    let mut pages = BTreeSet::new();
    while let Some(path) = pending.pop() {
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("-h");
        let help = repo.agentos(&args).ok().stdout;
        let page_name = std::iter::once("git-agentos")
            .chain(path.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join("-");
        let page = output(reading(&repo, &man, "man", &[&page_name]))
            .ok()
            .stdout;
        for option in options_in_help(&help) {
            assert!(
                page.contains(&option),
                "{page_name}(1) lacks `{option}`, which `-h` lists:\n{page}"
            );
        }
        pages.insert(format!("{page_name}.1"));
        for sub in commands_in_help(&help) {
            let mut deeper = path.clone();
            deeper.push(sub);
            pending.push(deeper);
        }
    }
    let files: BTreeSet<String> = std::fs::read_dir(man.join("man1"))
        .expect("man1")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(files, pages, "one page per command that -h lists, no other");
    assert!(pages.contains("git-agentos-memory-search.1"), "{pages:?}");
    assert!(pages.len() > 25, "{pages:?}");
}

#[test]
fn install_man_writes_where_man_looks_keeps_current_pages_and_drops_obsolete_ones() {
    let repo = TestRepo::new();
    let default = repo.home.join(".local/share/man/man1");
    let first = output(sealed(&repo, BIN, &["install-man"])).ok();
    assert!(
        first
            .stdout
            .contains(&format!("wrote the manual to {}", default.display())),
        "{}",
        first.stdout
    );
    assert!(default.join("git-agentos.1").is_file());
    assert!(default.join("git-agentos-memory-rm.1").is_file());
    // Not on MANPATH: it says so, and how to fix it.
    let mut off_path = sealed(&repo, BIN, &["install-man"]);
    off_path.env("MANPATH", repo.dir.path().join("elsewhere"));
    let again = output(off_path).ok();
    assert!(again.stdout.contains("is current"), "{}", again.stdout);
    assert!(
        again.stdout.contains("warning: `man` does not search")
            && again.stdout.contains("export MANPATH="),
        "{}",
        again.stdout
    );
    // A changed page is rewritten, a page of a command that is gone removed.
    std::fs::write(default.join("git-agentos-show.1"), "old\n").expect("write");
    std::fs::write(default.join("git-agentos-frobnicate.1"), "old\n").expect("write");
    std::fs::write(default.join("unrelated.1"), "keep\n").expect("write");
    let mut on_path = sealed(&repo, BIN, &["install-man"]);
    on_path.env("MANPATH", repo.home.join(".local/share/man"));
    let mended = output(on_path).ok();
    assert!(mended.stdout.contains("1 of its"), "{}", mended.stdout);
    assert!(
        mended.stdout.contains(
            "removed the pages of commands that no longer exist: git-agentos-frobnicate.1"
        ),
        "{}",
        mended.stdout
    );
    assert!(
        mended.stdout.contains("open it with `git agentos --help`"),
        "{}",
        mended.stdout
    );
    assert!(!mended.stdout.contains("warning"), "{}", mended.stdout);
    assert!(!default.join("git-agentos-frobnicate.1").exists());
    assert!(default.join("unrelated.1").exists());
    // XDG_DATA_HOME wins over HOME.
    let data = repo.dir.path().join("data");
    let mut xdg = sealed(&repo, BIN, &["install-man"]);
    xdg.env("XDG_DATA_HOME", &data);
    output(xdg).ok();
    assert!(data.join("man/man1/git-agentos.1").is_file());
}

#[test]
fn no_command_prints_the_three_to_start_with_and_exits_2() {
    let repo = TestRepo::new();
    assert_snapshot!(repo.snapshot(&[]), @r"
    ------- stderr -------
    usage: git agentos [OPTIONS] <COMMAND>

    Start with these commands:
       init  Create the .agentos/ tree in this repository
       add   Queue a task
       run   Process the queue

    `git agentos demo` shows it all in a throwaway repository; `git agentos -h` lists
    every command, and `git agentos --help` opens the manual (install it with
    `git agentos install-man`).
    [exit status: 2]
    ");
    let verbose_only = repo.agentos(&["-v"]).code(2);
    assert!(verbose_only.stderr.contains("Start with these commands"));
}
