//! `git-agentos credential ACTION` (internal): git agentos as git's credential
//! helper while it pushes with the token. git runs it as `credential.helper`;
//! the token comes from the pipe the dispatcher opened for that one git command
//! (see src/git/credential.rs), never from the command line or the environment.

/// Answer git's credential request on stdin; the exit code (git ignores a
/// helper's failure and asks no one else: the push then fails with its reason).
pub fn helper(action: &str) -> i32 {
    let stdin = std::io::stdin().lock();
    let stdout = std::io::stdout().lock();
    match crate::git::credential::answer(action, stdin, stdout, |name| std::env::var(name).ok()) {
        Ok(()) => 0,
        Err(_) => 1,
    }
}
