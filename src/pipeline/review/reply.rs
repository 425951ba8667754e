//! The round's last step: one reply on the pull request, saying which events
//! the round answered, what changed (the commit pushed, or why nothing was),
//! the verification's verdict and the agent's summary. The reply carries a
//! hidden marker, so a reply posted just before a crash is found again rather
//! than posted twice.
use super::{forge, note_retries, round, Outcome};
use crate::forge::Conditional;
use crate::pipeline::TaskRun;
use crate::queue::review::Round;
use crate::queue::QueueError;

pub fn run(run: &mut TaskRun) -> Result<Outcome, QueueError> {
    let config = match crate::config::load(&run.ws.tree) {
        Ok(c) => c,
        Err(e) => return Ok(Outcome::Stop(format!("reply: {e}"))),
    };
    let forge = match forge(run, &config) {
        Ok(f) => f,
        Err(e) => return Ok(Outcome::Later(format!("reply: {e}"))),
    };
    let id = run.entry.id.clone();
    let number = run.record.pr_number.unwrap_or_default();
    let r = round(run).clone();
    let marker = marker(&id, r.number);
    let cache_path = super::pass::cache_path(run);
    if r.reply_attempted {
        let mut cache = Conditional::load(&cache_path);
        match forge.find_comment(number, &marker, &mut cache) {
            Ok(Some(found)) => {
                round(run).reply = Some(found);
                return Ok(Outcome::Done);
            }
            Ok(None) => {}
            Err(e) => return Ok(Outcome::Later(format!("reply: {}", e.message))),
        }
    }
    let summary = run
        .record
        .agent_result
        .as_ref()
        .and_then(|a| a.summary.clone())
        .unwrap_or_default();
    let body = text(&marker, &r, &summary, &config.review.mention);
    round(run).reply_attempted = true;
    run.save()?;
    let posted = forge.comment(number, &crate::forge::redact(&body));
    note_retries(run, forge.as_ref());
    match posted {
        Ok(comment) => {
            crate::fault::point("round-mid-reply");
            round(run).reply = Some(comment);
            run.say(&format!(
                "round {}: replied on pull request #{number}",
                r.number
            ));
            Ok(Outcome::Done)
        }
        Err(e) => Ok(Outcome::Later(format!("reply: {}", e.message))),
    }
}

/// The hidden line that identifies round `n`'s reply.
pub fn marker(id: &str, n: u32) -> String {
    format!("<!-- agentos:reply {id} round {n} -->")
}

/// The reply's text.
pub fn text(marker: &str, r: &Round, summary: &str, mention: &str) -> String {
    let (k, of) = r.of;
    let mut out = format!("{marker}\n**git agentos, round {k} of {of}**, answering:\n");
    for event in &r.events {
        out.push_str(&format!("- {}\n", event.title));
    }
    out.push_str("\n**What changed**: ");
    match (&r.stopped, &r.pushed) {
        (Some(why), _) => out.push_str(&format!("nothing was pushed: {why}.\n")),
        (None, Some(sha)) => {
            let merge = if r.merging {
                " (it merges the base branch, conflicts resolved)"
            } else {
                ""
            };
            out.push_str(&format!(
                "pushed {sha}{merge} as a fast-forward; anything pushed to the branch before it is kept.\n"
            ));
            for path in &r.changed {
                out.push_str(&format!("- {path}\n"));
            }
        }
        (None, None) => out.push_str("nothing: the agent made no change.\n"),
    }
    if let Some(verdict) = &r.verdict {
        out.push_str(&format!("\n**Verification**: {verdict}\n"));
    }
    let summary = summary.trim();
    if !summary.is_empty() {
        out.push_str("\n**The agent's summary**\n\n");
        for line in summary.lines() {
            out.push_str(&format!("> {line}\n"));
        }
    }
    out.push_str(&format!(
        "\n<sub>`{mention} stop` stops these rounds, `{mention} retry` allows more; round {k} of the {of} it makes on its own.</sub>\n"
    ));
    out
}
