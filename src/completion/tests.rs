//! Unit tests of the completion module: every dynamic argument exists, and the
//! lines each shell reads.
use super::*;
use crate::cli::Cli;
use clap::CommandFactory;

#[test]
fn every_dynamic_argument_names_an_argument_that_exists() {
    let cli = Cli::command();
    for (path, arg, _) in DYNAMIC {
        let mut cmd = &cli;
        for name in *path {
            cmd = cmd
                .find_subcommand(name)
                .unwrap_or_else(|| panic!("no command {path:?}"));
        }
        assert!(
            cmd.get_arguments().any(|a| a.get_id() == *arg),
            "{path:?} has no argument `{arg}`"
        );
    }
}

#[test]
fn bash_lines_replace_the_word_bash_sees_and_end_in_a_space_unless_a_folder() {
    assert_eq!(line(Shell::Bash, "sh", "show", "Show one task"), "show ");
    assert_eq!(
        line(Shell::Bash, "--state=f", "--state=failed", ""),
        "failed "
    );
    assert_eq!(line(Shell::Bash, "sr", "src/", ""), "src/");
    assert_eq!(
        line(Shell::Zsh, "", "show", "Show one task: its fields"),
        "show\tShow one task"
    );
    assert_eq!(line(Shell::Fish, "", "x", ""), "x");
}

#[test]
fn help_is_one_clean_line_of_at_most_70_characters() {
    assert_eq!(short_help("Queue a task: write it"), "Queue a task");
    assert_eq!(short_help("a\tb\u{1b}[31m"), "ab[31m");
    let long = "word ".repeat(30);
    let cut = short_help(&long);
    assert_eq!(cut.chars().count(), 70);
    assert!(cut.ends_with('…'));
}

#[test]
fn a_dash_c_before_the_word_moves_where_values_are_read() {
    let words = |w: &[&str]| w.iter().map(OsString::from).collect::<Vec<_>>();
    let cwd = Path::new("/start");
    assert_eq!(run_dir(&words(&["git-agentos", "show", ""]), cwd), cwd);
    assert_eq!(
        run_dir(&words(&["git-agentos", "-C", "sub", "show", ""]), cwd),
        Path::new("/start/sub")
    );
    assert_eq!(
        run_dir(&words(&["git-agentos", "-C/abs", "show", ""]), cwd),
        Path::new("/abs")
    );
    // The word being completed is not a folder yet.
    assert_eq!(run_dir(&words(&["git-agentos", "-C"]), cwd), cwd);
}

#[test]
fn the_main_worktree_is_found_from_a_linked_one_without_libgit2() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let main = tmp.path().join("main");
    let git_dir = main.join(".git/worktrees/wt");
    std::fs::create_dir_all(&git_dir).expect("mkdir");
    std::fs::write(git_dir.join("commondir"), "../..\n").expect("commondir");
    let linked = tmp.path().join("wt");
    std::fs::create_dir_all(linked.join("deep")).expect("mkdir");
    std::fs::write(
        linked.join(".git"),
        format!("gitdir: {}\n", git_dir.display()),
    )
    .expect(".git file");
    let main = main.canonicalize().expect("canonical");
    assert_eq!(find_root(&linked.join("deep")), Some(main.clone()));
    assert_eq!(find_root(&main), Some(main));
}
