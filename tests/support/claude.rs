//! The pinned Claude Code CLI for end-to-end tests: `node_modules/.bin/claude`,
//! installed from package.json by `npm install` the first time a test needs it.
use std::path::PathBuf;
use std::sync::OnceLock;

pub const VERSION: &str = "2.1.328";

/// The path of the real `claude` binary (installs it if missing).
pub fn binary() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        if let Ok(path) = std::env::var("AGENTOS_TEST_CLAUDE") {
            return PathBuf::from(path);
        }
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let bin = root.join("node_modules/.bin/claude");
        if !bin.exists() {
            let status = std::process::Command::new("npm")
                .args(["install", "--no-audit", "--no-fund", "--loglevel=error"])
                .current_dir(&root)
                .status()
                .expect("npm must be installed to fetch the Claude Code CLI");
            assert!(
                status.success(),
                "npm install of @anthropic-ai/claude-code@{VERSION} failed"
            );
        }
        let out = std::process::Command::new(&bin)
            .arg("--version")
            .output()
            .expect("run claude --version");
        let version = String::from_utf8_lossy(&out.stdout);
        assert!(
            version.contains(VERSION),
            "expected Claude Code {VERSION}, found {version}"
        );
        bin
    })
    .clone()
}
