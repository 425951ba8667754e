//! The loopback stand-ins behave as the real services document them: the GitHub
//! REST API as octocrab reads it, the Messages API as the real Claude Code CLI
//! reports it, git remotes as `git push` reaches them.
mod git;
mod github;
mod github_pulls;
mod messages;
