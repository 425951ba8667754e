//! Handing the GitHub token to git (push, fetch, ls-remote) without putting it on
//! a command line, in a file, in `git config` or in any environment: git agentos
//! is itself the credential helper (`git-agentos credential get`), the only one
//! for that command, and the token reaches it through a pipe that git and the
//! helper inherit, named by number in [`FD_VAR`]. The dispatcher writes the token
//! into the pipe and closes its end before git starts; the helper reads it once.
//! So while git runs, the token is in the pipe's buffer until the helper asks
//! (milliseconds), then only in the memory of git's HTTP helper:
//! `/proc/<pid>/environ` and `cmdline` of every process involved show the pipe's
//! number and the API's address, never the token (an environment variable would
//! sit in `/proc/<pid>/environ` of git and all its children for the whole push,
//! readable by any process of the same user, a sandboxed agent included).
//!
//! The rule of [`token_may_go_to`] holds in the helper too: it answers only when
//! the protocol and host git asks for are ones the token may go to (a redirect,
//! an `insteadOf`, a credential request for another host gets nothing).
//! A pipe per git command: the push and the read-back each get their own.
use super::push::token_may_go_to;
use super::GitError;
use std::io::{BufRead, Write};
use std::os::fd::{AsRawFd, OwnedFd};

/// The variable that names the inherited pipe's file descriptor.
pub const FD_VAR: &str = "AGENTOS_CREDENTIAL_FD";
/// The variable that carries the configured GitHub API (not a secret): with it
/// the helper applies [`token_may_go_to`] to what git asks for.
pub const API_VAR: &str = "AGENTOS_CREDENTIAL_API";
/// The user name GitHub expects with a token over HTTPS.
pub const USERNAME: &str = "x-access-token";

/// The token, ready for one git command.
pub struct Offer {
    read: OwnedFd,
    api: String,
}

impl Offer {
    /// An offer for the remote URL git will talk to: None when the token must
    /// not go there ([`token_may_go_to`]), or is not one line of text.
    pub fn for_url(token: &str, url: &str, api: &str) -> Result<Option<Offer>, GitError> {
        let token = token.trim();
        if token.is_empty() || token.contains(['\n', '\r', '\0']) || !token_may_go_to(url, api) {
            return Ok(None);
        }
        let (read, write) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
            .map_err(|e| GitError::Spawn(e.into()))?;
        // The token is far below a pipe's buffer (64 KiB): this never blocks.
        let mut write = std::fs::File::from(write);
        write.write_all(token.as_bytes()).map_err(GitError::Spawn)?;
        drop(write);
        Ok(Some(Offer {
            read,
            api: api.to_string(),
        }))
    }

    /// The pipe's file descriptor, which the git child must inherit.
    pub fn fd(&self) -> i32 {
        self.read.as_raw_fd()
    }

    /// The `-c` options that make git agentos git's only credential helper (the
    /// empty value drops every helper configured before it, so none of the
    /// person's helpers is asked, or told to store the token), and the
    /// variables the helper reads.
    pub fn config(&self, exe: &str) -> (Vec<String>, [(&'static str, String); 2]) {
        let quoted = format!("'{}'", exe.replace('\'', r"'\''"));
        (
            vec![
                "-c".into(),
                "credential.helper=".into(),
                "-c".into(),
                format!("credential.helper=!{quoted} credential"),
            ],
            [(FD_VAR, self.fd().to_string()), (API_VAR, self.api.clone())],
        )
    }
}

/// The helper's side, `git-agentos credential ACTION`: git's credential protocol
/// on `input` (`key=value` lines up to a blank line), the answer on `out`.
/// `get` answers with the token when the protocol and host git asks for pass
/// [`token_may_go_to`] against the API [`API_VAR`] names, and the pipe
/// [`FD_VAR`] names still holds it; otherwise, and for `store` and `erase`, it
/// reads the request and answers nothing (nothing is stored, so a refused token
/// leaves nothing to erase). `var` looks the variables up.
pub fn answer(
    action: &str,
    input: impl BufRead,
    mut out: impl Write,
    var: impl Fn(&str) -> Option<String>,
) -> std::io::Result<()> {
    let (mut protocol, mut host) = (String::new(), String::new());
    for line in input.lines() {
        let line = line?;
        if line.is_empty() {
            break;
        }
        match line.split_once('=') {
            Some(("protocol", v)) => protocol = v.to_string(),
            Some(("host", v)) => host = v.to_string(),
            _ => {}
        }
    }
    if action != "get" || host.contains(['/', '@', '?', '#']) {
        return Ok(());
    }
    let Some(api) = var(API_VAR) else {
        return Ok(());
    };
    if !token_may_go_to(&format!("{protocol}://{host}/"), &api) {
        return Ok(());
    }
    let Some(token) = var(FD_VAR).and_then(|fd| read_pipe(&fd)) else {
        return Ok(());
    };
    writeln!(out, "username={USERNAME}")?;
    writeln!(out, "password={token}")?;
    out.flush()
}

/// The token from the inherited pipe `fd` (opened again through `/dev/fd`, which
/// needs no unsafe code): None when it is gone, empty, or not one line.
fn read_pipe(fd: &str) -> Option<String> {
    let fd: u32 = fd.trim().parse().ok().filter(|fd| *fd > 2)?;
    let text = std::fs::read_to_string(format!("/dev/fd/{fd}")).ok()?;
    let token = text.trim();
    (!token.is_empty() && !token.contains(['\n', '\r', '\0'])).then(|| token.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GH: &str = "https://api.github.com";

    fn ask(action: &str, request: &str, offer: Option<&Offer>, api: &str) -> String {
        let mut out = Vec::new();
        let fd = offer.map(|o| o.fd().to_string());
        answer(action, request.as_bytes(), &mut out, |name| match name {
            FD_VAR => fd.clone(),
            API_VAR => Some(api.to_string()),
            _ => None,
        })
        .expect("answer");
        String::from_utf8(out).expect("utf8")
    }

    #[test]
    fn an_offer_is_made_only_where_the_token_may_go() {
        for url in [
            "http://github.com/o/r.git",
            "https://github.com.evil.test/o/r.git",
            "ssh://git@github.com/o/r.git",
            "git@github.com:o/r.git",
            "/srv/git/r.git",
        ] {
            assert!(
                Offer::for_url("t", url, GH).expect("pipe").is_none(),
                "{url}"
            );
        }
        let multi = Offer::for_url("a\nb", "https://github.com/o/r", GH).expect("pipe");
        assert!(multi.is_none(), "a token of two lines is never offered");
        assert!(Offer::for_url("t", "https://github.com/o/r", GH)
            .expect("pipe")
            .is_some());
    }

    #[test]
    fn get_answers_once_for_a_host_the_token_may_go_to_and_nothing_else() {
        let offer = Offer::for_url("ghp_abc\n", "https://github.com/o/r.git", GH)
            .expect("pipe")
            .expect("https");
        for elsewhere in [
            "protocol=https\nhost=evil.example\n\n",
            "protocol=http\nhost=github.com\n\n",
            "protocol=https\nhost=github.com.evil.example\n\n",
            "protocol=https\nhost=evil.example/github.com\n\n",
        ] {
            assert_eq!(ask("get", elsewhere, Some(&offer), GH), "", "{elsewhere}");
        }
        let stored = "protocol=https\nhost=github.com\nusername=x\npassword=y\n\n";
        assert_eq!(ask("store", stored, Some(&offer), GH), "");
        let asked = "protocol=https\nhost=github.com\ncapability[]=authtype\nwwwauth[]=Basic realm=\"GitHub\"\n\n";
        assert_eq!(
            ask("get", asked, Some(&offer), GH),
            "username=x-access-token\npassword=ghp_abc\n"
        );
        assert_eq!(ask("get", asked, Some(&offer), GH), "", "read once");
        assert_eq!(ask("get", asked, None, GH), "", "no pipe, no answer");
    }

    #[test]
    fn the_configured_api_host_gets_it_over_the_api_scheme_only() {
        let api = "http://127.0.0.1:4000";
        let offer = Offer::for_url("t", "http://127.0.0.1:5000/o/r.git", api)
            .expect("pipe")
            .expect("the API's host");
        assert_eq!(
            ask(
                "get",
                "protocol=http\nhost=127.0.0.2:5000\n\n",
                Some(&offer),
                api
            ),
            ""
        );
        assert_eq!(
            ask(
                "get",
                "protocol=http\nhost=127.0.0.1:5000\n\n",
                Some(&offer),
                api
            ),
            "username=x-access-token\npassword=t\n"
        );
    }

    #[test]
    fn the_helper_is_named_by_a_quoted_path_and_the_pipe_by_its_number() {
        let offer = Offer::for_url("t", "https://github.com/o/r", GH)
            .expect("pipe")
            .expect("github");
        let (args, env) = offer.config("/opt/it's here/git-agentos");
        assert_eq!(
            args,
            [
                "-c",
                "credential.helper=",
                "-c",
                r"credential.helper=!'/opt/it'\''s here/git-agentos' credential"
            ]
        );
        assert_eq!(env[0], (FD_VAR, offer.fd().to_string()));
        assert_eq!(env[1], (API_VAR, GH.to_string()));
    }
}
