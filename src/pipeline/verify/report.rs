//! The verification report: Markdown with the verdict per rule, the declared and
//! touched paths, the verify commands' output and the unified diff (`similar`).
use super::{describe, Report};
use crate::git::Change;

/// The largest unified diff the report carries; the rest is summarised.
pub const DIFF_CAP: usize = 200 * 1024;

/// The unified diff of every change, text files only, capped at [`DIFF_CAP`].
pub fn unified_diff(changes: &[Change]) -> String {
    let mut out = String::new();
    let mut left_out = 0;
    for c in changes {
        if out.len() >= DIFF_CAP {
            left_out += 1;
            continue;
        }
        let old_name = c.from.as_deref().unwrap_or(&c.path);
        let text = |b: &Option<Vec<u8>>| -> Option<String> {
            match b {
                None => Some(String::new()),
                Some(bytes) if bytes.contains(&0) => None,
                Some(bytes) => String::from_utf8(bytes.clone()).ok(),
            }
        };
        match (text(&c.old_text), text(&c.new_text)) {
            (Some(old), Some(new)) => {
                let diff = similar::TextDiff::from_lines(&old, &new);
                let body = diff
                    .unified_diff()
                    .context_radius(3)
                    .header(&format!("a/{old_name}"), &format!("b/{}", c.path))
                    .to_string();
                if body.is_empty() {
                    out.push_str(&format!(
                        "--- a/{old_name}\n+++ b/{}\n({}, content unchanged)\n",
                        c.path,
                        describe(c)
                    ));
                } else {
                    out.push_str(&body);
                }
            }
            _ => out.push_str(&format!("Binary file `{}` {}\n", c.path, describe(c))),
        }
    }
    if out.len() > DIFF_CAP {
        let cut = (0..=DIFF_CAP)
            .rev()
            .find(|i| out.is_char_boundary(*i))
            .unwrap_or(0);
        out.truncate(cut);
        out.push_str(&format!("\n… the diff was cut at {} KiB", DIFF_CAP / 1024));
    }
    if left_out > 0 {
        out.push_str(&format!(
            "\n… and {left_out} more changed file(s) not shown (the diff is capped at {} KiB)\n",
            DIFF_CAP / 1024
        ));
    }
    out
}

/// `text` as one Markdown code span, shown as it is: the fence is longer than any
/// run of backticks in it, and a line break is shown as `\n` (a span cannot hold
/// one; it would end the list item or the table row). A path an agent chose,
/// such as ``a`<!--``, can then neither close the span nor hide what follows.
pub fn code(text: &str) -> String {
    let text = text.replace('\r', "\\r").replace('\n', "\\n");
    let fence = "`".repeat(longest_run(&text, '`') + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{text}{pad}{fence}")
}

/// A code block's fence for `content`: longer than any run of backticks in it.
fn fence_for(content: &str) -> String {
    "`".repeat(longest_run(content, '`').max(2) + 1)
}

fn longest_run(text: &str, c: char) -> usize {
    let (mut best, mut run) = (0, 0);
    for ch in text.chars() {
        run = if ch == c { run + 1 } else { 0 };
        best = best.max(run);
    }
    best
}

/// A rule's detail for one table cell: no line break (it would end the row),
/// no `|` (it would start a cell), no HTML (`<!--` would hide the rest).
fn cell(detail: &str) -> String {
    detail
        .replace('\r', "\\r")
        .replace('\n', "\\n")
        .replace('|', "\\|")
        .replace('<', "&lt;")
}

/// The report as Markdown.
pub fn markdown(report: &Report) -> String {
    let mut md = format!(
        "# Verification of `{}`: {}\n\n| rule | verdict | detail |\n| --- | --- | --- |\n",
        report.id,
        if report.passed { "passed" } else { "rejected" }
    );
    for (letter, rule) in ["a", "b", "c", "d", "e", "f"].iter().zip(&report.rules) {
        let detail = rule
            .details
            .iter()
            .map(|d| cell(d))
            .collect::<Vec<_>>()
            .join("<br>");
        md.push_str(&format!(
            "| ({letter}) {} | {} | {detail} |\n",
            rule.name,
            if rule.passed {
                "✅ passed"
            } else {
                "❌ failed"
            }
        ));
    }
    sandbox_section(report, &mut md);
    md.push_str("\n## Declared targets\n\n");
    for t in &report.targets {
        md.push_str(&format!("- {}\n", code(t)));
    }
    md.push_str("\n## Touched paths\n\n");
    if report.touched.is_empty() {
        md.push_str("(none)\n");
    }
    for (kind, path) in &report.touched {
        md.push_str(&format!("- {}: {kind}\n", code(path)));
    }
    if !report.commands.is_empty() {
        md.push_str("\n## Verify commands\n");
        for c in &report.commands {
            let fence = fence_for(&c.tail);
            md.push_str(&format!(
                "\n### {}: {}\n\n{fence}text\n{}\n{fence}\n",
                code(&c.command),
                c.status,
                c.tail
            ));
        }
    }
    let fence = fence_for(&report.diff);
    md.push_str(&format!(
        "\n## Diff\n\n{fence}diff\n{}{fence}\n",
        report.diff
    ));
    md
}

/// How the agent and the verify commands ran, and what the sandbox refused.
fn sandbox_section(report: &Report, md: &mut String) {
    if report.sandbox.is_none()
        && report.commands_sandbox.is_none()
        && report.sandbox_denials.is_empty()
    {
        return;
    }
    md.push_str("\n## Sandbox\n\n");
    if let Some(how) = &report.sandbox {
        md.push_str(&format!("- the agent ran with the sandbox {how}\n"));
    }
    match report.commands_sandbox.as_deref() {
        Some(how) if how.starts_with("refused") => {
            md.push_str("- the verify commands did not run: there is no sandbox for them\n")
        }
        Some(how) => md.push_str(&format!(
            "- the verify commands ran with the sandbox {how}\n"
        )),
        None => {}
    }
    if !report.sandbox_denials.is_empty() {
        md.push_str("\nRefused by the sandbox (nothing was written there):\n\n");
        for d in &report.sandbox_denials {
            md.push_str(&format!("- {}: {}\n", code(&d.path), cell(&d.line)));
        }
    }
}

/// The report for a terminal: Markdown, with verdicts and diff lines in colour.
pub fn coloured(md: &str) -> String {
    let mut out = String::new();
    let mut in_diff = false;
    for line in md.lines() {
        if line.starts_with("```diff") {
            in_diff = true;
        } else if line.starts_with("```") {
            in_diff = false;
        }
        let colour = if in_diff && line.starts_with('+') && !line.starts_with("+++") {
            "32"
        } else if in_diff && line.starts_with('-') && !line.starts_with("---") {
            "31"
        } else if line.contains("❌") || line.contains(": rejected") {
            "31;1"
        } else if line.contains(": passed") {
            "32;1"
        } else {
            ""
        };
        if colour.is_empty() {
            out.push_str(line);
        } else {
            out.push_str(&format!("\x1b[{colour}m{line}\x1b[0m"));
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{cell, code, fence_for};

    /// Red team of 2026-11-26: a file named ``a`<!--`` closed its code span and
    /// opened an HTML comment that hid every later path and the diff on GitHub.
    #[test]
    fn names_and_contents_an_agent_chose_stay_inside_their_span_and_fence() {
        assert_eq!(code("src/a.rs"), "`src/a.rs`");
        assert_eq!(code("a`<!--"), "``a`<!--``");
        assert_eq!(code("`x``"), "``` `x`` ```");
        assert_eq!(code("x\ny"), "`x\\ny`");
        assert_eq!(fence_for("plain"), "```");
        assert_eq!(fence_for("+```\n+````\n"), "`````");
        assert_eq!(cell("`a|b`<!-- x\ny"), "`a\\|b`&lt;!-- x\\ny");
    }
}
