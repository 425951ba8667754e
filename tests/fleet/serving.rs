//! One `watch --fleet` serves every repository of the fleet in turn, takes up
//! one linked while it runs, runs two side by side with `--jobs 2`, loses
//! nothing to `kill -9`, and sleeps when idle.
use super::{queue, wait_done, Fleet};
use crate::support::messages_api::MessagesApi;
use crate::support::{alive, wait_until, FakeAgent};
use std::time::Duration;

#[test]
fn one_watch_serves_three_repositories_in_turn_and_one_linked_while_it_runs() {
    let mut fleet = Fleet::new(&["alpha", "beta", "gamma"]);
    // A dangling link is reported, never fatal.
    let gone = fleet.host().dir.path().join("moved-away");
    std::os::unix::fs::symlink(&gone, fleet.home.join("fleet/gone")).expect("link");
    for (repo, prefix) in fleet.repos.iter().zip(["a", "b", "c"]) {
        queue(repo, &format!("{prefix}1"));
        queue(repo, &format!("{prefix}2"));
    }
    let agent = fleet.logging_agent();
    let watch = fleet.watch(&[], &[("AGENTOS_AGENT_CMD", &agent)]);
    for (repo, prefix) in fleet.repos.iter().zip(["a", "b", "c"]) {
        wait_done(repo, &[&format!("{prefix}1"), &format!("{prefix}2")]);
    }
    // One at a time, taking turns: the repository served least recently first.
    let want: Vec<String> = ["a1", "b1", "c1", "a2", "b2", "c2"]
        .iter()
        .flat_map(|id| [format!("start {id}"), format!("end {id}")])
        .collect();
    assert_eq!(fleet.log(), want);
    assert!(
        watch.said("[gone] not served: points to"),
        "{}",
        watch.stderr.lock().expect("lock")
    );
    // Each repository's lock names the fleet; a per-repository run is refused.
    fleet.repos[1]
        .agentos(&["run"])
        .code(3)
        .stderr_has("`git agentos watch --fleet`");
    // A repository linked while it watches is served.
    let delta = fleet.another();
    queue(&fleet.repos[delta], "d1");
    fleet.link(delta, "delta");
    wait_done(&fleet.repos[delta], &["d1"]);
    watch.wait_for("[delta] serving");
    // status, list and friction over the whole fleet.
    let status = fleet.agentos(&["status", "--fleet", "--json"]).ok().json();
    let repos = status.as_array().expect("an array");
    let names: Vec<&str> = repos
        .iter()
        .map(|r| r["name"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(names, ["alpha", "beta", "delta", "gamma", "gone"]);
    assert_eq!(repos[0]["counts"]["done"], 2);
    assert_eq!(repos[0]["dispatcher"]["command"], "watch --fleet");
    assert!(repos[4]["problem"]
        .as_str()
        .is_some_and(|p| p.contains("does not exist")));
    fleet
        .agentos(&["status", "--fleet"])
        .ok()
        .stdout_has("gone  ")
        .stdout_has("cannot be served: points to");
    let list = fleet.agentos(&["list", "--fleet", "--json"]).ok().json();
    let mut tasks: Vec<String> = list
        .as_array()
        .expect("an array")
        .iter()
        .map(|t| {
            format!(
                "{}/{}",
                t["repository"].as_str().unwrap_or(""),
                t["id"].as_str().unwrap_or("")
            )
        })
        .collect();
    tasks.sort();
    assert_eq!(
        tasks,
        ["alpha/a1", "alpha/a2", "beta/b1", "beta/b2", "delta/d1", "gamma/c1", "gamma/c2"]
    );
    fleet
        .agentos(&["list", "--fleet"])
        .ok()
        .stdout_has("REPO")
        .stdout_has("delta done    d1");
    fleet
        .agentos(&["friction", "--fleet"])
        .ok()
        .stdout_has("== alpha ==")
        .stdout_has("== gamma ==");
    fleet
        .agentos(&["fleet", "list"])
        .ok()
        .stdout_has("alpha")
        .stdout_has("(points to");
    assert_eq!(
        watch.stop(),
        Some(0),
        "watch --fleet stops cleanly on SIGTERM"
    );
}

#[test]
fn fleet_add_list_and_rm_manage_links_only() {
    let fleet = Fleet::new(&[]);
    let repo = &fleet.repos[0];
    fleet
        .agentos(&["fleet", "add"])
        .ok()
        .stdout_has("added repo:");
    assert!(super::is_link(&fleet.home.join("fleet/repo")));
    fleet
        .agentos(&["fleet", "add", "--name", "repo"])
        .ok()
        .stdout_has("already in the fleet");
    fleet
        .agentos(&["fleet", "add", "--name", "Bad Name"])
        .code(2)
        .stderr_has("cannot name a fleet repository");
    let listed = fleet.agentos(&["fleet", "list", "--json"]).ok().json();
    assert_eq!(listed[0]["name"], "repo");
    assert!(listed[0].get("problem").is_none(), "{listed}");
    fleet
        .agentos(&["fleet", "rm", "repo"])
        .ok()
        .stdout_has("removed repo");
    assert!(
        repo.exists(".agentos/config.toml"),
        "the repository is untouched"
    );
    fleet
        .agentos(&["fleet", "rm", "repo"])
        .code(2)
        .stderr_has("has no `repo`");
    fleet
        .agentos(&["fleet", "list"])
        .ok()
        .stdout_has("The fleet is empty");
}

#[test]
fn jobs_2_runs_two_repositories_side_by_side() {
    let fleet = Fleet::new(&["one", "two"]);
    queue(&fleet.repos[0], "o1");
    queue(&fleet.repos[1], "t1");
    // Each agent waits until both have started: with one job at a time this
    // could never finish.
    let started = fleet.scratch.join("started");
    let agent = FakeAgent::new(fleet.host())
        .runs(&format!(
            "mkdir -p {0}; touch {0}/$(basename \"$PWD\")",
            started.display()
        ))
        .runs(&format!(
            "while [ $(ls {} | wc -l) -lt 2 ]; do sleep 0.02; done",
            started.display()
        ))
        .writes("README.md", "Install with `cargo install`.\n")
        .build();
    let watch = fleet.watch(&["--jobs", "2"], &[("AGENTOS_AGENT_CMD", &agent)]);
    wait_done(&fleet.repos[0], &["o1"]);
    wait_done(&fleet.repos[1], &["t1"]);
    assert_eq!(watch.stop(), Some(0));
}

/// A real `kill -9` of the fleet's dispatcher while an agent runs in one
/// repository: nothing is lost in any, and the next `watch --fleet` finishes
/// every task once.
#[test]
fn kill_9_of_the_fleet_dispatcher_loses_nothing() {
    let fleet = Fleet::new(&["one", "two"]);
    queue(&fleet.repos[0], "o1");
    queue(&fleet.repos[1], "t1");
    queue(&fleet.repos[1], "t2");
    let running = fleet.scratch.join("running");
    let stuck = FakeAgent::new(fleet.host())
        .runs(&format!("touch {}", running.display()))
        .runs("sleep 300")
        .build();
    let mut watch = fleet.watch(&[], &[("AGENTOS_AGENT_CMD", &stuck)]);
    wait_until(Duration::from_secs(30), "the first agent runs", || {
        running.exists()
    });
    watch.child.kill().expect("kill -9");
    watch.child.wait().expect("reap");
    let agent = fleet.logging_agent();
    let again = fleet.watch(&[], &[("AGENTOS_AGENT_CMD", &agent)]);
    wait_done(&fleet.repos[0], &["o1"]);
    wait_done(&fleet.repos[1], &["t1", "t2"]);
    let log = fleet.log();
    for id in ["o1", "t1", "t2"] {
        let starts = log.iter().filter(|l| **l == format!("start {id}")).count();
        assert_eq!(starts, 1, "{id} ran once after the kill: {log:?}");
    }
    assert_eq!(again.stop(), Some(0));
    for repo in &fleet.repos {
        assert_eq!(repo.files_in(".agentos/doing"), Vec::<String>::new());
        assert_eq!(repo.files_in(".agentos/failed"), Vec::<String>::new());
    }
}

/// An idle `watch --fleet` over 10 repositories sleeps.
#[test]
fn an_idle_fleet_watch_over_ten_repositories_uses_no_cpu() {
    let names: Vec<String> = (0..10).map(|i| format!("r{i}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let fleet = Fleet::new(&names);
    let watch = fleet.watch(&[], &[]);
    assert!(watch.said("watching 10 of 10 fleet repositories"));
    let pid = watch.child.id();
    let before = crate::support::cpu_ns(pid);
    // Measures CPU over a window of time: this sleep is the test itself.
    std::thread::sleep(Duration::from_secs(2));
    let used_ms = (crate::support::cpu_ns(pid) - before) as f64 / 1e6;
    assert!(alive(pid as i32));
    assert!(
        used_ms < 20.0,
        "an idle watch --fleet used {used_ms:.1} ms of CPU in 2 s"
    );
}

/// The real Claude Code CLI, in two repositories of one fleet.
#[test]
fn real_claude_code_works_in_two_fleet_repositories() {
    let fleet = Fleet::new(&["one", "two"]);
    let api = MessagesApi::writes(vec![(
        "README.md".into(),
        "# Example\n\nInstall with `cargo install`.\n".into(),
    )]);
    queue(&fleet.repos[0], "o1");
    queue(&fleet.repos[1], "t1");
    let env = fleet.host().claude_env(&api);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let watch = fleet.watch(&[], &env);
    wait_done(&fleet.repos[0], &["o1"]);
    wait_done(&fleet.repos[1], &["t1"]);
    for (repo, id) in fleet.repos.iter().zip(["o1", "t1"]) {
        assert_eq!(
            repo.git(&["show", &format!("agentos/{id}:README.md")]),
            "# Example\n\nInstall with `cargo install`.\n"
        );
    }
    assert_eq!(watch.stop(), Some(0));
}

/// What a person reads about the fleet: `fleet list`, `status --fleet` and
/// `list --fleet`, with a dangling link among the repositories.
#[test]
fn the_fleet_as_a_person_reads_it() {
    let fleet = Fleet::new(&["web"]);
    let repo = fleet.host();
    std::os::unix::fs::symlink(
        repo.dir.path().join("moved-away"),
        fleet.home.join("fleet/gone"),
    )
    .expect("link");
    queue(repo, "good");
    queue(repo, "bad");
    let agent = FakeAgent::new(repo)
        .runs("if [ \"$(basename \"$PWD\")\" = bad ]; then exit 3; fi")
        .writes("README.md", "Install with `cargo install`.\n")
        .build();
    repo.agentos_env(&["run", "--no-pr"], &[("AGENTOS_AGENT_CMD", &agent)])
        .code(1);
    queue(repo, "later");
    let mut text = String::new();
    for args in [
        &["fleet", "list"][..],
        &["status", "--fleet"],
        &["list", "--fleet"],
    ] {
        text.push_str(&format!("$ git agentos {}\n", args.join(" ")));
        text.push_str(&repo.output(&fleet.agentos(args)));
    }
    insta::assert_snapshot!(text, @"
    $ git agentos fleet list
    gone                 [TMP]/moved-away  (points to [TMP]/moved-away, which does not exist; remove the link (`git agentos fleet rm gone`) or restore the repository)
    web                  [REPO]
    $ git agentos status --fleet
    gone  [TMP]/moved-away
      cannot be served: points to [TMP]/moved-away, which does not exist; remove the link (`git agentos fleet rm gone`) or restore the repository
    web  [REPO]
      dispatcher: none
      todo 1, doing 0, review 0, done 1, failed 1
      last failure bad: the agent exited with code 3 before its result (it crashed or was killed mid-run)
    $ git agentos list --fleet
    REPO STATE   ID    AGENT       PRI  TITLE
    web  todo    later default       0  Fix later
    web  done    good  default       0  Fix good
    web  failed  bad   default       0  Fix bad  (the agent exited with code 3 before its result (it crashed or was killed mid-run))
    ------- stderr -------
    gone: points to [TMP]/moved-away, which does not exist; remove the link (`git agentos fleet rm gone`) or restore the repository
    ");
}
