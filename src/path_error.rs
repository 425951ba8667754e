//! The error of one file operation: what was done, to which path, and why it failed.
use std::path::{Path, PathBuf};

/// `cannot {action} `{path}`: {source}`.
#[derive(Debug, thiserror::Error)]
#[error("cannot {action} `{}`: {source}", path.display())]
pub struct PathError {
    pub action: String,
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

impl PathError {
    pub fn new(action: &str, path: &Path, source: std::io::Error) -> PathError {
        PathError {
            action: action.to_string(),
            path: path.to_path_buf(),
            source,
        }
    }

    /// A closure for `map_err`: `fs::read(p).map_err(PathError::at("read", p))`.
    pub fn at<'a>(
        action: &'a str,
        path: &'a Path,
    ) -> impl FnOnce(std::io::Error) -> PathError + 'a {
        move |source| PathError::new(action, path, source)
    }
}
