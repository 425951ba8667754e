//! Scheduling (issue #18): dependencies, pauses on usage limits, spending caps
//! and stacked branches.
mod caps;
mod deps;
mod pauses;
mod stacks;

/// The ids `run` reports done, in the order it finished them.
fn done_order(stdout: &str) -> Vec<&str> {
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix("done    "))
        .collect()
}
