//! Scheduling (issue #18): dependencies, pauses on usage limits, spending caps
//! and stacked branches.
mod deps;
mod pauses;
