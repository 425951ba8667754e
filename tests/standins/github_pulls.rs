//! Pull requests on the GitHub stand-in over time: mergeability follows git,
//! a merge lands on the base branch, a pull request is retargeted, closed,
//! labelled, and its comments paged; without an origin refs are taken as given.
use super::github::{commit, open_pull, with_client, with_origin};
use crate::support::github::{Annotation, Check, GitHubApi, Who};
use crate::support::seal;
use octocrab::models::pulls::MergeableState;
use octocrab::models::{CheckRunId, IssueState};
use octocrab::params::repos::Commitish;

pub fn pull(api: &GitHubApi) -> octocrab::models::pulls::PullRequest {
    with_client(api, |gh| async move {
        gh.pulls("octo", "widgets").get(1).await.expect("get")
    })
}

#[test]
fn mergeability_is_what_git_says_and_a_merge_lands_on_the_base_branch() {
    let (repo, origin) = with_origin();
    let api = GitHubApi::start_with_origin("octo", "widgets", &origin);
    open_pull(&api);
    assert_eq!(pull(&api).mergeable_state, Some(MergeableState::Clean));
    // The base moves on and conflicts with the branch.
    repo.git(&["checkout", "-q", "main"]);
    let base = commit(
        &repo,
        "README.md",
        "# Example\n\nInstall with `make install`.\n",
    );
    repo.git(&["push", "-q", "origin", "main"]);
    let pr = pull(&api);
    assert_eq!(
        (pr.mergeable, pr.mergeable_state),
        (Some(false), Some(MergeableState::Dirty))
    );
    assert_eq!(pr.base.sha, base);
    // GitHub still computing: null, "unknown".
    api.state.lock().expect("lock").mergeable_unknown = 1;
    assert_eq!(pull(&api).mergeable, None);
    // Resolved on the branch and pushed: mergeable again.
    repo.git(&["checkout", "-q", "agentos/fix"]);
    let mut merge = std::process::Command::new("git");
    seal(&mut merge, &repo.home);
    let merged = merge
        .args(["merge", "-q", "main"])
        .current_dir(repo.root())
        .output()
        .expect("git merge");
    assert!(!merged.status.success(), "the merge conflicts");
    repo.write("README.md", "# Example\n\nInstall with `cargo install`.\n");
    repo.git(&["commit", "-q", "-am", "Merge main"]);
    repo.git(&["push", "-q", "origin", "agentos/fix"]);
    assert_eq!(pull(&api).mergeable_state, Some(MergeableState::Clean));
    api.set_mergeable(1, Some(false));
    assert_eq!(pull(&api).mergeable, Some(false), "forced");
    api.state.lock().expect("lock").mergeable.clear();

    let sha = api.merge(1, "octo");
    let main = repo.git(&["ls-remote", "origin", "refs/heads/main"]);
    assert!(
        main.starts_with(&sha),
        "the merge commit is origin's main: {main}"
    );
    repo.git(&["fetch", "-q", "origin"]);
    let parents = repo.git(&["rev-list", "--parents", "-n", "1", &sha]);
    assert_eq!(
        parents.split_whitespace().count(),
        3,
        "a merge commit: {parents}"
    );
    let pr = pull(&api);
    assert_eq!(
        (pr.state, pr.merged),
        (Some(IssueState::Closed), Some(true))
    );
    assert_eq!(pr.merge_commit_sha.as_deref(), Some(sha.as_str()));
    assert_eq!(pr.merged_by.map(|u| u.login), Some("octo".to_string()));
    assert!(pr.merged_at.is_some());
    let issue = with_client(&api, |gh| async move {
        gh.issues("octo", "widgets").get(1).await.expect("issue")
    });
    assert_eq!(issue.closed_by.map(|u| u.login), Some("octo".to_string()));
}

#[test]
fn a_pull_request_is_retargeted_closed_labelled_and_paged_as_on_github() {
    let (repo, origin) = with_origin();
    repo.git(&["push", "-q", "origin", "main:release"]);
    let api = GitHubApi::start_with_origin("octo", "widgets", &origin);
    open_pull(&api);
    for i in 0..35 {
        api.comment(1, &Who::member("alice"), &format!("comment {i}"));
    }
    with_client(&api, |gh| async move {
        let pulls = gh.pulls("octo", "widgets");
        let pr = pulls
            .update(1)
            .base("release")
            .send()
            .await
            .expect("retarget");
        assert_eq!(pr.base.ref_field, "release");
        let refused = pulls.update(1).base("no-such-branch").send().await;
        assert!(
            matches!(&refused, Err(octocrab::Error::GitHub { source, .. }) if source.status_code.as_u16() == 422),
            "{refused:?}"
        );

        let issues = gh.issues("octo", "widgets");
        let added = issues
            .add_labels(1, &["agentos:needs-human".into(), "docs".into()])
            .await
            .expect("add");
        assert_eq!(added.len(), 2);
        let left = issues
            .remove_label(1, "agentos:needs-human")
            .await
            .expect("remove");
        assert_eq!(
            left.iter().map(|l| l.name.as_str()).collect::<Vec<_>>(),
            ["docs"]
        );
        assert!(
            issues.remove_label(1, "agentos:needs-human").await.is_err(),
            "404: not on the issue"
        );
        let listed = issues
            .list_labels_for_issue(1)
            .send()
            .await
            .expect("labels")
            .items;
        assert_eq!(listed.len(), 1);

        let first = issues.list_comments(1).send().await.expect("page 1");
        assert_eq!(
            (first.items.len(), first.next.is_some()),
            (30, true),
            "30 a page, and a Link to the next"
        );
        let all = gh.all_pages(first).await.expect("all pages");
        assert_eq!(all.len(), 35);
        assert_eq!(all[34].body.as_deref(), Some("comment 34"));

        let closed = pulls
            .update(1)
            .state(octocrab::params::pulls::State::Closed)
            .send()
            .await
            .expect("close");
        assert_eq!(
            (closed.state, closed.merged),
            (Some(IssueState::Closed), Some(false))
        );
        let issue = issues.get(1).await.expect("issue");
        assert_eq!(
            issue.closed_by.map(|u| u.login),
            Some("agentos-bot".to_string())
        );
    });
    assert_eq!(api.labels(1), ["docs"]);
    api.add_labels(1, &["agentos:hold"]);
    assert_eq!(api.labels(1), ["docs", "agentos:hold"]);
}

/// Without an origin refs are taken as they come; a re-run check hides the
/// earlier run of its name (GitHub's `filter=latest`); a person's close counts.
#[test]
fn without_an_origin_checks_match_the_sha_they_were_put_on() {
    let api = GitHubApi::start("octo", "widgets");
    with_client(&api, |gh| async move {
        let pulls = gh.pulls("octo", "widgets");
        pulls
            .create("T", "agentos/x", "main")
            .send()
            .await
            .expect("create");
    });
    let sha = "1".repeat(40);
    api.check_run(&sha, &Check::failed("ci/test", "flaky"));
    let rerun = api.check_run(&sha, &Check::running("ci/test"));
    api.finish_check(rerun, "success");
    let mut lint = Check::completed("ci/lint", "neutral", "1 warning");
    lint.annotations.push(Annotation {
        path: "README.md".into(),
        line: 2,
        level: "warning".into(),
        title: "style".into(),
        message: "line too long".into(),
    });
    let lint = api.check_run(&sha, &lint);
    with_client(&api, |gh| async move {
        let checks = gh.checks("octo", "widgets");
        let runs = checks
            .list_check_runs_for_git_ref(Commitish(sha))
            .send()
            .await
            .expect("runs");
        let test = runs
            .check_runs
            .iter()
            .find(|r| r.name == "ci/test")
            .expect("ci/test");
        assert_eq!(
            (runs.total_count, test.id.0),
            (2, rerun),
            "the latest run per name"
        );
        assert_eq!(test.conclusion.as_deref(), Some("success"));
        let notes = checks
            .list_annotations(CheckRunId(lint))
            .send()
            .await
            .expect("notes");
        assert_eq!(notes[0].annotation_level.as_deref(), Some("warning"));
        let other = Commitish("2".repeat(40));
        let none = checks
            .list_check_runs_for_git_ref(other)
            .send()
            .await
            .expect("runs");
        assert_eq!(none.total_count, 0);
    });
    api.close(1, "octo");
    assert_eq!(pull(&api).state, Some(IssueState::Closed));
}
