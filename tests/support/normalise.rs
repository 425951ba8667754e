//! Outputs made fit for whole-output snapshots: everything that changes from run
//! to run (the temporary folder, times, commit ids, pids) replaced by a name in
//! brackets, in one place.
use super::{Run, TestRepo};
use regex::Regex;
use std::sync::OnceLock;

/// Patterns and what replaces them, applied in order (times before dates).
fn rules() -> &'static [(Regex, &'static str)] {
    static RULES: OnceLock<Vec<(Regex, &'static str)>> = OnceLock::new();
    RULES.get_or_init(|| {
        [
            // RFC 3339, with or without fractions of a second.
            (
                r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})",
                "[TIME]",
            ),
            (r"\b\d{4}-\d{2}-\d{2}\b", "[DATE]"),
            (r"\b[0-9a-f]{40}\b", "[SHA]"),
            // The short commit ids `status` prints.
            (r"\b[0-9a-f]{12}\b", "[SHORT-SHA]"),
            (r"\bpid \d+\b", "pid [PID]"),
            (r#""(pid|agent_pgid)": \d+"#, r#""$1": [PID]"#),
            // What the kernel offers differs between machines.
            (r"Landlock ABI \d+", "Landlock ABI [N]"),
        ]
        .into_iter()
        .map(|(pattern, name)| (Regex::new(pattern).expect("a valid pattern"), name))
        .collect()
    })
}

impl TestRepo {
    /// `text` with the test's folders as `[REPO]` (the repository) and `[TMP]`
    /// (the temporary folder around it), and times, dates, commit ids and pids
    /// replaced.
    pub fn normalise(&self, text: &str) -> String {
        let mut out = text.to_string();
        for (path, name) in [
            (self.root(), "[REPO]"),
            (self.dir.path().to_path_buf(), "[TMP]"),
        ] {
            if let Ok(real) = path.canonicalize() {
                out = out.replace(real.to_str().expect("a UTF-8 path"), name);
            }
            out = out.replace(path.to_str().expect("a UTF-8 path"), name);
        }
        for (pattern, name) in rules() {
            out = pattern.replace_all(&out, *name).into_owned();
        }
        out
    }

    /// The whole output of a command, normalised, as snapshots show it: stdout,
    /// then stderr under a rule, then the exit status when it is not 0.
    pub fn output(&self, run: &Run) -> String {
        let mut text = run.stdout.clone();
        if !run.stderr.is_empty() {
            if !text.is_empty() && !text.ends_with('\n') {
                text.push('\n');
            }
            text.push_str("------- stderr -------\n");
            text.push_str(&run.stderr);
        }
        if run.code != 0 {
            if !text.is_empty() && !text.ends_with('\n') {
                text.push('\n');
            }
            text.push_str(&format!("[exit status: {}]\n", run.code));
        }
        self.normalise(&text)
    }

    /// Run `git agentos ARGS` and return its whole output, normalised.
    pub fn snapshot(&self, args: &[&str]) -> String {
        self.output(&self.agentos(args))
    }

    /// Run each command in turn: every whole output under a `$ git agentos ARGS`
    /// line, for one snapshot of several cases.
    pub fn transcript(&self, commands: &[&[&str]]) -> String {
        let mut text = String::new();
        for args in commands {
            let shown: Vec<String> = args.iter().map(|a| shell_word(a)).collect();
            text.push_str(&format!("$ git agentos {}\n", shown.join(" ")));
            text.push_str(&self.snapshot(args));
            if !text.ends_with('\n') {
                text.push('\n');
            }
        }
        text
    }
}

/// An argument as a person would type it.
fn shell_word(arg: &str) -> String {
    if !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:@%+,*".contains(c))
    {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}
