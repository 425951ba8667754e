//! The completion scripts in the shells themselves: bash through git's own
//! completion (sourced, and loaded on demand by bash-completion as the README
//! installs it), zsh through zsh's `_git` in a pseudo terminal, fish through
//! `complete -C`.
use super::{output, require_file, require_tool, run_within, sealed};
use crate::support::TestRepo;
use insta::assert_snapshot;
use std::path::{Path, PathBuf};
use std::time::Duration;

const GIT_BASH_COMPLETION: &str = "/usr/share/bash-completion/completions/git";
const BASH_COMPLETION: &str = "/usr/share/bash-completion/bash_completion";

/// `git agentos completions SHELL` written as `dir/file`, as the README installs it.
fn install_script(repo: &TestRepo, shell: &str, dir: &Path, file: &str) -> PathBuf {
    std::fs::create_dir_all(dir).expect("mkdir");
    let path = dir.join(file);
    std::fs::write(&path, repo.agentos(&["completions", shell]).ok().stdout).expect("write");
    path
}

/// A repository with tasks in todo/ (one in an agent's folder) and failed/.
fn tasks() -> TestRepo {
    let repo = TestRepo::initialised();
    for (title, id) in [("Fix the readme", "fix-readme"), ("Second", "second")] {
        repo.agentos(&["add", title, "-t", "README.md", "--id", id])
            .ok();
    }
    repo.agentos(&["agent", "new", "docs"]).ok();
    repo.write(
        ".agentos/todo/docs/guide.md",
        "+++\ntitle = \"Guide\"\ntargets = [\"docs/guide.md\"]\n+++\n",
    );
    repo.write(
        ".agentos/failed/broken.md",
        "+++\ntitle = \"Broken\"\ntargets = [\"a\"]\n+++\n",
    );
    repo
}

/// Drives bash's completion as bash does for a Tab at the end of each line:
/// COMP_WORDS, COMP_CWORD, COMP_LINE and COMP_POINT set, git's completion
/// function called, COMPREPLY printed as `[word]` items, one line per case.
const BASH_DRIVER: &str = r#"
complete_line() {
    COMP_LINE="$1"; COMP_POINT=${#COMP_LINE}
    read -ra COMP_WORDS <<< "$COMP_LINE"
    [[ $COMP_LINE == *" " ]] && COMP_WORDS+=("")
    COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
    COMPREPLY=()
    __git_wrap__git_main git "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
    printf '%s =>' "$1"; printf ' [%s]' "${COMPREPLY[@]}"; echo
}
"#;

#[test]
fn bash_completes_through_gits_own_completion() {
    require_tool("bash");
    require_file(GIT_BASH_COMPLETION);
    let repo = tasks();
    let script = install_script(&repo, "bash", repo.dir.path(), "git-agentos.bash");
    let elsewhere = repo.dir.path();
    let program = format!(
        "source {GIT_BASH_COMPLETION}\nsource {}\n{BASH_DRIVER}\n\
         complete_line 'git agentos sh'\n\
         complete_line 'git agentos show '\n\
         complete_line 'git agentos retry '\n\
         complete_line 'git agentos cancel s'\n\
         complete_line 'git agentos add --agent '\n\
         complete_line 'git agentos add --template b'\n\
         complete_line 'git agentos list --state=fa'\n\
         complete_line 'git agentos show --j'\n\
         cd {}\ncomplete_line 'git -C repo agentos retry '\n",
        script.display(),
        elsewhere.display()
    );
    let run = output(sealed(
        &repo,
        "bash",
        &["--norc", "--noprofile", "-c", &program],
    ))
    .ok();
    assert_snapshot!(run.stdout, @r"
    git agentos sh => [show ]
    git agentos show  => [broken ] [fix-readme ] [guide ] [second ]
    git agentos retry  => [broken ]
    git agentos cancel s => [second ]
    git agentos add --agent  => [default ] [docs ]
    git agentos add --template b => [bugfix ]
    git agentos list --state=fa => [failed ]
    git agentos show --j => [--json ]
    git -C repo agentos retry  => [broken ]
    ");
}

#[test]
fn the_bash_script_installed_as_the_readme_says_is_loaded_on_demand() {
    require_tool("bash");
    require_file(GIT_BASH_COMPLETION);
    require_file(BASH_COMPLETION);
    let repo = tasks();
    let dir = repo.home.join(".local/share/bash-completion/completions");
    install_script(&repo, "bash", &dir, "git-agentos");
    let program = format!(
        "source {BASH_COMPLETION}\n_completion_loader git\n{BASH_DRIVER}\n\
         complete_line 'git agentos sh'\ncomplete_line 'git agentos show f'\n"
    );
    let run = output(sealed(
        &repo,
        "bash",
        &["--norc", "--noprofile", "-c", &program],
    ))
    .ok();
    assert_eq!(
        run.stdout, "git agentos sh => [show ]\ngit agentos show f => [fix-readme ]\n",
        "{}",
        run.stderr
    );
}

#[test]
fn the_completion_script_begins_with_how_to_install_it() {
    let repo = TestRepo::new();
    let script = repo.agentos(&["completions", "bash"]).ok().stdout;
    let head: Vec<&str> = script.lines().take(8).collect();
    assert_snapshot!(head.join("\n"), @r#"
    # bash completion for git agentos: commands, options, task ids, agents and
    # templates after `git agentos `. Written by `git agentos completions bash`.
    #
    # It works with git's own bash completion, which calls _git_agentos for the
    # `agentos` subcommand (the bash-completion package loads both on demand). Install:
    #   mkdir -p ~/.local/share/bash-completion/completions
    #   git agentos completions bash > ~/.local/share/bash-completion/completions/git-agentos
    # or add `eval "$(git agentos completions bash)"` to ~/.bashrc.
    "#);
}

#[test]
fn the_zsh_script_loads_and_completes_through_zshs_git_completion() {
    require_tool("zsh");
    let repo = tasks();
    let functions = repo.dir.path().join("zfunc");
    install_script(&repo, "zsh", &functions, "_git-agentos");
    // Sourced after compinit, as the README's other way says: no error, and the
    // function is there and registered.
    let loaded = output(sealed(
        &repo,
        "zsh",
        &[
            "-f",
            "-c",
            "autoload -Uz compinit && compinit -u -D && source <(git agentos completions zsh) \
             && print -r -- ${_comps[git-agentos]}",
        ],
    ))
    .ok();
    assert_eq!(loaded.stdout, "_git-agentos\n");
    assert_eq!(loaded.stderr, "");
    // In a terminal, from fpath: Tab after `git agentos sh`, then after
    // `git agentos show `. Keys are sent once the prompt is up (line editing on);
    // a key bound to a widget prints the line between << >>.
    let program = format!(
        r#"zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z 'fpath=({} $fpath); autoload -Uz compinit; compinit -u -D; zstyle ":completion:*" list-prompt ""; show-line() {{ print -rn -- "<<$BUFFER>>" }}; zle -N show-line; bindkey "^X^D" show-line; PS1="RE""ADY> "'
zpty -r -m z out '*READY> *'
zpty -w -n z $'git agentos sh\t\C-x\C-d'
zpty -r -m z out '*>>'
print -r -- "ONE ${{out##*<<}}"
zpty -w -n z $'\C-u'
zpty -w -n z $'git agentos show \t\C-x\C-d'
zpty -r -m z out '*>>'
print -r -- "TWO $out"
zpty -d z
"#,
        functions.display()
    );
    let run = run_within(
        sealed(&repo, "zsh", &["-f", "-c", &program]),
        Duration::from_secs(60),
        "zsh completing in a pseudo terminal",
    )
    .ok();
    let one = run
        .stdout
        .lines()
        .find(|l| l.starts_with("ONE "))
        .unwrap_or("");
    assert_eq!(one, "ONE git agentos show >>", "{}", run.stdout);
    let two = &run.stdout[run.stdout.find("TWO ").unwrap_or(0)..];
    for id in ["fix-readme", "second", "guide", "broken"] {
        assert!(two.contains(id), "zsh did not list `{id}`:\n{two}");
    }
}

#[test]
fn the_fish_script_loads_and_completes_after_git_agentos() {
    require_tool("fish");
    let repo = tasks();
    let conf = repo.home.join(".config/fish/conf.d");
    install_script(&repo, "fish", &conf, "git-agentos.fish");
    let run = output(sealed(
        &repo,
        "fish",
        &[
            "-c",
            "complete -C 'git agentos sh'; echo ==; complete -C 'git agentos show '; \
             echo ==; complete -C 'git agentos add --template b'; echo ==; complete -C 'git-agentos retry '",
        ],
    ))
    .ok();
    assert_eq!(run.stderr, "");
    assert_snapshot!(run.stdout, @r"
    show	Show one task
    ==
    broken	failed
    fix-readme	todo
    guide	todo (agent docs)
    second	todo
    ==
    bugfix	built in
    ==
    broken	failed
    ");
}
