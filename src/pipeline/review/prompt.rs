//! What the agent of a revision round is told on top of the task's own prompt:
//! which round this is, the events it answers (a review's text and inline
//! comments with file and line, a comment, a failing check's summary and
//! annotations, a status's description and URL, the files a merge of the base
//! left with conflict markers) and the change the pull request makes so far.
use crate::queue::review::Round;

/// The change so far is cut at this size in the prompt.
pub const DIFF_CAP: usize = 64 * 1024;

/// The section added to the task's prompt for `round`.
pub fn round_section(round: &Round, branch: &str, diff: &str) -> String {
    let (k, of) = round.of;
    let mut out = format!("\n\n# Revision round {k} of {of}\n\n");
    if round.number != k {
        out.push_str(&format!(
            "(Round {} of this task in all: a person allowed more rounds.)\n\n",
            round.number
        ));
    }
    out.push_str(&format!(
        "Your change is open as a pull request (branch `{branch}`), and people or its checks asked for more. This worktree holds the pull request as it is now, including anything people pushed to it. Answer every event below with changes to the files, within the same paths as before; git agentos commits your work, verifies it, pushes it as a fast-forward and replies on the pull request with your summary.\n"
    ));
    for (i, event) in round.events.iter().enumerate() {
        out.push_str(&format!("\n## Event {}: {}\n\n", i + 1, event.title));
        if event.detail.trim().is_empty() {
            out.push_str("(no text)\n");
        } else {
            out.push_str(event.detail.trim_end());
            out.push('\n');
        }
    }
    if round.merging {
        out.push_str(&format!(
            "\n## Merging `{}`\n\nThe base branch `{}` has been merged into this worktree (the merge is not committed yet; git agentos commits it).",
            round.base_branch, round.base_branch
        ));
        if round.conflicts.is_empty() {
            out.push_str(" It merged without conflicts.\n");
        } else {
            out.push_str(" These files hold conflict markers (`<<<<<<<`, `=======`, `>>>>>>>`): edit each so that both sides' intent is kept and no marker is left.\n");
            for file in &round.conflicts {
                out.push_str(&format!("- `{file}`\n"));
            }
        }
    }
    out.push_str("\n## The change so far\n\n");
    if diff.trim().is_empty() {
        out.push_str("(the pull request changes nothing yet)\n");
    } else {
        let cut = if diff.len() > DIFF_CAP {
            let mut end = DIFF_CAP;
            while !diff.is_char_boundary(end) {
                end -= 1;
            }
            format!(
                "{}\n… (cut at {} KiB of {} KiB)\n",
                &diff[..end],
                DIFF_CAP / 1024,
                diff.len() / 1024
            )
        } else {
            diff.to_string()
        };
        out.push_str("```diff\n");
        out.push_str(cut.trim_end());
        out.push_str("\n```\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queue::review::Event;

    #[test]
    fn the_section_holds_every_event_the_conflicts_and_the_diff() {
        let round = Round {
            number: 2,
            of: (2, 3),
            events: vec![
                Event {
                    key: "check:ci/test@abc".into(),
                    title: "a failing check `ci/test`".into(),
                    detail: "Annotations:\n- `README.md` line 3 [failure] typo".into(),
                    conflict: false,
                },
                Event {
                    key: "conflict:abc..def".into(),
                    title: "a conflict with `main`".into(),
                    detail: String::new(),
                    conflict: true,
                },
            ],
            merging: true,
            base_branch: "main".into(),
            conflicts: vec!["README.md".into()],
            ..Round::default()
        };
        let text = round_section(&round, "agentos/fix", "-old\n+new\n");
        for part in [
            "# Revision round 2 of 3",
            "## Event 1: a failing check `ci/test`",
            "- `README.md` line 3 [failure] typo",
            "## Event 2: a conflict with `main`",
            "These files hold conflict markers",
            "- `README.md`\n",
            "```diff\n-old\n+new\n```",
        ] {
            assert!(text.contains(part), "{part:?} missing:\n{text}");
        }
        let big = "x".repeat(DIFF_CAP + 10);
        assert!(round_section(&round, "b", &big).contains("cut at 64 KiB"));
    }
}
