//! When the next pass over an open pull request is due: one minute after a
//! change, doubling while nothing changes, up to thirty minutes; half a minute
//! after each push (its checks start then). `AGENTOS_REVIEW_PASS_BASE` (a
//! duration: `200ms`, `2s`) replaces the one minute, and scales the rest with
//! it: a testing aid, so a test or the benchmark sees hours of passes in
//! seconds.
use crate::clock::Timestamp;
use crate::queue::review::Review;
use std::sync::OnceLock;
use std::time::Duration;

/// The first interval, and the one after any change.
pub const BASE: Duration = Duration::from_secs(60);
/// The longest interval is this many times the base (30 minutes).
const MAX_FACTOR: u32 = 30;

/// The base interval: [`BASE`], or `AGENTOS_REVIEW_PASS_BASE` (read once).
pub fn base() -> Duration {
    static BASE_NOW: OnceLock<Duration> = OnceLock::new();
    *BASE_NOW.get_or_init(|| {
        std::env::var("AGENTOS_REVIEW_PASS_BASE")
            .ok()
            .and_then(|v| crate::task::parse_duration(&v))
            .filter(|d| !d.is_zero())
            .unwrap_or(BASE)
    })
}

/// The longest interval between two passes while nothing changes.
pub fn max() -> Duration {
    base() * MAX_FACTOR
}

/// The wait before the pass that follows a push.
pub fn soon() -> Duration {
    base() / 2
}

/// After a pass: back to the base interval when something changed, else
/// double the last one (up to [`max`]).
pub fn after_pass(review: &mut Review, changed: bool, now: Timestamp) {
    let last = Duration::from_millis(review.interval_ms);
    let next = if changed || last.is_zero() {
        base()
    } else {
        (last * 2).min(max())
    };
    set(review, next, next, now);
}

/// After a push (the publish, or a round's): a pass soon, then the base
/// interval and upwards.
pub fn after_push(review: &mut Review, now: Timestamp) {
    set(review, soon(), base() / 2, now);
}

/// GitHub asked to wait (a rate limit): no pass before then.
pub fn wait_at_least(review: &mut Review, wait: Duration, now: Timestamp) {
    let interval = Duration::from_millis(review.interval_ms).max(base());
    set(review, wait.max(interval), interval, now);
}

fn set(review: &mut Review, wait: Duration, interval: Duration, now: Timestamp) {
    review.interval_ms = interval.as_millis() as u64;
    review.next_pass = Some(Timestamp::from_nanos(
        now.as_nanos() + wait.as_nanos() as i128,
    ));
}

/// How long until the pass of `review` is due (zero when it is).
pub fn due_in(review: &Review, now: Timestamp) -> Duration {
    review
        .next_pass
        .and_then(|at| at.since(now))
        .unwrap_or(Duration::ZERO)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passes_back_off_from_the_base_to_thirty_times_it_and_reset_on_a_change() {
        let now = Timestamp::EPOCH;
        let mut review = Review::default();
        after_push(&mut review, now);
        assert_eq!(due_in(&review, now), base() / 2, "soon after the push");
        let mut waits = Vec::new();
        for _ in 0..8 {
            after_pass(&mut review, false, now);
            waits.push(due_in(&review, now).as_secs());
        }
        assert_eq!(waits, [60, 120, 240, 480, 960, 1800, 1800, 1800]);
        after_pass(&mut review, true, now);
        assert_eq!(due_in(&review, now), base(), "a change resets it");
        wait_at_least(&mut review, Duration::from_secs(3600), now);
        assert_eq!(due_in(&review, now).as_secs(), 3600);
        let later = Timestamp::parse("2099-01-01T00:00:00Z").expect("a time");
        assert_eq!(due_in(&review, later), Duration::ZERO, "overdue: due now");
    }
}
