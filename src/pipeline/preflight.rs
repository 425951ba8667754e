//! The preflight step, and its near misses: a plain-path target that names nothing in the base
//! commit while something very like it exists ("did you mean"), caught before an
//! agent run is spent. A target that creates a new file in a folder that exists
//! is fine: the check is about near misses, not about new files.
use super::{StepOutcome, TaskRun};
use crate::git::task_branch;
use crate::queue::QueueError;
use crate::task::targets::{distance, is_glob, normalize};
use std::collections::HashSet;

/// The first near-miss target, described, if any.
pub fn near_miss(targets: &[String], base_paths: &[String]) -> Option<String> {
    let existing: HashSet<&str> = base_paths.iter().map(String::as_str).collect();
    for target in targets.iter().filter(|t| !is_glob(t)).map(|t| normalize(t)) {
        if target.is_empty() || existing.contains(target.as_str()) {
            continue;
        }
        let parent = target.rsplit_once('/').map(|(p, _)| p).unwrap_or("");
        let case_twin = base_paths
            .iter()
            .find(|p| p.to_lowercase() == target.to_lowercase());
        let parent_exists = parent.is_empty() || existing.contains(parent);
        if let Some(twin) = case_twin {
            return Some(format!(
                "the target `{target}` does not exist in the base commit; did you mean `{twin}`?"
            ));
        }
        if parent_exists {
            continue; // a new file in an existing folder
        }
        let limit = (target.chars().count() / 5).clamp(1, 3);
        let closest = base_paths
            .iter()
            .map(|p| (distance(&target, p), p))
            .filter(|(d, _)| *d <= limit)
            .min_by_key(|(d, p)| (*d, p.len()));
        if let Some((_, path)) = closest {
            return Some(format!(
                "the target `{target}` does not exist in the base commit (nor does its folder `{parent}`); did you mean `{path}`?"
            ));
        }
    }
    None
}

/// The preflight step: the base resolves to a commit (recorded, so a resume uses
/// the same one), and no plain-path target is a near miss of an existing path.
pub fn run(run: &mut TaskRun) -> Result<StepOutcome, QueueError> {
    // A stacked task starts from its dependency's branch head.
    let stacked = match crate::schedule::stack::base(&run.ws.tree, &run.ws.repo, &run.task) {
        Ok(stacked) => stacked,
        Err(e) => return Ok(StepOutcome::Failed(format!("preflight: {e}"))),
    };
    let rev = match &stacked {
        Some(stack) => stack.commit.clone(),
        None => run.task.base.clone().unwrap_or_else(|| "HEAD".into()),
    };
    run.record.stack_base = stacked.map(|stack| stack.branch);
    let base = match run.ws.repo.resolve(&rev) {
        Ok(sha) => sha,
        Err(e) => return Ok(StepOutcome::Failed(format!("preflight: {e}"))),
    };
    run.record.base_commit = Some(base.clone());
    match run.ws.repo.tree_paths(&base) {
        Ok(paths) => {
            if let Some(problem) = near_miss(&run.task.targets, &paths) {
                return Ok(StepOutcome::Failed(format!("preflight: {problem}")));
            }
        }
        Err(e) => return Ok(StepOutcome::Failed(format!("preflight: {e}"))),
    }
    run.record.branch = Some(task_branch(&run.entry.id));
    Ok(StepOutcome::Done)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths() -> Vec<String> {
        ["README.md", "docs", "docs/guide.md", "src", "src/lib.rs"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    #[test]
    fn near_misses_are_caught() {
        let t = |s: &str| vec![s.to_string()];
        assert!(near_miss(&t("doc/guide.md"), &paths())
            .unwrap_or_default()
            .contains("did you mean `docs/guide.md`?"));
        assert!(near_miss(&t("readme.md"), &paths())
            .unwrap_or_default()
            .contains("`README.md`"));
    }

    #[test]
    fn new_files_and_globs_are_fine() {
        let t = |s: &str| vec![s.to_string()];
        assert_eq!(near_miss(&t("docs/new-chapter.md"), &paths()), None);
        assert_eq!(
            near_miss(&t("docs/guide2.md"), &paths()),
            None,
            "a new file beside a similar one"
        );
        assert_eq!(
            near_miss(&t("brand/new/tree.md"), &paths()),
            None,
            "nothing similar exists"
        );
        assert_eq!(near_miss(&t("doc/**"), &paths()), None, "globs may create");
        assert_eq!(near_miss(&t("README.md"), &paths()), None);
    }
}
