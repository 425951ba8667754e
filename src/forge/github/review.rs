//! Following an open pull request on GitHub: one pass reads it with six
//! conditional requests (the pull request; its reviews; its inline comments;
//! its conversation comments; the check runs and the combined status of its
//! head commit), plus the annotations of each failing check run and any
//! further page of a list; then the reply, labels, and who closed it.
use super::{encode, GitHub};
use crate::forge::pull::{self, Pull, PullSnapshot};
use crate::forge::{Conditional, ForgeError};
use serde_json::{json, Value};

/// Items per page of the lists a pass reads.
const PER_PAGE: &str = "per_page=100";

impl GitHub {
    pub(super) fn me_login(&self, cache: &mut Conditional) -> Result<String, ForgeError> {
        let pages = self.get_cached("say who the token belongs to", "/user", cache)?;
        pages
            .first()
            .and_then(|v| v["login"].as_str())
            .map(str::to_string)
            .ok_or_else(|| ForgeError {
                message: "GitHub's answer to `GET /user` names no login".into(),
                ..ForgeError::default()
            })
    }

    pub(super) fn read(
        &self,
        number: u64,
        cache: &mut Conditional,
    ) -> Result<PullSnapshot, ForgeError> {
        cache.begin();
        let path = |rest: &str| self.repo_path(&format!("/pulls/{number}{rest}"));
        let first = |pages: Vec<Value>| pages.into_iter().next().unwrap_or(Value::Null);
        let pull: Pull = serde_json::from_value(first(self.get_cached(
            "read the pull request",
            &path(""),
            cache,
        )?))
        .map_err(|e| ForgeError {
            message: format!(
                "GitHub's answer about pull request #{number} of {} does not read as one: {e}",
                self.slug()
            ),
            ..ForgeError::default()
        })?;
        let reviews = pull::items(&self.get_cached(
            "read the reviews of a pull request",
            &path(&format!("/reviews?{PER_PAGE}")),
            cache,
        )?);
        let inline = pull::items(&self.get_cached(
            "read the review comments of a pull request",
            &path(&format!("/comments?{PER_PAGE}")),
            cache,
        )?);
        let comments = pull::items(&self.get_cached(
            "read the comments of a pull request",
            &self.repo_path(&format!("/issues/{number}/comments?{PER_PAGE}")),
            cache,
        )?);
        let (mut checks, statuses) = if pull.head.sha.is_empty() {
            (Vec::new(), Vec::new())
        } else {
            let commit = |rest: &str| self.repo_path(&format!("/commits/{}{rest}", pull.head.sha));
            let runs = pull::check_runs(&self.get_cached(
                "read the check runs of a commit",
                &commit(&format!("/check-runs?{PER_PAGE}")),
                cache,
            )?);
            let combined = first(self.get_cached(
                "read the statuses of a commit",
                &commit(&format!("/status?{PER_PAGE}")),
                cache,
            )?);
            (runs, pull::statuses(&combined))
        };
        for run in checks
            .iter_mut()
            .filter(|r| r.failed() && r.output.annotations_count > 0)
        {
            run.annotations = pull::items(&self.get_cached(
                "read the annotations of a check run",
                &self.repo_path(&format!("/check-runs/{}/annotations?{PER_PAGE}", run.id)),
                cache,
            )?);
        }
        cache.keep_used();
        Ok(PullSnapshot {
            pull,
            reviews,
            inline,
            comments,
            checks,
            statuses,
            changed: cache.changed,
            charged: cache.charged,
            not_modified: cache.not_modified,
        })
    }

    pub(super) fn closer(&self, number: u64) -> Result<Option<String>, ForgeError> {
        let issue = self.call(
            "read who closed a pull request",
            None,
            &self.repo_path(&format!("/issues/{number}")),
        )?;
        Ok(issue["closed_by"]["login"].as_str().map(str::to_string))
    }

    pub(super) fn post_comment(&self, number: u64, body: &str) -> Result<u64, ForgeError> {
        let posted = self.call(
            "comment on pull requests",
            Some(&json!({ "body": body })),
            &self.repo_path(&format!("/issues/{number}/comments")),
        )?;
        posted["id"].as_u64().ok_or_else(|| ForgeError {
            message: format!(
                "GitHub's answer to a comment on pull request #{number} of {} has no id",
                self.slug()
            ),
            ..ForgeError::default()
        })
    }

    pub(super) fn find_own_comment(
        &self,
        number: u64,
        marker: &str,
        cache: &mut Conditional,
    ) -> Result<Option<u64>, ForgeError> {
        let me = self.me_login(&mut Conditional::default())?;
        let pages = self.get_cached(
            "read the comments of a pull request",
            &self.repo_path(&format!("/issues/{number}/comments?{PER_PAGE}")),
            cache,
        )?;
        let comments: Vec<pull::Comment> = pull::items(&pages);
        Ok(comments
            .iter()
            .find(|c| {
                pull::login(&c.user) == me && c.body.as_deref().is_some_and(|b| b.contains(marker))
            })
            .map(|c| c.id))
    }

    pub(super) fn set_base(&self, number: u64, base: &str) -> Result<(), ForgeError> {
        let pull = self.patch(
            "retarget a pull request",
            &json!({ "base": base }),
            &self.repo_path(&format!("/pulls/{number}")),
        )?;
        match pull["base"]["ref"].as_str() {
            Some(now) if now == base => Ok(()),
            other => Err(ForgeError {
                message: format!(
                    "GitHub's answer to retargeting pull request #{number} of {} onto `{base}` names the base {other:?}",
                    self.slug()
                ),
                ..ForgeError::default()
            }),
        }
    }

    pub(super) fn unlabel(&self, number: u64, name: &str) -> Result<(), ForgeError> {
        let path = self.repo_path(&format!("/issues/{number}/labels/{}", encode(name)));
        match self.delete("remove a label", &path) {
            Err(e) if e.status == Some(404) => Ok(()),
            other => other,
        }
    }
}
