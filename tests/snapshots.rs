//! Whole-output snapshots of what a person reads: `status`, `list`, `show`,
//! `verify`'s report, `friction`, `--help`, and the main errors with their hints.
//! Every output goes through `TestRepo::normalise` (the temporary folder, times,
//! commit ids and pids become `[REPO]`, `[TMP]`, `[TIME]`, `[SHA]`, `[PID]`…), so a
//! snapshot is exactly what the person sees, and a change to it is a change to
//! the product.
use crate::support::{wait_until, FakeAgent, Run, TestRepo};
use insta::assert_snapshot;
use std::process::Stdio;
use std::time::Duration;

/// A repository with a task in every state: done/ and failed/ from one run,
/// doing/ from a dispatcher killed midway, and todo/ with a task for another
/// agent, a task written by hand into an agent's folder, and a file that can
/// never run.
fn every_state() -> TestRepo {
    let repo = TestRepo::initialised();
    repo.agentos(&["agent", "new", "docs"]).ok();
    repo.agentos(&[
        "add",
        "Fix the install command",
        "-t",
        "README.md",
        "--id",
        "fix-install",
        "--body",
        "The README says `cargo instal`; fix it.\n",
    ])
    .ok();
    repo.agentos(&[
        "add",
        "Start a changelog",
        "-t",
        "CHANGELOG.md",
        "--id",
        "changelog",
    ])
    .ok();
    let agent = FakeAgent::new(&repo)
        .writes("README.md", "# Example\n\nInstall with `cargo install`.\n")
        .reports(3, 0.42, "Fixed the install command.")
        .build();
    repo.agentos_env(&["run"], &[("AGENTOS_AGENT_CMD", &agent)])
        .code(1);
    repo.agentos(&[
        "add",
        "Crashed midway",
        "-t",
        "README.md",
        "--id",
        "crashed",
    ])
    .ok();
    let killed = repo.agentos_env(
        &["run"],
        &[
            ("AGENTOS_AGENT_CMD", &agent),
            ("AGENTOS_FAULT", "after-worktree"),
        ],
    );
    assert_ne!(killed.code, 0, "the dispatcher was killed: {killed:?}");
    // Written by hand first, so that its modification time (which orders a file
    // without `enqueued`) is surely before the tasks `add` queues next.
    repo.write(
        ".agentos/todo/docs/guide.md",
        "+++\ntitle = \"Write the guide\"\ntargets = [\"docs/guide.md\"]\n+++\nFor new users.\n",
    );
    repo.write(
        ".agentos/todo/no-targets.md",
        "+++\ntitle = \"Forgot the targets\"\n+++\n",
    );
    repo.agentos(&[
        "add",
        "Document the API",
        "-t",
        "docs/api.md",
        "--agent",
        "docs",
        "--priority",
        "2",
        "--verify",
        "test -s docs/api.md",
        "--timeout",
        "10m",
        "--id",
        "api-docs",
    ])
    .ok();
    repo.agentos(&["add", "Tidy the README", "-t", "README.md", "--id", "tidy"])
        .ok();
    repo
}

#[test]
fn status_text_and_json() {
    let repo = every_state();
    assert_snapshot!(repo.snapshot(&["status"]), @r#"
    repository  [REPO]
    dispatcher  not running (start one with `git agentos run` or `git agentos watch`)
    queue       3 todo, 1 doing, 0 in review, 1 done, 1 failed, 1 invalid in todo/
    spent       $0.84 today, $0.84 this week
    doing       crashed: attempt 1, last step worktree, claimed by pid [PID]
    invalid     .agentos/todo/no-targets.md: field `targets`: there are no targets; add the paths the change may touch, e.g. `targets = ["README.md"]` or `targets = ["src/api/**"]`
    done        fix-install: agentos/fix-install at [SHORT-SHA]
    "#);
    assert_snapshot!(repo.snapshot(&["status", "--json"]), @r#"
    {
      "repository": "[REPO]",
      "initialised": true,
      "dispatcher": null,
      "lock": "[REPO]/.git/agentos-dispatcher.lock",
      "counts": {
        "doing": 1,
        "done": 1,
        "failed": 1,
        "invalid": 1,
        "review": 0,
        "todo": 3
      },
      "spend": {
        "today_usd": 0.84,
        "week_usd": 0.84
      },
      "invalid": [
        {
          "file": ".agentos/todo/no-targets.md",
          "reason": "field `targets`: there are no targets; add the paths the change may touch, e.g. `targets = [\"README.md\"]` or `targets = [\"src/api/**\"]`"
        }
      ],
      "doing": [
        {
          "id": "crashed",
          "attempt": 1,
          "pid": [PID],
          "last_step": "worktree",
          "sandbox": null
        }
      ],
      "review": [],
      "held": [],
      "recent_done": [
        {
          "id": "fix-install",
          "branch": "agentos/fix-install",
          "commit": "[SHA]",
          "pushed_commit": null,
          "pr_url": null,
          "sandbox": "on (Landlock ABI [N])"
        }
      ]
    }
    "#);
}

#[test]
fn list_text_and_json() {
    let repo = every_state();
    assert_snapshot!(repo.snapshot(&["list"]), @"
    STATE   ID          AGENT       PRI  TITLE
    todo    api-docs    docs          2  Document the API
    todo    guide       docs          0  Write the guide
    todo    tidy        default       0  Tidy the README
    invalid no-targets  -             0  (there are no targets)
    doing   crashed     default       0  Crashed midway
    done    fix-install default       0  Fix the install command
    failed  changelog   default       0  Start a changelog  (verification rejected the change: `README.md` is outside the targets; the target `CHANGELOG.md` was not changed (set `require_all = false` if that is fine))
    ");
    assert_snapshot!(repo.snapshot(&["list", "--state", "failed"]), @"
    STATE   ID        AGENT       PRI  TITLE
    failed  changelog default       0  Start a changelog  (verification rejected the change: `README.md` is outside the targets; the target `CHANGELOG.md` was not changed (set `require_all = false` if that is fine))
    ");
    assert_snapshot!(repo.snapshot(&["list", "--json"]), @r#"
    [
      {
        "id": "api-docs",
        "state": "todo",
        "file": ".agentos/todo/api-docs.md",
        "title": "Document the API",
        "agent": "docs",
        "priority": 2,
        "targets": [
          "docs/api.md"
        ],
        "base": "[SHA]",
        "base_branch": "main",
        "verify": [
          "test -s docs/api.md"
        ],
        "timeout": "10m",
        "enqueued": "[TIME]"
      },
      {
        "id": "guide",
        "state": "todo",
        "file": ".agentos/todo/docs/guide.md",
        "title": "Write the guide",
        "agent": "docs",
        "priority": 0,
        "targets": [
          "docs/guide.md"
        ]
      },
      {
        "id": "tidy",
        "state": "todo",
        "file": ".agentos/todo/tidy.md",
        "title": "Tidy the README",
        "agent": "default",
        "priority": 0,
        "targets": [
          "README.md"
        ],
        "base": "[SHA]",
        "base_branch": "main",
        "enqueued": "[TIME]"
      },
      {
        "id": "no-targets",
        "state": "todo",
        "file": ".agentos/todo/no-targets.md",
        "title": null,
        "agent": null,
        "priority": 0,
        "targets": [],
        "reason": "field `targets`: there are no targets; add the paths the change may touch, e.g. `targets = [\"README.md\"]` or `targets = [\"src/api/**\"]`"
      },
      {
        "id": "crashed",
        "state": "doing",
        "file": ".agentos/doing/crashed.md",
        "title": "Crashed midway",
        "agent": "default",
        "priority": 0,
        "targets": [
          "README.md"
        ],
        "base": "[SHA]",
        "base_branch": "main",
        "enqueued": "[TIME]",
        "record": {
          "id": "crashed",
          "agent": "default",
          "attempt": 1,
          "pid": [PID],
          "claimed_at": "[TIME]",
          "steps": [
            {
              "step": "claim",
              "at": "[TIME]",
              "attempt": 1
            },
            {
              "step": "preflight",
              "at": "[TIME]",
              "attempt": 1
            },
            {
              "step": "worktree",
              "at": "[TIME]",
              "attempt": 1
            }
          ],
          "history": [],
          "base_commit": "[SHA]",
          "branch": "agentos/crashed",
          "branch_created": true
        }
      },
      {
        "id": "fix-install",
        "state": "done",
        "file": ".agentos/done/fix-install.md",
        "title": "Fix the install command",
        "agent": "default",
        "priority": 0,
        "targets": [
          "README.md"
        ],
        "base": "[SHA]",
        "base_branch": "main",
        "enqueued": "[TIME]",
        "record": {
          "id": "fix-install",
          "agent": "default",
          "attempt": 1,
          "pid": [PID],
          "claimed_at": "[TIME]",
          "steps": [
            {
              "step": "claim",
              "at": "[TIME]",
              "attempt": 1
            },
            {
              "step": "preflight",
              "at": "[TIME]",
              "attempt": 1
            },
            {
              "step": "worktree",
              "at": "[TIME]",
              "attempt": 1
            },
            {
              "step": "agent",
              "at": "[TIME]",
              "attempt": 1
            },
            {
              "step": "commit",
              "at": "[TIME]",
              "attempt": 1
            },
            {
              "step": "verify",
              "at": "[TIME]",
              "attempt": 1
            },
            {
              "step": "publish",
              "at": "[TIME]",
              "attempt": 1
            },
            {
              "step": "finish",
              "at": "[TIME]",
              "attempt": 1
            }
          ],
          "history": [],
          "finished_at": "[TIME]",
          "base_commit": "[SHA]",
          "agent_result": {
            "subtype": "success",
            "is_error": false,
            "num_turns": 3,
            "total_cost_usd": 0.42,
            "session_id": null,
            "summary": "Fixed the install command.",
            "permission_denials": []
          },
          "sandbox": "on (Landlock ABI [N])",
          "branch": "agentos/fix-install",
          "branch_created": true,
          "commit": "[SHA]",
          "published_note": "not published: there is no remote `origin`; the verified branch is the output",
          "report": ".agentos/runs/fix-install/attempt-1/report.md"
        }
      },
      {
        "id": "changelog",
        "state": "failed",
        "file": ".agentos/failed/changelog.md",
        "title": "Start a changelog",
        "agent": "default",
        "priority": 0,
        "targets": [
          "CHANGELOG.md"
        ],
        "base": "[SHA]",
        "base_branch": "main",
        "enqueued": "[TIME]",
        "reason": "verification rejected the change: `README.md` is outside the targets; the target `CHANGELOG.md` was not changed (set `require_all = false` if that is fine)",
        "record": {
          "id": "changelog",
          "agent": "default",
          "attempt": 1,
          "pid": [PID],
          "claimed_at": "[TIME]",
          "steps": [
            {
              "step": "claim",
              "at": "[TIME]",
              "attempt": 1
            },
            {
              "step": "preflight",
              "at": "[TIME]",
              "attempt": 1
            },
            {
              "step": "worktree",
              "at": "[TIME]",
              "attempt": 1
            },
            {
              "step": "agent",
              "at": "[TIME]",
              "attempt": 1
            },
            {
              "step": "commit",
              "at": "[TIME]",
              "attempt": 1
            }
          ],
          "history": [],
          "reason": "verification rejected the change: `README.md` is outside the targets; the target `CHANGELOG.md` was not changed (set `require_all = false` if that is fine)",
          "finished_at": "[TIME]",
          "base_commit": "[SHA]",
          "agent_result": {
            "subtype": "success",
            "is_error": false,
            "num_turns": 3,
            "total_cost_usd": 0.42,
            "session_id": null,
            "summary": "Fixed the install command.",
            "permission_denials": []
          },
          "sandbox": "on (Landlock ABI [N])",
          "branch": "agentos/changelog",
          "branch_created": true,
          "branch_tip": "[SHA]",
          "commit": "[SHA]",
          "report": ".agentos/runs/changelog/attempt-1/report.md"
        }
      }
    ]
    "#);
}

#[test]
fn show_a_task_in_each_state() {
    let repo = every_state();
    assert_snapshot!(repo.snapshot(&["show", "api-docs"]), @"
    id        api-docs
    state     todo  (.agentos/todo/api-docs.md)
    title     Document the API
    agent     docs
    targets   docs/api.md
    base      [SHA] (branch main)
    verify    test -s docs/api.md
    priority  2
    timeout   10m
    enqueued  [TIME]
    ");
    assert_snapshot!(repo.snapshot(&["show", "no-targets"]), @r#"
    id        no-targets
    state     todo (invalid: never runs)  (.agentos/todo/no-targets.md)
    agent     default
    priority  0
    timeout   30m (default)
    reason    field `targets`: there are no targets; add the paths the change may touch, e.g. `targets = ["README.md"]` or `targets = ["src/api/**"]`
    "#);
    assert_snapshot!(repo.snapshot(&["show", "crashed"]), @"
    id        crashed
    state     doing  (.agentos/doing/crashed.md)
    title     Crashed midway
    agent     default
    targets   README.md
    base      [SHA] (branch main)
    priority  0
    timeout   30m (default)
    enqueued  [TIME]
    attempt   1
    steps     claim → preflight → worktree
    branch    agentos/crashed
    ");
    assert_snapshot!(repo.snapshot(&["show", "fix-install"]), @"
    id        fix-install
    state     done  (.agentos/done/fix-install.md)
    title     Fix the install command
    agent     default
    targets   README.md
    base      [SHA] (branch main)
    priority  0
    timeout   30m (default)
    enqueued  [TIME]
    attempt   1
    steps     claim → preflight → worktree → agent → commit → verify → publish → finish
    agent run success, 3 turns, $0.4200
    sandbox   on (Landlock ABI [N])
    output    not published: there is no remote `origin`; the verified branch is the output
    report    .agentos/runs/fix-install/attempt-1/report.md
    branch    agentos/fix-install at [SHA]

    The README says `cargo instal`; fix it.

    ---

    ## Result (git agentos)

    - branch: `agentos/fix-install`
    - commit: `[SHA]`
    - base: `[SHA]`
    - output: not published: there is no remote `origin`; the verified branch is the output
    - agent: default (attempt 1)
    - outcome: success, 3 turns, $0.4200
    - finished: [TIME]

    > Fixed the install command.
    ");
    assert_snapshot!(repo.snapshot(&["show", "changelog"]), @"
    id        changelog
    state     failed  (.agentos/failed/changelog.md)
    title     Start a changelog
    agent     default
    targets   CHANGELOG.md
    base      [SHA] (branch main)
    priority  0
    timeout   30m (default)
    enqueued  [TIME]
    attempt   1
    steps     claim → preflight → worktree → agent → commit
    agent run success, 3 turns, $0.4200
    sandbox   on (Landlock ABI [N])
    report    .agentos/runs/changelog/attempt-1/report.md
    branch    agentos/changelog at [SHA]
    reason    verification rejected the change: `README.md` is outside the targets; the target `CHANGELOG.md` was not changed (set `require_all = false` if that is fine)
    ");
}

/// The report `verify ID` prints: passed with a verify command's output, then
/// rejected once the kept worktree holds a file outside the targets.
#[test]
fn verify_reports_passed_and_rejected() {
    let repo = TestRepo::initialised();
    repo.write("docs/guide.md", "# Guide\n\nStep one.\n");
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "Add the guide"]);
    repo.agentos(&[
        "add",
        "Extend the guide",
        "-t",
        "docs/guide.md",
        "--id",
        "extend",
        "--verify",
        "grep -c Step docs/guide.md",
    ])
    .ok();
    let agent = FakeAgent::new(&repo)
        .writes("docs/guide.md", "# Guide\n\nStep one.\nStep two.\n")
        .build();
    repo.agentos_env(&["run", "--keep"], &[("AGENTOS_AGENT_CMD", &agent)])
        .ok();
    assert_snapshot!(repo.snapshot(&["verify", "extend"]), @"
    # Verification of `extend`: passed

    | rule | verdict | detail |
    | --- | --- | --- |
    | (a) the change is not empty | ✅ passed | 1 path(s) changed |
    | (b) only the targets changed | ✅ passed |  |
    | (c) every plain-path target changed | ✅ passed |  |
    | (d) nothing written outside the worktree | ✅ passed |  |
    | (e) the verify commands pass | ✅ passed |  |
    | (f) the branch descends from its base | ✅ passed |  |

    ## Sandbox

    - the agent ran with the sandbox on (Landlock ABI [N])
    - the verify commands ran with the sandbox on (Landlock ABI [N])

    ## Declared targets

    - `docs/guide.md`

    ## Touched paths

    - `docs/guide.md`: modified

    ## Verify commands

    ### `grep -c Step docs/guide.md`: passed

    ```text
    2
    ```

    ## Diff

    ```diff
    --- a/docs/guide.md
    +++ b/docs/guide.md
    @@ -1,3 +1,4 @@
     # Guide
     
     Step one.
    +Step two.
    ```
    ");
    repo.write(".agentos/worktrees/extend/doc/guide.md", "# Stray\n");
    assert_snapshot!(repo.snapshot(&["verify", "extend", "--no-commands"]), @"
    # Verification of `extend`: rejected

    | rule | verdict | detail |
    | --- | --- | --- |
    | (a) the change is not empty | ✅ passed | 2 path(s) changed |
    | (b) only the targets changed | ❌ failed | `doc/guide.md` is outside the targets; did you mean `docs/guide.md`? |
    | (c) every plain-path target changed | ✅ passed |  |
    | (d) nothing written outside the worktree | ✅ passed |  |
    | (e) the verify commands pass | ✅ passed |  |
    | (f) the branch descends from its base | ✅ passed |  |

    ## Sandbox

    - the agent ran with the sandbox on (Landlock ABI [N])

    ## Declared targets

    - `docs/guide.md`

    ## Touched paths

    - `doc/guide.md`: added
    - `docs/guide.md`: modified

    ## Diff

    ```diff
    --- a/doc/guide.md
    +++ b/doc/guide.md
    @@ -0,0 +1 @@
    +# Stray
    --- a/docs/guide.md
    +++ b/docs/guide.md
    @@ -1,3 +1,4 @@
     # Guide
     
     Step one.
    +Step two.
    ```
    ------- stderr -------
    error: verification rejected the change: `doc/guide.md` is outside the targets; did you mean `docs/guide.md`?
    [exit status: 1]
    ");
}

/// Friction from real failures (an agent that is not Claude Code), one event
/// recorded by hand, older events from March 2025 and a line that is not JSON.
/// (Today's three events are recorded within a second; only a run that straddles
/// midnight UTC would see them on two days.)
#[test]
fn friction_text_and_json() {
    let repo = TestRepo::initialised();
    let agent = FakeAgent::plain(&repo)
        .stream_json("not json at all")
        .exits(1)
        .build();
    for id in ["t1", "t2"] {
        repo.agentos(&["add", "Task", "-t", "README.md", "--id", id])
            .ok();
    }
    repo.agentos_env(&["run"], &[("AGENTOS_AGENT_CMD", &agent)])
        .code(1);
    repo.agentos(&[
        "friction",
        "--add",
        "flaky-test",
        "--message",
        "test_login timed out",
        "--task",
        "t1",
        "--step",
        "verify",
    ])
    .ok();
    let mut log = repo.read(".agentos/friction.jsonl");
    log.push_str(concat!(
        r#"{"time":"2025-03-01T09:00:00Z","kind":"timeout","task":"old","step":"agent","message":"the agent timed out after 30m","attempt":1}"#,
        "\n",
        r#"{"time":"2025-03-02T10:30:00Z","kind":"timeout","task":"old","step":"agent","message":"the agent timed out after 30m","attempt":2}"#,
        "\n",
        "this line is not JSON\n",
    ));
    repo.write(".agentos/friction.jsonl", &log);
    assert_snapshot!(repo.snapshot(&["friction"]), @"
    5 events; last 7 days 3, the 7 before 0

    by kind and step:
          2  agent-error        agent        last [TIME]
          2  timeout            agent        last [TIME]
          1  flaky-test         verify       last [TIME]

    worst tasks:
          2  old                            timeout
          2  t1                             agent-error, flaky-test
          1  t2                             agent-error

    by day:
      [DATE]      1  #
      [DATE]      1  #
      [DATE]      3  ###

    1 unreadable line of .agentos/friction.jsonl skipped
    ");
    assert_snapshot!(repo.snapshot(&["friction", "--json"]), @r#"
    {
      "total": 5,
      "by_kind": [
        [
          "agent-error",
          2
        ],
        [
          "timeout",
          2
        ],
        [
          "flaky-test",
          1
        ]
      ],
      "by_step": [
        [
          "agent",
          4
        ],
        [
          "verify",
          1
        ]
      ],
      "recurring": [
        {
          "kind": "agent-error",
          "step": "agent",
          "count": 2,
          "tasks": [
            "t1",
            "t2"
          ],
          "first": "[TIME]",
          "last": "[TIME]"
        },
        {
          "kind": "timeout",
          "step": "agent",
          "count": 2,
          "tasks": [
            "old"
          ],
          "first": "[TIME]",
          "last": "[TIME]"
        },
        {
          "kind": "flaky-test",
          "step": "verify",
          "count": 1,
          "tasks": [
            "t1"
          ],
          "first": "[TIME]",
          "last": "[TIME]"
        }
      ],
      "worst_tasks": [
        {
          "task": "old",
          "count": 2,
          "kinds": [
            "timeout"
          ]
        },
        {
          "task": "t1",
          "count": 2,
          "kinds": [
            "agent-error",
            "flaky-test"
          ]
        },
        {
          "task": "t2",
          "count": 1,
          "kinds": [
            "agent-error"
          ]
        }
      ],
      "by_day": [
        [
          "[DATE]",
          1
        ],
        [
          "[DATE]",
          1
        ],
        [
          "[DATE]",
          3
        ]
      ],
      "last_week": 3,
      "week_before": 0,
      "unreadable_lines": 1
    }
    "#);
}

#[test]
fn help_of_the_main_command_and_of_add_and_run() {
    let repo = TestRepo::new();
    assert_snapshot!(repo.snapshot(&["--help"]), @r#"
    git agentos: run coding agents on a backlog of task files, one git worktree and branch per task, and
    turn each verified change into a pull request.

    Tasks are Markdown files with TOML front matter in .agentos/todo/. Start with `git agentos init`,
    queue work with `git agentos add`, and process it with `git agentos run`.

    Usage: git agentos [OPTIONS] <COMMAND>

    Commands:
      init         Create the .agentos/ tree in this repository: the queue folders, a default agent
                   (.agentos/agents/default/AGENT.md), a sample config.toml and a .gitignore that keeps
                   runtime state out of `git status`
      add          Queue a task: write it into .agentos/todo/ and print its id
      list         List tasks: todo/ in the order they will run, then doing/, review/, done/ and failed/
      show         Show one task: its fields, where it is, its claim record and journal, why it failed,
                   and its body
      status       Show the dispatcher (running or not, and who holds the lock), how many tasks are in
                   each state, the tasks in progress and in review, and the queued files that can never
                   run
      run          Process the queue: claim each task in turn, run its agent in a fresh worktree on
                   branch agentos/<id>, commit the result, and move the task to review/, done/ or
                   failed/. Exits when the queue is empty
      watch        The long-running dispatcher: process the queue, then wait for new task files
                   (file-system events; no polling, no CPU while idle) and process those too. SIGINT or
                   SIGTERM stops it cleanly; a task it was running is resumed by the next dispatcher
      sync         One pass over the open pull requests of the tasks in review/ (or only ID), then exit
      verify       Verify a task's change again: its worktree if it still exists (what the agent left,
                   committed or not), else its branch. Prints the Markdown report (in colour on a
                   terminal) and exits 1 when the change is rejected
      retry        Queue a failed task again: move it from failed/ back to todo/ (edit it in failed/
                   first if it was invalid). Its earlier record is kept in runs/<id>/
      resume       End the queue's pause now: after a usage or rate limit (or the daily budget, which
                   then does not pause the queue again today), tasks start again at once. A running
                   `watch` wakes up; `run` starts them
      cancel       Cancel a task: a queued one moves to failed/; a running one has its agent (or its
                   verify command) stopped and fails with "cancelled"
      clean        Remove worktrees of finished tasks (and the pool of recycled ones kept for the next
                   tasks), prune git's records of worktrees that are gone, and delete local agentos/<id>
                   branches of done tasks whose work is safe (pushed to a remote, or merged into another
                   branch). Never touches a running task, a branch whose work exists nowhere else, or a
                   folder git does not list as one of this repository's worktrees
      logs         Show what a task's agent did in its latest attempt or revision round: start, tool
                   calls, result
      board        Serve a live page of the queue on 127.0.0.1, at an address with a secret
      fleet        The fleet: repositories served by one `git agentos watch --fleet`
      memory       Notes shared by every repository (in $AGENTOS_HOME/memory, default
                   ~/.agentos/memory), as Markdown files you can read and edit. Agents search them
                   through `git agentos mcp` instead of carrying copied context
      mcp          Serve memory (search, add) and the current task over MCP on stdin/stdout, for your
                   own agent: `claude mcp add agentos -- git agentos mcp`. (The dispatcher serves the
                   same tools to its tasks itself, on loopback HTTP.)
      friction     Summarize .agentos/friction.jsonl (failed verifications, agent errors, timeouts,
                   retries, resumes after a crash, hook errors, GitHub retries, long silences): counts
                   by kind and step, the worst tasks, the trend
      demo         A guided tour: create a throwaway repository with a typo in its README, queue a task
                   to fix it, run it end to end, and show the branch, the diff and where everything
                   lives
      doctor       Check that a run can work here, and say how to fix each miss
      hooks        Manage the post-commit hook that queues work from commits: a task for each
                   `Agentos-Task: <title>` trailer (targets from `Agentos-Targets:`, agent from
                   `Agentos-Agent:`) and for each trigger in .agentos/triggers/ whose paths the commit
                   touched. The hook never runs agents and never fails a commit
      agent        Agents are folders: .agentos/agents/<name>/AGENT.md (instructions) and an optional
                   agent.toml (command, model, allowed_tools, permission_mode, timeout)
      templates    Task templates: built-in ones (bugfix, docs, tests, refactor) and any in
                   .agentos/templates/<name>.md, which also override the built-in ones
      install-man  Write the manual where `man` finds it, so that `git agentos --help`, `git help
                   agentos` and `man git-agentos` open it
      completions  Print the completion script for bash, zsh or fish
      help         Print this message or the help of the given subcommand(s)

    Options:
      -C <DIR>
              Run as if started in DIR (like `git -C`)

      -v, --verbose...
              Say more on stderr: -v what the dispatcher does, -vv each step (RUST_LOG, when set,
              decides instead)

      -h, --help
              Print help (see a summary with '-h')

      -V, --version
              Print version
    "#);
    assert_snapshot!(repo.snapshot(&["add", "--help"]), @r#"
    Queue a task: write it into .agentos/todo/ and print its id.

    The id comes from the title (lower case, every run of other characters one `-`; "Fix the README" →
    `fix-the-readme`), with -2, -3… added when a task or an `agentos/<id>` branch has it. The task
    starts from HEAD's commit unless --base says otherwise.

    Example: git agentos add "Fix the install command" --target README.md

    Usage: git agentos add [OPTIONS] [TITLE]

    Arguments:
      [TITLE]
              What to do, in one line; becomes the pull request's title

    Options:
      -C <DIR>
              Run as if started in DIR (like `git -C`)

      -t, --target <GLOB>
              A path or gitignore-style glob the change may touch (repeatable; at least one)

          --agent <NAME>
              The agent to run it (a folder under .agentos/agents/); default: "default"

      -v, --verbose...
              Say more on stderr: -v what the dispatcher does, -vv each step (RUST_LOG, when set,
              decides instead)

          --verify <CMD>
              A command that must pass in the worktree after the change (repeatable)

          --base <REV>
              The branch or commit to start from; default: the commit HEAD is on now

          --body <TEXT>
              The task's description: what to change and why

          --body-file <FILE>
              Read the description from a file (`-` for standard input)

          --priority <N>
              Higher runs first; equal priorities run in the order they were queued

          --timeout <DURATION>
              The agent's wall-clock limit, like 90s, 30m or 1h30m (default 30m)

          --after <ID>
              Run only once this task is done (repeatable). After exactly one task, the new one starts
              from that task's branch (a stack) unless --no-stack

          --no-stack
              With one --after: start from the base as usual, not from its branch

          --max-turns <N>
              Stop the agent after this many turns (else agent.toml's `max_turns`)

          --max-cost-usd <USD>
              Stop the agent once it has spent this many US dollars (else agent.toml's `max_cost_usd`)

          --id <ID>
              Use this id instead of one made from the title

          --template <NAME>
              Start from a task template (bugfix, docs, tests, refactor, or one in .agentos/templates/);
              the title and body fill its placeholders

          --file <FILE>
              Queue an existing task file (checked first; flags given too override its fields)

      -h, --help
              Print help (see a summary with '-h')
    "#);
    assert_snapshot!(repo.snapshot(&["run", "--help"]), @"
    Process the queue: claim each task in turn, run its agent in a fresh worktree on branch
    agentos/<id>, commit the result, and move the task to review/, done/ or failed/. Exits when the
    queue is empty.

    A task whose pull request is open waits in review/: `watch` or `sync` follows it.

    Tasks left in doing/ by a dispatcher that died are resumed first, at the first step not yet done.
    Only one `run` or `watch` per repository: a second one exits with code 3 and names the holder.

    Usage: git agentos run [OPTIONS]

    Options:
      -C <DIR>
              Run as if started in DIR (like `git -C`)

          --once
              Process one task, then exit

          --keep
              Keep each task's worktree (.agentos/worktrees/<id>) for inspection

      -v, --verbose...
              Say more on stderr: -v what the dispatcher does, -vv each step (RUST_LOG, when set,
              decides instead)

          --no-pr
              Do not open pull requests: the verified branch is the output

      -j, --jobs <N>
              Run up to N tasks at once, never two whose targets may overlap
              
              [default: 1]

      -h, --help
              Print help (see a summary with '-h')
    ");
}

/// Each bad task file is refused naming the file, the field and the fix.
#[test]
fn errors_for_bad_task_files() {
    let repo = TestRepo::initialised();
    let cases = [
        (
            "bad-toml.md",
            "+++\ntitle = \"x\"\ntargets = [README.md]\n+++\n",
        ),
        ("no-title.md", "+++\ntargets = [\"README.md\"]\n+++\n"),
        ("no-targets.md", "+++\ntitle = \"x\"\n+++\n"),
        (
            "absolute.md",
            "+++\ntitle = \"x\"\ntargets = [\"/etc/passwd\"]\n+++\n",
        ),
        (
            "escape.md",
            "+++\ntitle = \"x\"\ntargets = [\"docs/../../x\"]\n+++\n",
        ),
        (
            "unknown-field.md",
            "+++\ntitle = \"x\"\ntargest = [\"a\"]\n+++\n",
        ),
        ("no-front-matter.md", "just text\n"),
        (
            "bad-timeout.md",
            "+++\ntitle = \"x\"\ntargets = [\"a\"]\ntimeout = \"soon\"\n+++\n",
        ),
    ];
    let mut transcript = String::new();
    for (name, text) in cases {
        let file = format!("inbox/{name}");
        repo.write(&file, text);
        transcript.push_str(&repo.transcript(&[&["add", "--file", &file]]));
        assert_eq!(repo.read(&file), text, "{name} was altered");
    }
    assert_eq!(repo.files_in(".agentos/todo"), Vec::<String>::new());
    assert_snapshot!(transcript, @r#"
    $ git agentos add --file inbox/bad-toml.md
    ------- stderr -------
    error: inbox/bad-toml.md: line 3: the front matter is not valid TOML: string values must be quoted, expected literal string; fix the TOML between the `+++` lines (strings need double quotes; lists look like ["a", "b"])
    [exit status: 2]
    $ git agentos add --file inbox/no-title.md
    ------- stderr -------
    error: inbox/no-title.md: field `title`: the title is missing or empty; add a line such as `title = "Fix the install command in the README"`
    [exit status: 2]
    $ git agentos add --file inbox/no-targets.md
    ------- stderr -------
    error: inbox/no-targets.md: field `targets`: there are no targets; add the paths the change may touch, e.g. `targets = ["README.md"]` or `targets = ["src/api/**"]`
    [exit status: 2]
    $ git agentos add --file inbox/absolute.md
    ------- stderr -------
    error: inbox/absolute.md: field `targets`: target `/etc/passwd` is an absolute path; write it relative to the repository's top folder, e.g. "src/lib.rs"
    [exit status: 2]
    $ git agentos add --file inbox/escape.md
    ------- stderr -------
    error: inbox/escape.md: field `targets`: target `docs/../../x` leaves the repository through `..`; name a path inside the repository, relative to its top folder
    [exit status: 2]
    $ git agentos add --file inbox/unknown-field.md
    ------- stderr -------
    error: inbox/unknown-field.md: line 3: field `targest`: the front matter is not valid TOML: unknown field `targest`, expected one of `title`, `targets`, `agent`, `base`, `base_branch`, `verify`, `priority`, `timeout`, `enqueued`, `require_all`, `draft`, `labels`, `triggered_by`, `source_change`, `after`, `stack`, `max_turns`, `max_cost_usd`; remove it or correct its name (known fields: title, targets, agent, base, base_branch, verify, priority, timeout, enqueued, require_all, draft, labels, triggered_by, source_change, after, stack, max_turns, max_cost_usd)
    [exit status: 2]
    $ git agentos add --file inbox/no-front-matter.md
    ------- stderr -------
    error: inbox/no-front-matter.md: the file does not start with a `+++` line; begin the file with `+++`, the TOML front matter (title, targets), and another `+++` line
    [exit status: 2]
    $ git agentos add --file inbox/bad-timeout.md
    ------- stderr -------
    error: inbox/bad-timeout.md: field `timeout`: timeout `soon` is not a duration; write it like "90s", "30m" or "1h30m"
    [exit status: 2]
    "#);
    assert_snapshot!(repo.transcript(&[
        &["add", "No target"],
        &["add", "x", "-t", "a", "--id", "Not A Slug"],
        &["add", "x", "-t", "a", "--id", "dup"],
        &["add", "y", "-t", "a", "--id", "dup"],
    ]), @r#"
    $ git agentos add 'No target'
    ------- stderr -------
    error: the new task: field `targets`: there are no targets; add the paths the change may touch, e.g. `targets = ["README.md"]` or `targets = ["src/api/**"]`
    hint: on the command line: the title is the first argument, targets are --target PATH
    [exit status: 2]
    $ git agentos add x -t a --id 'Not A Slug'
    ------- stderr -------
    error: --id `Not A Slug`: a task id is a slug: lower-case letters, digits, `.`, `_` and `-`, starting with a letter or digit
    hint: use --id not-a-slug
    [exit status: 2]
    $ git agentos add x -t a --id dup
    dup
    $ git agentos add y -t a --id dup
    ------- stderr -------
    error: the task id `dup` is already used by .agentos/todo/dup.md
    hint: ids are unique across todo/, doing/, review/, done/ and failed/: choose another --id
    [exit status: 2]
    "#);
}

#[test]
fn errors_for_unknown_tasks_and_agents() {
    let repo = TestRepo::initialised();
    repo.agentos(&["add", "Fix the README", "-t", "README.md"])
        .ok();
    assert_snapshot!(repo.transcript(&[
        &["show", "fix-the-readm"],
        &["verify", "nope"],
        &["verify", "fix-the-readme"],
        &["add", "X", "-t", "README.md", "--agent", "nope"],
    ]), @"
    $ git agentos show fix-the-readm
    ------- stderr -------
    error: there is no task `fix-the-readm` in todo/, doing/, review/, done/ or failed/
    hint: did you mean `fix-the-readme`?
    hint: `git agentos list` shows every task
    [exit status: 2]
    $ git agentos verify nope
    ------- stderr -------
    error: there is no task `nope` in todo/, doing/, review/, done/ or failed/
    hint: `git agentos list` shows every task
    [exit status: 2]
    $ git agentos verify fix-the-readme
    ------- stderr -------
    error: `fix-the-readme` has not run yet: there is nothing to verify
    hint: `git agentos run` runs the queue (or `git agentos show fix-the-readme` shows the task)
    [exit status: 2]
    $ git agentos add X -t README.md --agent nope
    ------- stderr -------
    error: field `agent`: there is no agent `nope`: no folder .agentos/agents/nope/ (agents here: default)
    hint: create .agentos/agents/nope/AGENT.md, or set `agent` to one of the agents above
    [exit status: 2]
    ");
}

/// While `watch` holds the queue, `status` names it and `run` is refused.
#[test]
fn status_and_the_error_while_the_lock_is_held() {
    let repo = TestRepo::initialised();
    let mut watch = repo
        .cmd(&["watch"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn watch");
    wait_until(Duration::from_secs(10), "watch holds the lock", || {
        !repo.agentos(&["status", "--json"]).ok().json()["dispatcher"].is_null()
    });
    let status = repo.agentos(&["status"]);
    let refused = repo.agentos(&["run"]);
    watch.kill().expect("kill watch");
    watch.wait().expect("reap watch");
    let holder = format!("pid {} (`git agentos watch`", watch.id());
    assert!(status.stdout.contains(&holder), "{status:?}");
    assert!(refused.stderr.contains(&holder), "{refused:?}");
    assert_snapshot!(repo.output(&status), @"
    repository  [REPO]
    dispatcher  running: pid [PID] (`git agentos watch`, since [TIME])
    queue       0 todo, 0 doing, 0 in review, 0 done, 0 failed
    spent       $0.00 today, $0.00 this week
    ");
    assert_snapshot!(repo.output(&refused), @"
    ------- stderr -------
    error: another dispatcher holds the queue of [REPO]: pid [PID] (`git agentos watch`, since [TIME])
    hint: only one `run` or `watch` may process a repository's queue; wait for it or stop it
    [exit status: 3]
    ");
}

#[test]
fn errors_outside_a_repository_and_for_bad_usage() {
    let repo = TestRepo::new();
    let outside = repo.dir.path().join("outside");
    std::fs::create_dir_all(&outside).expect("mkdir");
    let mut cmd = repo.cmd(&["list"]);
    let run = Run::from(cmd.current_dir(&outside).output().expect("run"));
    assert_snapshot!(repo.output(&run), @"
    ------- stderr -------
    error: `[TMP]/outside` is not inside a git repository (could not find repository at '[TMP]/outside')
    hint: run git agentos inside a git repository, or create one with `git init`
    [exit status: 3]
    ");
    assert_snapshot!(repo.transcript(&[
        &["list", "--state", "sideways"],
        &["frobnicate"],
        &["show"],
        &["list"],
    ]), @"
    $ git agentos list --state sideways
    ------- stderr -------
    error: invalid value 'sideways' for '--state <STATE>': `sideways` is not a state; use todo, doing, review, done or failed

    For more information, try '--help'.
    [exit status: 2]
    $ git agentos frobnicate
    ------- stderr -------
    error: unrecognized subcommand 'frobnicate'

      tip: a similar subcommand exists: 'friction'

    Usage: git agentos [OPTIONS] <COMMAND>

    For more information, try '--help'.
    [exit status: 2]
    $ git agentos show
    ------- stderr -------
    error: the following required arguments were not provided:
      <ID>

    Usage: git agentos show <ID>

    For more information, try '--help'.
    [exit status: 2]
    $ git agentos list
    ------- stderr -------
    error: this repository has no .agentos/ folder
    hint: run `git agentos init`
    [exit status: 3]
    ");
}
