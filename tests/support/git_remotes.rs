//! Git remotes for push tests, each in front of a local bare repository:
//! - `GitHttpServer`: git's smart HTTP protocol on loopback, `git http-backend`
//!   run as a CGI program (`GIT_PROJECT_ROOT`, `GIT_HTTP_EXPORT_ALL`) behind
//!   Basic authentication that demands user `x-access-token` and one token, as
//!   GitHub does over HTTPS; it records every credential it was offered.
//! - `SshRemote`: an `ssh://example.test/NAME.git` remote served through a
//!   `GIT_SSH_COMMAND` script that runs `git-upload-pack`/`git-receive-pack`
//!   on the bare repository, recording each connection.
use super::http::{self, Request, Response};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

/// Make `root/NAME.git`, a bare repository with `main` as its default branch.
pub fn bare(root: &Path, name: &str) -> PathBuf {
    let path = root.join(format!("{name}.git"));
    let out = Command::new("git")
        .args(["init", "-q", "--bare", "-b", "main"])
        .arg(&path)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .expect("spawn git");
    assert!(
        out.status.success(),
        "git init --bare: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    path
}

/// `git ARGS` in `dir` (a bare origin), with no user or system settings; its
/// output. Panics when git fails.
pub fn git_in(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .expect("git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[derive(Default)]
pub struct HttpLog {
    /// Per request: the credentials it carried (`user:password`), if any.
    pub offered: Vec<Option<String>>,
    /// Requests answered 401.
    pub refused: usize,
    /// `service=` of each `info/refs` request that got through
    /// (`git-upload-pack`, `git-receive-pack`).
    pub services: Vec<String>,
}

pub struct GitHttpServer {
    pub url: String,
    pub root: PathBuf,
    pub log: Arc<Mutex<HttpLog>>,
}

impl GitHttpServer {
    /// Serve the bare repositories under `root`, to whoever offers
    /// `x-access-token:TOKEN`.
    pub fn start(root: &Path, token: &str) -> GitHttpServer {
        let log = Arc::new(Mutex::new(HttpLog::default()));
        let (seen, project_root) = (log.clone(), root.to_path_buf());
        let expected = format!("x-access-token:{token}");
        let url = http::serve(Arc::new(move |req: &Request| {
            let offered = req
                .headers
                .get("authorization")
                .and_then(|v| v.strip_prefix("Basic "))
                .map(base64_decode);
            let mut log = seen.lock().expect("lock");
            log.offered.push(offered.clone());
            if offered.as_deref() != Some(expected.as_str()) {
                log.refused += 1;
                let mut r = Response {
                    status: 401,
                    content_type: "text/plain",
                    body: b"Invalid username or token.\n".to_vec(),
                    headers: Vec::new(),
                };
                r.headers
                    .push(("www-authenticate".into(), "Basic realm=\"GitHub\"".into()));
                return r;
            }
            if let Some(service) = req.query.get("service") {
                log.services.push(service.clone());
            }
            drop(log);
            cgi(&project_root, req)
        }));
        GitHttpServer {
            url,
            root: root.to_path_buf(),
            log,
        }
    }

    /// The clone URL of `root/NAME.git`.
    pub fn repo_url(&self, name: &str) -> String {
        format!("{}/{name}.git", self.url)
    }

    /// Every credential offered, in order (`None`: a request without one).
    pub fn offered(&self) -> Vec<Option<String>> {
        self.log.lock().expect("lock").offered.clone()
    }

    pub fn refused(&self) -> usize {
        self.log.lock().expect("lock").refused
    }

    pub fn services(&self) -> Vec<String> {
        self.log.lock().expect("lock").services.clone()
    }
}

/// Run `git http-backend` for one request (RFC 3875 variables in, a CGI
/// answer out: headers, a blank line, the body).
fn cgi(root: &Path, req: &Request) -> Response {
    let mut cmd = Command::new("git");
    cmd.arg("http-backend")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_PROJECT_ROOT", root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("GATEWAY_INTERFACE", "CGI/1.1")
        .env("SERVER_PROTOCOL", "HTTP/1.1")
        .env("REQUEST_METHOD", &req.method)
        .env(
            "PATH_INFO",
            http::percent_decode(&req.path.replace('+', "%2B")),
        )
        .env("QUERY_STRING", &req.query_string)
        .env("CONTENT_LENGTH", req.body.len().to_string())
        .env("REMOTE_ADDR", "127.0.0.1")
        // Authenticated: http-backend enables receive-pack for a REMOTE_USER.
        .env("REMOTE_USER", "x-access-token")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (header, var) in [
        ("content-type", "CONTENT_TYPE"),
        ("content-encoding", "HTTP_CONTENT_ENCODING"),
        ("git-protocol", "HTTP_GIT_PROTOCOL"),
    ] {
        if let Some(v) = req.headers.get(header) {
            cmd.env(var, v);
        }
    }
    let mut child = cmd.spawn().expect("spawn git http-backend");
    let mut stdin = child.stdin.take().expect("stdin");
    let body = req.body.clone();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&body);
    });
    let out = child.wait_with_output().expect("git http-backend");
    let _ = writer.join();
    let split = out
        .stdout
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| (i, 4))
        .or_else(|| {
            out.stdout
                .windows(2)
                .position(|w| w == b"\n\n")
                .map(|i| (i, 2))
        });
    let Some((end, gap)) = split else {
        return Response {
            status: 500,
            content_type: "text/plain",
            body: out.stderr,
            headers: Vec::new(),
        };
    };
    let mut response = Response {
        status: 200,
        content_type: "application/octet-stream",
        body: out.stdout[end + gap..].to_vec(),
        headers: Vec::new(),
    };
    for line in String::from_utf8_lossy(&out.stdout[..end]).lines() {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim().to_string();
        if name.eq_ignore_ascii_case("status") {
            response.status = value
                .split_whitespace()
                .next()
                .and_then(|c| c.parse().ok())
                .unwrap_or(500);
        } else {
            response
                .headers
                .push((name.trim().to_ascii_lowercase(), value));
        }
    }
    response
}

fn base64_decode(text: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let (mut bits, mut count, mut out) = (0u32, 0, Vec::new());
    for c in text.trim().bytes().filter(|c| *c != b'=') {
        let Some(v) = ALPHABET.iter().position(|a| *a == c) else {
            continue;
        };
        bits = (bits << 6) | v as u32;
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A remote reached "over ssh": git runs `GIT_SSH_COMMAND HOST 'git-receive-pack
/// PATH'`; the script serves PATH from `root` (leading `/` dropped) and logs
/// `host`, the program and the path, one line per connection.
pub struct SshRemote {
    pub root: PathBuf,
    pub script: PathBuf,
    pub log: PathBuf,
}

impl SshRemote {
    /// A remote over the bare repositories under `root`; its script and log
    /// live in `dir`.
    pub fn new(dir: &Path, root: &Path) -> SshRemote {
        let script = dir.join("fake-ssh");
        let log = dir.join("fake-ssh.log");
        let text = format!(
            r#"#!/bin/sh
# A stand-in for ssh: [options] HOST COMMAND, COMMAND being
# git-upload-pack 'PATH' or git-receive-pack 'PATH'.
[ "$1" = "-G" ] && exit 1   # git probing for OpenSSH: be the "simple" variant
for arg; do command="$arg"; done
while [ $# -gt 1 ]; do case "$1" in -p|-o|-i|-l) shift 2;; -*) shift;; *) host="$1"; break;; esac; done
program="${{command%% *}}"
path="${{command#* }}"; path="${{path#\'}}"; path="${{path%\'}}"; path="${{path#/}}"
case "$program" in git-upload-pack|git-receive-pack) ;; *) echo "fake-ssh: $program refused" >&2; exit 1;; esac
echo "host=$host program=$program path=$path" >> '{log}'
exec git "${{program#git-}}" '{root}'/"$path"
"#,
            log = log.display(),
            root = root.display(),
        );
        std::fs::write(&script, text).expect("write fake-ssh");
        let mut perms = std::fs::metadata(&script).expect("stat").permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
        std::fs::set_permissions(&script, perms).expect("chmod");
        SshRemote {
            root: root.to_path_buf(),
            script,
            log,
        }
    }

    /// The URL of `root/NAME.git`.
    pub fn repo_url(&self, name: &str) -> String {
        format!("ssh://example.test/{name}.git")
    }

    /// The value for `GIT_SSH_COMMAND`.
    pub fn command(&self) -> String {
        self.script.display().to_string()
    }

    /// One line per connection: `host=… program=… path=…`.
    pub fn connections(&self) -> Vec<String> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }
}
