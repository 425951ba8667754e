//! What a commit's trailers ask for: a task per `Agentos-Task: <title>`, with
//! the `Agentos-Targets:`, `Agentos-Agent:` and `Agentos-After:` after it; and the dispatcher's own
//! mark, `Agentos-Task: <id>` alone, which says the commit is that task's output.
use crate::git::CommitInfo;
use crate::queue::Tree;
use crate::task::Task;

/// A task a trailer asks for.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Request {
    pub task: Task,
}

impl Request {
    /// How the log names it.
    pub fn name(&self) -> String {
        format!("trailer:{}", self.task.title)
    }

    /// What makes it the same request again: its title, targets and agent (two
    /// trailers with one title and different targets are two tasks).
    pub fn key(&self) -> String {
        format!(
            "trailer:{}\u{1f}{}\u{1f}{}",
            self.task.title,
            self.task.targets.join(","),
            self.task.agent.as_deref().unwrap_or("")
        )
    }
}

/// The trailers' requests, in order.
pub(super) fn requests(commit: &CommitInfo) -> Vec<Request> {
    let mut out: Vec<Request> = Vec::new();
    for (key, value) in &commit.trailers {
        let value = value.trim();
        match key.to_ascii_lowercase().as_str() {
            "agentos-task" => out.push(Request {
                task: Task {
                    title: value.to_string(),
                    body: format!("Requested in commit {} ({}).\n", commit.sha, commit.subject),
                    ..Task::default()
                },
            }),
            "agentos-targets" | "agentos-agent" | "agentos-after" => {
                let Some(request) = out.last_mut() else {
                    continue;
                };
                let task = &mut request.task;
                let items = value
                    .split([',', ' '])
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string);
                if key.eq_ignore_ascii_case("agentos-agent") {
                    task.agent = Some(value.to_string());
                } else if key.eq_ignore_ascii_case("agentos-after") {
                    task.after.extend(items);
                } else {
                    task.targets.extend(items);
                }
            }
            _ => {}
        }
    }
    out
}

/// The task whose output this commit is, by the dispatcher's mark: a request
/// with no targets and no agent whose title is the id of a task in the state
/// folders.
pub(super) fn marked_output(tree: &Tree, requests: &[Request]) -> Option<String> {
    requests
        .iter()
        .map(|r| &r.task)
        .filter(|t| t.targets.is_empty() && t.agent.is_none())
        .find(|t| {
            crate::task::is_slug(&t.title)
                && crate::queue::find(tree, &t.title).ok().flatten().is_some()
        })
        .map(|t| t.title.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task;
    use proptest::prelude::*;

    fn commit_with(trailers: Vec<(String, String)>) -> CommitInfo {
        CommitInfo {
            sha: "0123456789abcdef0123456789abcdef01234567".into(),
            subject: "subject".into(),
            trailers,
            branch: Some("main".into()),
            ..CommitInfo::default()
        }
    }

    fn trailer_key() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("Agentos-Task".to_string()),
            Just("agentos-targets".to_string()),
            Just("Agentos-Agent".to_string()),
            "[A-Za-z-]{1,20}",
        ]
    }

    #[test]
    fn one_title_with_two_target_lists_is_two_requests() {
        let pair = |k: &str, v: &str| (k.to_string(), v.to_string());
        let found = requests(&commit_with(vec![
            pair("Agentos-Task", "Fix it"),
            pair("Agentos-Targets", "a.md"),
            pair("Agentos-Task", "Fix it"),
            pair("Agentos-Targets", "b.md"),
        ]));
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].name(), found[1].name());
        assert_ne!(found[0].key(), found[1].key());
    }

    proptest! {
        /// Any trailers: no panic; every task is either rejected with a reason that
        /// names a field, or valid, inside the repository, and written to a file
        /// that parses back to itself.
        #[test]
        fn trailer_tasks_are_valid_or_clearly_rejected(
            pairs in proptest::collection::vec((trailer_key(), any::<String>()), 0..8)
        ) {
            for request in requests(&commit_with(pairs)) {
                let mut task = request.task;
                task.base = Some("0123456789abcdef0123456789abcdef01234567".into());
                match task::validate(&task) {
                    Err(problem) => prop_assert!(!problem.to_string().trim().is_empty()),
                    Ok(()) => {
                        for t in &task.targets {
                            prop_assert!(task::check_target(t).is_ok());
                            prop_assert!(!t.starts_with('/') && !t.split('/').any(|c| c == ".."));
                        }
                        prop_assert_eq!(task::parse(&task::write(&task)), Ok(task.clone()));
                    }
                }
            }
        }

        /// Any trigger file text: no panic; a rejection names the fields.
        #[test]
        fn trigger_files_parse_or_fail_cleanly(text in any::<String>()) {
            let _ = toml::from_str::<crate::hooks::triggers::Trigger>(&text);
        }

        /// Commit messages of any shape: git's trailer parser never panics here.
        #[test]
        fn commit_messages_of_any_shape(message in any::<String>(), key in trailer_key(), value in ".{0,40}") {
            let text = format!("{message}\n\n{key}: {value}\n");
            let _ = git2::message_trailers_strs(&text);
        }
    }
}
