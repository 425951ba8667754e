//! `watch` follows open pull requests on its own (the pass schedule compressed
//! through `AGENTOS_REVIEW_PASS_BASE`), and sends no request at all while
//! review/ is empty.
use super::{readme_rounds, Scenario};
use crate::support::github::{GitHubApi, Who};
use crate::support::{wait_until, wait_until_watching, FakeAgent, TestRepo};
use std::process::Stdio;
use std::time::Duration;

/// How long `watch` may take to notice and act. Generous: a round runs the real
/// Claude Code CLI, and on a loaded 2-core machine (the whole suite at once, other
/// builds) that took more than a minute; the waits end as soon as it is done.
const PATIENCE: Duration = Duration::from_secs(240);

/// Drop a file that can never run into todo/ and wait until `watch` has moved
/// it to failed/: a window of more than a second (its grace) in which `watch`
/// woke and worked, measured by an event, not a sleep.
fn let_watch_work(repo: &TestRepo, name: &str) {
    repo.write(&format!(".agentos/todo/{name}.md"), "no front matter\n");
    wait_until(PATIENCE, "watch rejected the file", || {
        repo.exists(&format!(".agentos/failed/{name}.md"))
    });
}

/// `watch` with the pass schedule compressed (a first pass 100 ms after a
/// change), its stderr piped.
fn fast_watch(s: &Scenario) -> std::process::Child {
    s.repo
        .cmd(&["watch"])
        .envs(s.env())
        .env("AGENTOS_REVIEW_PASS_BASE", "100ms")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn watch")
}

#[test]
fn watch_answers_a_review_on_its_own_and_stops_asking_once_merged() {
    let s = Scenario::published(readme_rounds(), &[]);
    let mut watch = fast_watch(&s);
    let _stderr = wait_until_watching(&mut watch);
    s.github.review(
        1,
        &Who::owner("octo"),
        "CHANGES_REQUESTED",
        "Pin the version.",
    );
    wait_until(PATIENCE, "watch made the round", || {
        s.github.posted(1).len() == 1
    });
    assert_eq!(s.branch_log().len(), 2);
    // Passes over an unchanged pull request cost no rate limit.
    let charged = s.github.charged();
    let passes = || s.record()["review"]["passes"].as_u64().unwrap_or(0);
    let now = passes();
    wait_until(PATIENCE, "two more passes", || passes() >= now + 2);
    assert!(s.github.not_modified() > 0);
    assert!(
        s.github.charged() <= charged + 6,
        "one pass's worth at most was charged after the round ({} → {})",
        charged,
        s.github.charged()
    );
    s.github.merge(1, "octo");
    wait_until(PATIENCE, "watch saw the merge", || {
        s.repo.exists(".agentos/done/fix.md")
    });
    let requests = s.github.state.lock().expect("lock").requests.len();
    let_watch_work(&s.repo, "broken");
    assert_eq!(
        s.github.state.lock().expect("lock").requests.len(),
        requests,
        "no request once review/ is empty"
    );
    let _ = std::process::Command::new("kill")
        .arg(watch.id().to_string())
        .status();
    watch.wait().expect("watch stops");
    s.assert_no_token();
}

#[test]
fn an_idle_watch_with_no_task_in_review_sends_no_request() {
    let repo = TestRepo::initialised();
    let github = GitHubApi::start("octo", "widgets");
    let mut watch = repo
        .cmd(&["watch"])
        .env("AGENTOS_GITHUB_API", &github.url)
        .env("AGENTOS_GITHUB_REPO", "octo/widgets")
        .env("GITHUB_TOKEN", crate::publish::TOKEN)
        .env("AGENTOS_REVIEW_PASS_BASE", "10ms")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn watch");
    let _stderr = wait_until_watching(&mut watch);
    let_watch_work(&repo, "one");
    let_watch_work(&repo, "two");
    assert!(
        github.state.lock().expect("lock").requests.is_empty(),
        "not even GET /user"
    );
    let _ = std::process::Command::new("kill")
        .arg(watch.id().to_string())
        .status();
    watch.wait().expect("watch stops");
    let sync = repo
        .agentos_env(
            &["sync"],
            &[
                ("AGENTOS_GITHUB_API", github.url.as_str()),
                ("AGENTOS_GITHUB_REPO", "octo/widgets"),
                ("GITHUB_TOKEN", crate::publish::TOKEN),
            ],
        )
        .ok();
    assert!(sync.stdout.contains("review/ is empty"), "{}", sync.stdout);
    assert!(github.state.lock().expect("lock").requests.is_empty());
}

/// Red team 28: a link planted deep in the `runs/` folder of a task in review
/// while `watch` runs (a pulled commit can bring one) is found before the
/// task's next round writes there: `watch` stops, naming it, and nothing is
/// written outside the repository.
#[test]
fn a_link_planted_in_a_reviewed_tasks_runs_folder_stops_watch_before_its_round() {
    let s = Scenario::published_fake(|repo| {
        FakeAgent::new(repo)
            .runs("echo 'Pin it: `cargo install --locked`.' >> README.md")
            .build()
    });
    let outside = s.repo.dir.path().join("outside");
    std::fs::create_dir_all(&outside).expect("mkdir");
    let mut watch = fast_watch(&s);
    let mut stderr = wait_until_watching(&mut watch);
    std::os::unix::fs::symlink(&outside, s.repo.path(".agentos/runs/fix/round-1")).expect("plant");
    s.github.review(
        1,
        &Who::owner("octo"),
        "CHANGES_REQUESTED",
        "Pin the version.",
    );
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(status) = watch.try_wait().expect("wait") {
            break Some(status);
        }
        if start.elapsed() > PATIENCE {
            let _ = watch.kill();
            let _ = watch.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let status = status.expect("watch stopped on its own");
    let mut said = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut said).expect("stderr");
    assert!(!status.success(), "{said}");
    assert!(said.contains(".agentos/runs/fix/round-1"), "{said}");
    assert_eq!(
        std::fs::read_dir(&outside).expect("read").count(),
        0,
        "nothing was written through the link"
    );
    assert!(s.github.posted(1).is_empty(), "no round was made");
}
