//! Issue #16, cases 1 and 2: `hooks install` over a person's hook of any kind
//! (another language, a program, a link, not executable, 750, no `#!` line,
//! core.hooksPath): it keeps running as before and comes back as it was.
use crate::intake::{commit, hook_runs_logged, todo_ids};
use crate::support::{seal, TestRepo};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// What a hook is on disk: a link and where it points, or a file's bytes and mode.
#[derive(Debug, PartialEq)]
enum Shape {
    Link(PathBuf),
    File { bytes: Vec<u8>, mode: u32 },
}

fn shape(path: &Path) -> Shape {
    let meta = std::fs::symlink_metadata(path).expect("the hook exists");
    if meta.file_type().is_symlink() {
        Shape::Link(std::fs::read_link(path).expect("read the link"))
    } else {
        Shape::File {
            bytes: std::fs::read(path).expect("read the hook"),
            mode: meta.permissions().mode() & 0o7777,
        }
    }
}

fn put_file(repo: &TestRepo, rel: &str, bytes: &[u8], mode: u32) {
    let path = repo.path(rel);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(&path, bytes).expect("write the hook");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// How many times the person's hook ran (each run appends a line to .git/hook-ran).
fn runs_of_their_hook(repo: &TestRepo) -> usize {
    std::fs::read_to_string(repo.path(".git/hook-ran"))
        .unwrap_or_default()
        .lines()
        .count()
}

const SH_HOOK: &str = "#!/bin/sh\necho \"ran $*\" >> .git/hook-ran\n";
const PY_HOOK: &str = "#!/usr/bin/env python3\nimport sys\nwith open('.git/hook-ran', 'a') as f:\n    f.write('args=%r stdin=%r\\n' % (sys.argv[1:], sys.stdin.read()))\nsys.exit(int(sys.argv[1]) if len(sys.argv) > 1 else 0)\n";

/// One kind of existing hook: how to make it, whether git runs it, and what
/// `hooks status` must say about it.
struct HookCase {
    name: &'static str,
    hooks_path: Option<&'static str>,
    make: fn(&TestRepo, &str),
    runs: Option<bool>,
    status_says: &'static str,
}

/// Install over the hook, commit, uninstall: the person's hook ran (or did not)
/// exactly as before, our intake queued the task, and the hook came back as it was.
fn install_commit_uninstall(case: &HookCase) -> TestRepo {
    let repo = TestRepo::initialised();
    if let Some(dir) = case.hooks_path {
        repo.git(&["config", "core.hooksPath", dir]);
    }
    let dir = case.hooks_path.unwrap_or(".git/hooks");
    let hook = format!("{dir}/post-commit");
    (case.make)(&repo, &hook);
    let before = shape(&repo.path(&hook));
    let files_before = repo.files_in(dir);
    repo.agentos(&["hooks", "install"]).ok();
    repo.agentos(&["hooks", "install"]).ok(); // twice is once
    let status = repo.agentos(&["hooks", "status"]).ok();
    assert!(
        status.stdout.contains(case.status_says),
        "{}: status lacks {:?}:\n{}",
        case.name,
        case.status_says,
        status.stdout
    );
    let out = commit(
        &repo,
        "a.txt",
        "One\n\nAgentos-Task: Queued past the hook\nAgentos-Targets: README.md",
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{}: {stderr}", case.name);
    assert!(
        !stderr.contains("Error") && !stderr.contains("not found"),
        "{}: {stderr}",
        case.name
    );
    assert_eq!(todo_ids(&repo), ["queued-past-the-hook"], "{}", case.name);
    if let Some(runs) = case.runs {
        assert_eq!(
            runs_of_their_hook(&repo),
            usize::from(runs),
            "{}",
            case.name
        );
    }
    repo.agentos(&["hooks", "uninstall"]).ok();
    assert_eq!(
        shape(&repo.path(&hook)),
        before,
        "{}: the hook comes back byte for byte, with its mode, as a link if it was one",
        case.name
    );
    assert_eq!(
        repo.files_in(dir),
        files_before,
        "{}: nothing left",
        case.name
    );
    commit(
        &repo,
        "b.txt",
        "Two\n\nAgentos-Task: Never queued\nAgentos-Targets: README.md",
    );
    assert_eq!(todo_ids(&repo), ["queued-past-the-hook"], "{}", case.name);
    if case.runs == Some(true) {
        assert_eq!(runs_of_their_hook(&repo), 2, "{}: it still runs", case.name);
    }
    repo
}

/// Case 1: a hook in another language is never edited; it is chained, runs with
/// the same arguments and stdin, passes its exit code through, and comes back.
#[test]
fn case01_a_python_hook_is_chained_never_edited() {
    let repo = install_commit_uninstall(&HookCase {
        name: "python",
        hooks_path: None,
        make: |repo, hook| put_file(repo, hook, PY_HOOK.as_bytes(), 0o755),
        runs: Some(true),
        status_says: "a python3 script",
    });
    // Installed again, the hook as git runs it hands its arguments and stdin to
    // the Python hook and exits with its code.
    repo.agentos(&["hooks", "install"]).ok();
    assert_eq!(
        std::fs::read(repo.path(".git/hooks/post-commit.before-agentos")).expect("moved aside"),
        PY_HOOK.as_bytes(),
        "the person's hook is kept as it is while ours is installed"
    );
    let head = repo.git(&["rev-parse", "HEAD"]).trim().to_string();
    let logged = hook_runs_logged(&repo, &head);
    let mut cmd = Command::new(repo.path(".git/hooks/post-commit"));
    seal(&mut cmd, &repo.home);
    let mut child = cmd
        .args(["7", "two words"])
        .current_dir(repo.root())
        .stdin(Stdio::piped())
        .spawn()
        .expect("run the hook");
    std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), b"line\n")
        .expect("write stdin");
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(7), "the exit code passes through");
    let ran = repo.read(".git/hook-ran");
    assert!(
        ran.lines()
            .last()
            .is_some_and(|l| l == "args=['7', 'two words'] stdin='line\\n'"),
        "{ran}"
    );
    crate::support::wait_until(Duration::from_secs(10), "the intake logged", || {
        hook_runs_logged(&repo, &head) > logged
    });
}

/// Case 2: a binary (not UTF-8) hook, a symbolic link, a hook left non-executable
/// on purpose (644), a 750 hook, one without a `#!` line and one in
/// core.hooksPath: each keeps running (or not) as before and comes back exactly.
#[test]
fn case02_every_kind_of_existing_hook_comes_back_as_it_was() {
    let cases = [
        HookCase {
            name: "not UTF-8",
            hooks_path: None,
            make: |repo, hook| {
                let text = b"#!/bin/sh\n# caf\xe9: latin1, not UTF-8\necho ran >> .git/hook-ran\n";
                put_file(repo, hook, text, 0o755)
            },
            runs: Some(true),
            status_says: "a sh script",
        },
        HookCase {
            name: "a program",
            hooks_path: None,
            make: |repo, hook| {
                let program = std::fs::read("/bin/true").expect("/bin/true");
                put_file(repo, hook, &program, 0o755)
            },
            runs: None,
            status_says: "a program",
        },
        HookCase {
            name: "symlink",
            hooks_path: None,
            make: |repo, hook| {
                put_file(repo, "scripts/hook.sh", SH_HOOK.as_bytes(), 0o755);
                std::os::unix::fs::symlink("../../scripts/hook.sh", repo.path(hook))
                    .expect("symlink");
            },
            runs: Some(true),
            status_says: "a link to ../../scripts/hook.sh",
        },
        HookCase {
            name: "644",
            hooks_path: None,
            make: |repo, hook| put_file(repo, hook, SH_HOOK.as_bytes(), 0o644),
            runs: Some(false),
            status_says: "not executable",
        },
        HookCase {
            name: "750",
            hooks_path: None,
            make: |repo, hook| put_file(repo, hook, SH_HOOK.as_bytes(), 0o750),
            runs: Some(true),
            status_says: "your shell script",
        },
        HookCase {
            name: "no shebang",
            hooks_path: None,
            make: |repo, hook| put_file(repo, hook, b"echo ran >> .git/hook-ran\n", 0o755),
            runs: Some(true),
            status_says: "without a `#!` line",
        },
        HookCase {
            name: "core.hooksPath",
            hooks_path: Some("githooks"),
            make: |repo, hook| put_file(repo, hook, PY_HOOK.as_bytes(), 0o755),
            runs: Some(true),
            status_says: "(from core.hooksPath)",
        },
    ];
    for case in &cases {
        install_commit_uninstall(case);
    }
}

/// `hooks status` tells what runs after a commit, before, during and after an
/// install over a hook that is not executable.
#[test]
fn hooks_status_says_what_runs() {
    let repo = TestRepo::initialised();
    put_file(&repo, ".git/hooks/post-commit", PY_HOOK.as_bytes(), 0o644);
    let text = repo.transcript(&[
        &["hooks", "status"],
        &["hooks", "install"],
        &["hooks", "status"],
        &["hooks", "uninstall"],
    ]);
    std::fs::set_permissions(
        repo.path(".git/hooks/post-commit"),
        std::fs::Permissions::from_mode(0o755),
    )
    .expect("chmod");
    let more = repo.transcript(&[&["hooks", "install"], &["hooks", "status"]]);
    insta::assert_snapshot!(format!("{text}{more}"), @r"
    $ git agentos hooks status
    post-commit  [REPO]/.git/hooks/post-commit
    installed    no (git agentos hooks install)
    your hook    [REPO]/.git/hooks/post-commit: a python3 script; not executable
    runs         nothing: your hook is not executable, so git does not run it
    triggers     0
    $ git agentos hooks install
    installed the post-commit hook: [REPO]/.git/hooks/post-commit
    your hook    [REPO]/.git/hooks/post-commit.before-agentos: a python3 script; not executable
    runs         git agentos's intake, in the background; your hook is not executable, so git would not run it and neither does ours
    $ git agentos hooks status
    post-commit  [REPO]/.git/hooks/post-commit
    installed    yes: git agentos's own hook
    your hook    [REPO]/.git/hooks/post-commit.before-agentos: a python3 script; not executable
    runs         git agentos's intake, in the background; your hook is not executable, so git would not run it and neither does ours
    triggers     0
    $ git agentos hooks uninstall
    removed git agentos's hook; your hook is back at [REPO]/.git/hooks/post-commit, as it was
    $ git agentos hooks install
    installed the post-commit hook: [REPO]/.git/hooks/post-commit
    your hook    [REPO]/.git/hooks/post-commit.before-agentos: a python3 script
    runs         git agentos's intake in the background, then your hook with the same arguments and stdin (its exit code is the hook's)
    $ git agentos hooks status
    post-commit  [REPO]/.git/hooks/post-commit
    installed    yes: git agentos's own hook
    your hook    [REPO]/.git/hooks/post-commit.before-agentos: a python3 script
    runs         git agentos's intake in the background, then your hook with the same arguments and stdin (its exit code is the hook's)
    triggers     0
    ");
}

/// Red-team 03: a script whose block lost its closing marker is refused by
/// uninstall and install, never cut to its end.
#[test]
fn f03_a_block_without_its_closing_marker_is_refused() {
    let repo = TestRepo::initialised();
    put_file(
        &repo,
        ".git/hooks/post-commit",
        b"#!/bin/sh\necho mine\n",
        0o755,
    );
    repo.agentos(&["hooks", "install"]).ok();
    let path = repo.path(".git/hooks/post-commit");
    let text = std::fs::read_to_string(&path).expect("hook");
    let cut: String = text
        .lines()
        .filter(|l| !l.starts_with("# <<< git agentos"))
        .map(|l| format!("{l}\n"))
        .collect::<String>()
        + "echo later\n";
    std::fs::write(&path, &cut).expect("write");
    for action in ["uninstall", "install"] {
        repo.agentos(&["hooks", action])
            .code(2)
            .stderr_has("not its closing one");
        assert_eq!(std::fs::read_to_string(&path).expect("hook"), cut);
    }
}

/// Red-team 04: a shell hook that is a hard link to a shared script stays that
/// one file through install and uninstall.
#[test]
fn f04_a_hard_linked_shell_hook_stays_linked() {
    let repo = TestRepo::initialised();
    let shared = repo.scratch().join("shared-hook");
    std::fs::write(&shared, "#!/bin/sh\necho shared\n").expect("write");
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    std::fs::hard_link(&shared, repo.path(".git/hooks/post-commit")).expect("link");
    repo.agentos(&["hooks", "install"]).ok();
    assert!(std::fs::read_to_string(&shared)
        .expect("shared")
        .contains("git agentos"));
    repo.agentos(&["hooks", "uninstall"]).ok();
    assert_eq!(
        std::fs::read_to_string(&shared).expect("shared"),
        "#!/bin/sh\necho shared\n"
    );
    use std::os::unix::fs::MetadataExt;
    let (a, b) = (
        std::fs::metadata(&shared).expect("meta"),
        std::fs::metadata(repo.path(".git/hooks/post-commit")).expect("meta"),
    );
    assert_eq!((a.ino(), a.nlink()), (b.ino(), 2));
}

/// Red-team 12: a `post-commit` that is a folder: status says git does not run
/// it, and uninstall puts it back.
#[test]
fn f12_a_folder_as_the_hook_comes_back() {
    let repo = TestRepo::initialised();
    std::fs::create_dir_all(repo.path(".git/hooks/post-commit")).expect("mkdir");
    repo.write(".git/hooks/post-commit/keep", "");
    repo.agentos(&["hooks", "install"]).ok();
    repo.agentos(&["hooks", "status"])
        .ok()
        .stdout_has("a folder, which git cannot run")
        .stdout_has("your hook is not executable");
    repo.agentos(&["hooks", "uninstall"]).ok();
    assert!(repo.path(".git/hooks/post-commit/keep").is_file());
    assert!(!repo.exists(".git/hooks/post-commit.before-agentos"));
}

/// Red-team 13: a hook manager moved our hook to `post-commit.legacy` and runs
/// it from its own: status says so, and uninstall removes it from there.
#[test]
fn f13_a_hook_moved_aside_by_a_hook_manager_is_found() {
    let repo = TestRepo::initialised();
    repo.agentos(&["hooks", "install"]).ok();
    let hooks = repo.path(".git/hooks");
    std::fs::rename(hooks.join("post-commit"), hooks.join("post-commit.legacy")).expect("mv");
    let manager = "#!/usr/bin/env bash\n# File generated by pre-commit\nHERE=\"$(cd \"$(dirname \"$0\")\" && pwd)\"\nif [ -x \"$HERE/post-commit.legacy\" ]; then \"$HERE/post-commit.legacy\" \"$@\"; fi\n";
    put_file(&repo, ".git/hooks/post-commit", manager.as_bytes(), 0o755);
    repo.agentos(&["hooks", "status"])
        .ok()
        .stdout_has("installed    yes: git agentos's hook, moved aside by another tool")
        .stdout_has("post-commit.legacy");
    repo.agentos(&["hooks", "install"])
        .ok()
        .stdout_has("where another tool moved it");
    repo.agentos(&["hooks", "uninstall"]).ok();
    assert!(!repo.exists(".git/hooks/post-commit.legacy"));
    assert_eq!(repo.read(".git/hooks/post-commit"), manager);
    repo.agentos(&["hooks", "status"])
        .ok()
        .stdout_has("installed    no");
}

/// Red-team 14: with a relative core.hooksPath each worktree has its own hooks
/// folder: install puts the hook in every worktree, so a commit in a linked one
/// queues its task, and status there tells the truth.
#[test]
fn f14_a_relative_hooks_path_reaches_linked_worktrees() {
    let repo = TestRepo::initialised();
    crate::intake_hostile::set_identity(&repo);
    repo.git(&["config", "core.hooksPath", ".githooks"]);
    let linked = repo.scratch().join("linked");
    let linked_str = linked.display().to_string();
    repo.git(&["worktree", "add", "-q", &linked_str, "-b", "side"]);
    repo.agentos(&["hooks", "install"]).ok();
    let mut status = Command::new(crate::support::BIN);
    seal(&mut status, &repo.home);
    let out = status
        .args(["hooks", "status"])
        .current_dir(&linked)
        .output()
        .expect("status");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!(
            "{}/.githooks/post-commit",
            linked.canonicalize().expect("canon").display()
        )) && text.contains("installed    yes"),
        "{text}"
    );
    std::fs::write(linked.join("README.md"), "changed\n").expect("write");
    let mut git = Command::new("git");
    seal(&mut git, &repo.home);
    let done = git
        .args([
            "commit",
            "-qam",
            "c\n\nAgentos-Task: From the linked worktree\nAgentos-Targets: README.md",
        ])
        .current_dir(&linked)
        .status()
        .expect("commit");
    assert!(done.success());
    crate::support::wait_until(Duration::from_secs(10), "the task is queued", || {
        todo_ids(&repo).contains(&"from-the-linked-worktree".to_string())
    });
}

/// Red-team 10: without a trigger and without an `Agentos-` trailer the shim
/// skips in sh: no git agentos process starts (nothing logged); with either,
/// the intake runs.
#[test]
fn f10_the_shim_skips_a_commit_with_nothing_to_do() {
    let repo = TestRepo::initialised();
    crate::intake_hostile::set_identity(&repo);
    repo.agentos(&["hooks", "install"]).ok();
    commit(&repo, "a.txt", "nothing to do");
    let plain = repo.git(&["rev-parse", "HEAD"]).trim().to_string();
    commit(
        &repo,
        "b.txt",
        "work\n\nAgentos-Task: Then one with work\nAgentos-Targets: README.md",
    );
    assert_eq!(
        hook_runs_logged(&repo, &plain),
        0,
        "the shim skipped {plain}"
    );
    assert_eq!(todo_ids(&repo), ["then-one-with-work"]);
}
