//! Unit tests of the manual: page names and sections, and the status of an
//! installed copy (missing, current, stale, obsolete pages).
use super::*;
use crate::cli::Cli;
use clap::CommandFactory;

fn text(page: &Page) -> String {
    String::from_utf8(page.roff.clone()).expect("roff is UTF-8")
}

#[test]
fn one_page_per_visible_command_named_after_its_parents() {
    let pages = pages(&Cli::command());
    let names: Vec<&str> = pages.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names[0], "git-agentos");
    for name in [
        "git-agentos-run",
        "git-agentos-hooks-install",
        "git-agentos-memory-rm",
    ] {
        assert!(names.contains(&name), "{names:?}");
    }
    for hidden in [
        "git-agentos-hook",
        "git-agentos-agent-shim",
        "git-agentos-help",
        "git-agentos-__complete",
    ] {
        assert!(!names.contains(&hidden), "{hidden} is internal: {names:?}");
    }
}

#[test]
fn pages_have_one_preamble_a_synopsis_with_values_exit_status_and_see_also() {
    let pages = pages(&Cli::command());
    let top = text(&pages[0]);
    assert_eq!(top.matches(".ie \\n(.g").count(), 1, "{top}");
    assert!(top.starts_with(".ie \\n(.g"), "{top}");
    assert!(top.contains("[\\fB\\-C\\fR \\fIDIR\\fR]"), "{top}");
    assert!(top.contains(".SH \"EXIT STATUS\""), "{top}");
    assert!(top.contains("git\\-agentos \\- run coding agents"), "{top}");
    let add = pages
        .iter()
        .find(|p| p.name == "git-agentos-add")
        .expect("add");
    let add = text(add);
    assert!(
        add.contains("\\fB\\-t\\fR|\\fB\\-\\-target\\fR \\fIGLOB\\fR]..."),
        "{add}"
    );
    assert!(
        add.contains("git\\-agentos\\-add \\- Queue a task\n"),
        "{add}"
    );
    assert!(!add.contains("EXIT STATUS"), "{add}");
    let install = pages
        .iter()
        .find(|p| p.name == "git-agentos-hooks-install")
        .expect("hooks install");
    assert!(text(install)
        .contains("\\fBgit\\-agentos\\-hooks\\fR(1), \\fBgit\\-agentos\\fR(1), \\fBgit\\fR(1)"));
}

#[test]
fn status_tells_missing_current_stale_and_obsolete_apart() {
    let cli = Cli::command();
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("man");
    assert_eq!(status_at(&cli, &dir).expect("status").state, State::Missing);
    let written = install(&cli, &dir).expect("install");
    assert_eq!(written.written.len(), written.pages);
    let status = status_at(&cli, &dir).expect("status");
    assert_eq!(status.state, State::Current);
    assert_eq!(status.dir, dir.join("man1"));
    assert!(
        status.summary().contains("current for"),
        "{}",
        status.summary()
    );
    // A page from an older build, and one of a command that is gone.
    let top = dir.join("man1/git-agentos.1");
    let old = std::fs::read_to_string(&top)
        .expect("read")
        .replace("\"git-agentos 0.", "\"git-agentos 0.0.9-was-0.");
    std::fs::write(&top, old).expect("write");
    std::fs::write(dir.join("man1/git-agentos-gone.1"), "x").expect("write");
    std::fs::remove_file(dir.join("man1/git-agentos-run.1")).expect("rm");
    let status = status_at(&cli, &dir.join("man1")).expect("status");
    match &status.state {
        State::Stale {
            version,
            outdated,
            missing,
            obsolete,
        } => {
            assert!(
                version
                    .as_deref()
                    .is_some_and(|v| v.starts_with("0.0.9-was-")),
                "{version:?}"
            );
            assert_eq!(outdated, &["git-agentos.1"]);
            assert_eq!(missing, &["git-agentos-run.1"]);
            assert_eq!(obsolete, &["git-agentos-gone.1"]);
        }
        other => panic!("not stale: {other:?}"),
    }
    assert!(status.hint().is_some_and(|h| h.contains("install-man")));
    let mended = install(&cli, &dir).expect("install");
    assert_eq!(mended.written, ["git-agentos.1", "git-agentos-run.1"]);
    assert_eq!(mended.removed, ["git-agentos-gone.1"]);
    assert_eq!(status_at(&cli, &dir).expect("status").state, State::Current);
}

#[test]
fn summary_is_the_first_clause() {
    assert_eq!(
        summary("Queue a task: write it into .agentos/todo/"),
        "Queue a task"
    );
    assert_eq!(
        summary("Create the .agentos/ tree in this repository: the queue"),
        "Create the .agentos/ tree in this repository"
    );
    assert_eq!(
        summary("List the agents and their settings."),
        "List the agents and their settings"
    );
}
