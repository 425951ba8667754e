//! Rendering the man pages from the clap definitions: git-agentos(1) and one page
//! per visible command and subcommand (`git-agentos-hooks-install(1)`), each with
//! the options `-h` shows, plus EXIT STATUS on the top page and SEE ALSO on every one.
use crate::error::ErrorKind;
use clap::{Arg, ArgAction, Command};
use clap_mangen::Man;
use roff::{bold, italic, roman, Inline, Roff};

/// One rendered man page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// The page's name, as `man` takes it: `git-agentos-run`.
    pub name: String,
    /// Its roff source.
    pub roff: Vec<u8>,
}

impl Page {
    /// The file it is installed as: `git-agentos-run.1`.
    pub fn file_name(&self) -> String {
        format!("{}.1", self.name)
    }
}

/// Every page of the manual for this command line, the top page first. Hidden
/// commands get none, and neither does clap's `help` command.
pub fn pages(cli: &Command) -> Vec<Page> {
    let mut cmd = cli.clone().disable_help_subcommand(true);
    cmd.build();
    let version = cmd.get_version().unwrap_or_default().to_string();
    let mut out = Vec::new();
    collect(&cmd, &[], &version, &mut out);
    out
}

fn collect(cmd: &Command, parents: &[String], version: &str, out: &mut Vec<Page>) {
    let name = page_name(cmd);
    out.push(Page {
        roff: render(cmd, parents, version),
        name: name.clone(),
    });
    let mut lineage = parents.to_vec();
    lineage.push(name);
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        collect(sub, &lineage, version, out);
    }
}

/// clap names a built subcommand after its parents: `git-agentos-hooks-install`.
fn page_name(cmd: &Command) -> String {
    cmd.get_display_name()
        .unwrap_or_else(|| cmd.get_name())
        .to_string()
}

fn render(cmd: &Command, parents: &[String], version: &str) -> Vec<u8> {
    // NAME gets the first clause of `about`, without the program's own name.
    let about = cmd.get_about().map(|a| a.to_string()).unwrap_or_default();
    let bin = cmd.get_bin_name().unwrap_or_else(|| cmd.get_name());
    let about = about.strip_prefix(&format!("{bin}: ")).unwrap_or(&about);
    let man = Man::new(cmd.clone().about(summary(about)))
        .source(format!("git-agentos {version}"))
        .manual("git agentos manual");
    let section = |render: &dyn Fn(&mut Vec<u8>) -> std::io::Result<()>| {
        let mut buf = Vec::new();
        // Writing into a Vec cannot fail.
        let _ = render(&mut buf);
        buf
    };
    let mut sections: Vec<Vec<u8>> = vec![
        section(&|w| man.render_title(w)),
        section(&|w| man.render_name_section(w)),
        synopsis(cmd).to_roff().into_bytes(),
        // DESCRIPTION is the whole `long_about`, as `--help` shows it.
        section(&|w| Man::new(cmd.clone()).render_description_section(w)),
    ];
    if cmd.get_arguments().any(|a| !a.is_hide_set()) {
        sections.push(section(&|w| man.render_options_section(w)));
    }
    if cmd.get_subcommands().any(|s| !s.is_hide_set()) {
        sections.push(section(&|w| man.render_subcommands_section(w)));
    }
    if cmd.get_after_long_help().is_some() || cmd.get_after_help().is_some() {
        sections.push(section(&|w| man.render_extra_section(w)));
    }
    let mut ours = Roff::new();
    if parents.is_empty() {
        exit_status(&mut ours);
    }
    see_also(&mut ours, parents);
    sections.push(ours.to_roff().into_bytes());
    if cmd.get_version().is_some() {
        sections.push(section(&|w| man.render_version_section(w)));
    }
    join(sections)
}

/// The first clause of a help text: "Queue a task: write it into…" → "Queue a
/// task". It ends at `: `, `; ` or `. ` (so `.agentos/` does not end it).
pub fn summary(about: &str) -> String {
    let first = about.lines().next().unwrap_or("");
    let end = [": ", "; ", ". "]
        .iter()
        .filter_map(|sep| first.find(sep))
        .min()
        .unwrap_or(first.len());
    first[..end].trim().trim_end_matches('.').to_string()
}

/// SYNOPSIS with every visible option and its value (`[-C DIR]`,
/// `[-t|--target GLOB]...`), the positionals, and `command` when there are
/// subcommands.
fn synopsis(cmd: &Command) -> Roff {
    let mut line = vec![bold(cmd.get_bin_name().unwrap_or_else(|| cmd.get_name()))];
    let visible = |a: &&Arg| !a.is_hide_set();
    for arg in cmd
        .get_arguments()
        .filter(visible)
        .filter(|a| !a.is_positional())
    {
        let required = arg.is_required_set();
        line.push(roman(if required { " " } else { " [" }));
        let names: Vec<String> = arg
            .get_short()
            .map(|s| format!("-{s}"))
            .into_iter()
            .chain(arg.get_long().map(|l| format!("--{l}")))
            .collect();
        for (i, name) in names.into_iter().enumerate() {
            if i > 0 {
                line.push(roman("|"));
            }
            line.push(bold(name));
        }
        if arg.get_action().takes_values() {
            line.push(roman(" "));
            line.push(italic(value_name(arg)));
        }
        if !required {
            line.push(roman("]"));
        }
        if matches!(arg.get_action(), ArgAction::Append | ArgAction::Count) {
            line.push(roman("..."));
        }
    }
    for arg in cmd.get_positionals().filter(visible) {
        let required = arg.is_required_set();
        line.push(roman(if required { " " } else { " [" }));
        line.push(italic(value_name(arg)));
        if !required {
            line.push(roman("]"));
        }
        if matches!(arg.get_action(), ArgAction::Append) {
            line.push(roman("..."));
        }
    }
    if cmd.get_subcommands().any(|s| !s.is_hide_set()) {
        line.push(roman(" "));
        line.push(italic("command"));
        line.push(roman(" ["));
        line.push(italic("args"));
        line.push(roman("]"));
    }
    let mut roff = Roff::new();
    roff.control("SH", ["SYNOPSIS"]);
    // No hyphenation in option and value names.
    roff.control("nh", []);
    roff.text(line);
    roff.control("hy", []);
    roff
}

fn value_name(arg: &Arg) -> String {
    match arg.get_value_names() {
        Some(names) if !names.is_empty() => names
            .iter()
            .map(|n| n.as_str())
            .collect::<Vec<_>>()
            .join(" "),
        _ => arg.get_id().as_str().to_uppercase(),
    }
}

/// The sections one after another, with roff's apostrophe preamble (which
/// clap_mangen writes before each) kept once, at the top.
fn join(sections: Vec<Vec<u8>>) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, section) in sections.into_iter().enumerate() {
        let text = String::from_utf8_lossy(&section).into_owned();
        let body = if i == 0 {
            text.as_str()
        } else {
            without_preamble(&text)
        };
        out.extend_from_slice(body.as_bytes());
    }
    out
}

/// The text from its first section heading on, when it starts with the preamble.
fn without_preamble(text: &str) -> &str {
    if !text.starts_with(".ie ") {
        return text;
    }
    match text.find("\n.SH ") {
        Some(at) => &text[at + 1..],
        None => text,
    }
}

fn exit_status(roff: &mut Roff) {
    roff.control("SH", ["EXIT STATUS"]);
    let codes: [(i32, &str); 4] = [
        (0, "success"),
        (
            ErrorKind::Failed.exit_code(),
            "a task failed, or verification rejected the change",
        ),
        (
            ErrorKind::Invalid.exit_code(),
            "bad usage or invalid input (also when no command is given)",
        ),
        (
            ErrorKind::Environment.exit_code(),
            "the environment is not usable: not a git repository, the dispatcher lock held by another, the agent command missing",
        ),
    ];
    for (code, meaning) in codes {
        roff.control("TP", []);
        roff.text([bold(code.to_string())]);
        roff.text([roman(meaning)]);
    }
}

fn see_also(roff: &mut Roff, parents: &[String]) {
    roff.control("SH", ["SEE ALSO"]);
    let mut refs: Vec<String> = parents.iter().rev().cloned().collect();
    refs.push("git".to_string());
    let mut line: Vec<Inline> = Vec::new();
    for (i, name) in refs.iter().enumerate() {
        if i > 0 {
            line.push(roman(", "));
        }
        line.push(bold(name.as_str()));
        line.push(roman("(1)"));
    }
    roff.text(line);
}
