//! Conditional requests: the ETag GitHub answered for each request, and the
//! body it stands for, kept durably per task. A request sent with
//! `If-None-Match` and answered `304 Not Modified` costs no rate limit, and the
//! cached body is the answer, so a pass over an unchanged pull request spends
//! nothing and finds everything it found before.
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::Path;

/// The cache of one task's requests.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Conditional {
    entries: BTreeMap<String, Cached>,
    /// Requests made since [`Conditional::begin`]: the others are dropped by
    /// [`Conditional::keep_used`] (a head commit's checks once it moved on).
    #[serde(skip)]
    used: BTreeSet<String>,
    /// Something was answered afresh and differs from what was cached.
    #[serde(skip)]
    pub changed: bool,
    #[serde(skip)]
    pub charged: usize,
    #[serde(skip)]
    pub not_modified: usize,
}

/// One request's last answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Cached {
    pub etag: String,
    pub body: Value,
    /// The next page (`Link: <…>; rel="next"`), when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

impl Conditional {
    /// Read a cache file; a missing or unreadable one is an empty cache (it
    /// only costs requests).
    pub fn load(path: &Path) -> Conditional {
        std::fs::read(path)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    }

    /// Write it durably (only what a pass used).
    pub fn save(&self, path: &Path) -> io::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let text = serde_json::to_vec(self).map_err(io::Error::other)?;
        crate::durable::write(path, &text)
    }

    /// Start a pass: count and track afresh.
    pub fn begin(&mut self) {
        self.used.clear();
        self.changed = false;
        self.charged = 0;
        self.not_modified = 0;
    }

    /// Forget the requests this pass did not make.
    pub fn keep_used(&mut self) {
        let used = std::mem::take(&mut self.used);
        self.entries.retain(|k, _| used.contains(k));
        self.used = used;
    }

    /// The ETag to send for `key`, if its answer is cached.
    pub fn etag(&self, key: &str) -> Option<&str> {
        self.entries.get(key).map(|c| c.etag.as_str())
    }

    /// The cached answer, after a `304`.
    pub fn not_modified(&mut self, key: &str) -> Option<Cached> {
        self.used.insert(key.to_string());
        self.not_modified += 1;
        self.entries.get(key).cloned()
    }

    /// A fresh answer: kept when it has an ETag.
    pub fn fresh(&mut self, key: &str, etag: Option<String>, body: Value, next: Option<String>) {
        self.used.insert(key.to_string());
        self.charged += 1;
        let same = self
            .entries
            .get(key)
            .is_some_and(|c| c.body == body && c.next == next);
        if !same {
            self.changed = true;
        }
        match etag {
            Some(etag) => {
                self.entries
                    .insert(key.to_string(), Cached { etag, body, next });
            }
            None => {
                self.entries.remove(key);
            }
        }
    }

    /// Forget everything (the cached body of a request is not trusted).
    pub fn forget(&mut self, key: &str) {
        self.entries.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_fresh_answer_that_equals_the_cached_one_is_no_change() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("cache.json");
        let mut cache = Conditional::default();
        cache.begin();
        cache.fresh("/a", Some("W/\"1\"".into()), json!({"x": 1}), None);
        cache.fresh("/old", Some("W/\"2\"".into()), json!([]), None);
        assert!(cache.changed);
        cache.save(&path).expect("save");
        let mut cache = Conditional::load(&path);
        assert_eq!(cache.etag("/a"), Some("W/\"1\""));
        cache.begin();
        cache.fresh("/a", Some("W/\"1b\"".into()), json!({"x": 1}), None);
        assert!(!cache.changed, "the same body under a new ETag");
        assert_eq!(cache.not_modified("/old").map(|c| c.body), Some(json!([])));
        assert_eq!((cache.charged, cache.not_modified), (1, 1));
        cache.begin();
        cache.fresh("/a", None, json!({"x": 2}), None);
        cache.keep_used();
        assert!(cache.changed);
        assert_eq!(cache.etag("/a"), None, "no ETag: nothing to send next time");
        assert_eq!(cache.etag("/old"), None, "unused this pass: dropped");
    }
}
