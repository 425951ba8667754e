//! Scheduling (issue #18): dependencies, pauses on usage limits, spending caps
//! and stacked branches.
mod caps;
mod deps;
mod pauses;
mod stacks;
