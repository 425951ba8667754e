//! Time: [`Timestamp`] (UTC, nanoseconds, written as RFC 3339 through `jiff`) and
//! the clock every "now" comes from. `AGENTOS_NOW` (an RFC 3339 time) pins it, for
//! the times written into records, tasks and logs and for the grace of a file
//! just dropped into todo/, so tests need not sleep or mask times. (Names that
//! must be unique, the todo index's racy-file check and GitHub's rate-limit
//! reset use the real time.)
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

/// A point in time, UTC, to the nanosecond. Written `2026-01-31T12:00:00.000000000Z`
/// (always nine digits, as the files already written have them); read with any
/// RFC 3339 offset, a `t` or a space for the `T`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(jiff::Timestamp);

/// The clock: `AGENTOS_NOW` when it is set, else the system's.
pub fn now() -> Timestamp {
    match pinned() {
        Some(Ok(at)) => *at,
        _ => Timestamp(jiff::Timestamp::now()),
    }
}

/// `AGENTOS_NOW`, read once.
fn pinned() -> Option<&'static Result<Timestamp, String>> {
    static PINNED: OnceLock<Option<Result<Timestamp, String>>> = OnceLock::new();
    PINNED
        .get_or_init(|| {
            let text = std::env::var("AGENTOS_NOW").ok()?;
            Some(Timestamp::parse(text.trim()).ok_or(text))
        })
        .as_ref()
}

/// `AGENTOS_NOW` holds something that is not a time.
#[derive(Debug, thiserror::Error)]
#[error("AGENTOS_NOW `{0}` is not a date and time with an offset")]
pub struct BadNow(pub String);

/// An `AGENTOS_NOW` that is not a time is a usage error, said once at start-up.
pub fn check_env() -> Result<(), BadNow> {
    match pinned() {
        Some(Err(text)) => Err(BadNow(text.clone())),
        _ => Ok(()),
    }
}

impl Timestamp {
    /// The clock's now (see [`now`]).
    pub fn now() -> Self {
        now()
    }

    /// The Unix epoch.
    pub const EPOCH: Timestamp = Timestamp(jiff::Timestamp::UNIX_EPOCH);

    pub fn from_system_time(t: SystemTime) -> Self {
        jiff::Timestamp::try_from(t).map_or(Timestamp::EPOCH, Timestamp)
    }

    pub fn from_nanos(nanos: i128) -> Self {
        jiff::Timestamp::from_nanosecond(nanos).map_or(Timestamp::EPOCH, Timestamp)
    }

    /// Parse an RFC 3339 time: `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`.
    pub fn parse(s: &str) -> Option<Self> {
        s.parse::<jiff::Timestamp>().ok().map(Timestamp)
    }

    /// Nanoseconds since the Unix epoch.
    pub fn as_nanos(self) -> i128 {
        self.0.as_nanosecond()
    }

    /// How long after `earlier` this is; None when it is before.
    pub fn since(self, earlier: Timestamp) -> Option<Duration> {
        u64::try_from(self.as_nanos() - earlier.as_nanos())
            .ok()
            .map(Duration::from_nanos)
    }

    /// This time shifted back by `d`.
    pub fn before(self, d: Duration) -> Timestamp {
        Timestamp::from_nanos(self.as_nanos() - d.as_nanos() as i128)
    }

    pub fn seconds_since(self, earlier: Timestamp) -> f64 {
        (self.as_nanos() - earlier.as_nanos()) as f64 / 1e9
    }

    /// The calendar day (UTC), `YYYY-MM-DD`.
    pub fn day(self) -> String {
        self.0.strftime("%Y-%m-%d").to_string()
    }

    /// A Unix time in seconds.
    pub fn from_unix_secs(secs: i64) -> Timestamp {
        jiff::Timestamp::from_second(secs).map_or(Timestamp::EPOCH, Timestamp)
    }

    /// This time shifted forward by `d`.
    pub fn after(self, d: Duration) -> Timestamp {
        Timestamp::from_nanos(self.as_nanos() + d.as_nanos() as i128)
    }

    fn local(self) -> jiff::ZonedDateTime {
        self.0.to_zoned_datetime(jiff::tz::TimeZone::system())
    }

    /// The calendar day in the local time zone, `YYYY-MM-DD`.
    pub fn local_day(self) -> String {
        self.local().strftime("%Y-%m-%d").to_string()
    }

    /// The local wall-clock time as a person reads it next to `now`: `03:00`
    /// on the same local day, `Nov 27 03:00` on another.
    pub fn local_time_near(self, now: Timestamp) -> String {
        if self.local_day() == now.local_day() {
            self.local().strftime("%H:%M").to_string()
        } else {
            self.local().strftime("%b %-d %H:%M").to_string()
        }
    }

    /// The next local midnight after this time.
    pub fn next_local_midnight(self) -> Timestamp {
        self.local()
            .tomorrow()
            .and_then(|t| t.start_of_day())
            .map_or(self.after(Duration::from_secs(86_400)), |z| {
                Timestamp(z.timestamp())
            })
    }

    /// The local midnight that began this day.
    pub fn local_day_start(self) -> Timestamp {
        self.local()
            .start_of_day()
            .map_or(self, |z| Timestamp(z.timestamp()))
    }

    /// The local midnight that began this week (weeks start on Monday).
    pub fn local_week_start(self) -> Timestamp {
        let local = self.local();
        let back = jiff::civil::Weekday::Monday.until(local.weekday());
        local
            .checked_sub(jiff::Span::new().days(i64::from(back)))
            .and_then(|z| z.start_of_day())
            .map_or(self, |z| Timestamp(z.timestamp()))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.9}", self.0)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TimestampVisitor)
    }
}

/// Accepts a string (JSON records) or a TOML datetime, which toml hands over as a
/// one-entry map holding its text.
struct TimestampVisitor;

impl<'de> serde::de::Visitor<'de> for TimestampVisitor {
    type Value = Timestamp;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a date and time with an offset, like 2026-01-31T12:00:00Z")
    }

    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Timestamp, E> {
        Timestamp::parse(text).ok_or_else(|| {
            E::custom(format!(
                "`{text}` is not a full date and time with an offset, like 2026-01-31T12:00:00Z"
            ))
        })
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Timestamp, A::Error> {
        match map.next_entry::<String, String>()? {
            Some((_, text)) => self.visit_str(&text),
            None => Err(serde::de::Error::custom(
                "an empty table is not a date and time",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_text() {
        for text in [
            "1970-01-01T00:00:00.000000000Z",
            "2026-11-23T21:07:02.123456789Z",
            "2000-02-29T23:59:59.000000001Z",
        ] {
            let t = Timestamp::parse(text).expect("parses");
            assert_eq!(t.to_string(), text);
        }
    }

    #[test]
    fn reads_what_the_hand_written_parser_wrote_and_read() {
        let a = Timestamp::parse("2026-01-01T01:30:00+01:30").expect("parses");
        let b = Timestamp::parse("2026-01-01T00:00:00Z").expect("parses");
        assert_eq!(a, b);
        assert_eq!(Timestamp::parse("2026-01-01t00:00:00z"), Some(b));
        assert_eq!(Timestamp::parse("2026-01-01 00:00:00Z"), Some(b));
        assert_eq!(
            Timestamp::parse("2026-01-01T00:00:00.5Z").map(|t| t.to_string()),
            Some("2026-01-01T00:00:00.500000000Z".into())
        );
        assert!(Timestamp::parse("2026-13-01T00:00:00Z").is_none());
        assert!(
            Timestamp::parse("2026-01-01T00:00:00").is_none(),
            "no offset"
        );
        assert!(Timestamp::parse("yesterday").is_none());
    }

    #[test]
    fn task_files_and_records_already_written_still_parse() {
        let task = crate::task::parse(
            "+++\ntitle = \"t\"\ntargets = [\"a\"]\nenqueued = 2026-11-24T09:00:00.123456789Z\n+++\n",
        )
        .expect("task");
        assert_eq!(
            task.enqueued.map(|t| t.to_string()).as_deref(),
            Some("2026-11-24T09:00:00.123456789Z")
        );
        let record: crate::queue::Record = serde_json::from_str(
            r#"{"id":"t","claimed_at":"2026-11-24T09:00:00.000000001Z","steps":[{"step":"claim","at":"2026-11-24T09:00:00.000000001Z","attempt":1}]}"#,
        )
        .expect("record");
        assert_eq!(
            record.steps[0].at,
            Timestamp::from_nanos(1_795_510_800_000_000_001)
        );
    }
}
