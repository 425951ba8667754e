//! The environment an agent (and a verify command) starts with: the dispatcher's
//! own, without its secrets. The shim that leads the agent is started with this
//! environment too (its `/proc/<pid>/environ` is readable from inside).
//!
//! Removed: the GitHub token (`GITHUB_TOKEN`, `GH_TOKEN` and every `GITHUB_*`,
//! `GH_*`), the ssh agent and askpass helpers (`SSH_AUTH_SOCK`, `SSH_AGENT_PID`,
//! `GIT_ASKPASS`, `SSH_ASKPASS*`), configuration given through the environment,
//! which is how credential helpers are set (`GIT_CONFIG_PARAMETERS`,
//! `GIT_CONFIG_COUNT`, `GIT_CONFIG_KEY_*`, `GIT_CONFIG_VALUE_*`), Git Credential
//! Manager's `GCM_*`, and every `AGENTOS_*` of the dispatcher but `AGENTOS_HOME`
//! and `AGENTOS_NOW`. Also removed, not secret but misleading: the variables
//! that point git at another repository (`GIT_DIR`, `GIT_WORK_TREE`…), and those
//! that name a server outside the sandbox which runs commands on request (`TMUX`,
//! `STY`, `DBUS_SESSION_BUS_ADDRESS`, `DOCKER_HOST`, `XDG_RUNTIME_DIR`,
//! `DISPLAY`…). Kept:
//! everything else, `ANTHROPIC_*`, proxies, `PATH`, `HOME`, `LANG` included.
//! `[sandbox] pass_env` in local.toml passes a removed one on purpose.
use std::ffi::OsString;

/// Secrets, and what reaches one: removed from agents, and wiped from the
/// memory every git-agentos process's `/proc/<pid>/environ` shows (see
/// [`crate::secrets`]).
const SECRETS: [&str; 9] = [
    "GITHUB_TOKEN",
    "GH_TOKEN",
    "SSH_AUTH_SOCK",
    "SSH_AGENT_PID",
    "GIT_ASKPASS",
    "SSH_ASKPASS",
    "SSH_ASKPASS_REQUIRE",
    "GIT_CONFIG_PARAMETERS",
    "GIT_CONFIG_COUNT",
];

const SECRET_PREFIXES: [&str; 5] = [
    "GITHUB_",
    "GH_",
    "GCM_",
    "GIT_CONFIG_KEY_",
    "GIT_CONFIG_VALUE_",
];

/// Not secret, but removed: they point git at another repository, or at a
/// server outside the sandbox that would run a command for the agent (a
/// terminal multiplexer, the session bus, Docker, the desktop, an editor's
/// remote control: each a shell outside the write boundary, see the README's
/// Sandbox section).
const REMOVED: [&str; 24] = [
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_COMMON_DIR",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_PREFIX",
    "TMUX",
    "TMUX_PANE",
    "STY",
    "ZELLIJ",
    "ZELLIJ_SESSION_NAME",
    "DBUS_SESSION_BUS_ADDRESS",
    "DOCKER_HOST",
    "CONTAINER_HOST",
    "XDG_RUNTIME_DIR",
    "DISPLAY",
    "WAYLAND_DISPLAY",
    "XAUTHORITY",
    "GPG_AGENT_INFO",
    "KITTY_LISTEN_ON",
    "WEZTERM_UNIX_SOCKET",
    "NVIM",
    "VSCODE_IPC_HOOK_CLI",
];

const REMOVED_PREFIXES: [&str; 1] = ["AGENTOS_"];

/// `AGENTOS_*` variables an agent keeps: where the memory vault is, and the
/// pinned clock (not secrets; the memory server, the agent's child, reads them).
const KEPT_AGENTOS: [&str; 2] = ["AGENTOS_HOME", "AGENTOS_NOW"];

/// True when a variable of the dispatcher's environment is kept from agents.
pub fn is_removed(name: &str) -> bool {
    if KEPT_AGENTOS.contains(&name) {
        return false;
    }
    is_secret(name)
        || REMOVED.contains(&name)
        || REMOVED_PREFIXES.iter().any(|p| name.starts_with(p))
}

/// True for a secret (or what reaches one): see [`SECRETS`].
pub fn is_secret(name: &str) -> bool {
    SECRETS.contains(&name) || SECRET_PREFIXES.iter().any(|p| name.starts_with(p))
}

/// The environment for an agent: the dispatcher's, scrubbed; then the names in
/// `pass_env` (from the dispatcher's environment or the secrets it took at
/// start); then `set`, which wins over both.
pub fn build(pass_env: &[String], set: &[(String, OsString)]) -> Vec<(OsString, OsString)> {
    let mut env: Vec<(OsString, OsString)> = std::env::vars_os()
        .filter(|(name, _)| name.to_str().is_some_and(|n| !is_removed(n)))
        .collect();
    for name in pass_env {
        if let Some(value) = crate::secrets::var(name).or_else(|| std::env::var_os(name)) {
            env.retain(|(n, _)| n != name.as_str());
            env.push((name.into(), value));
        }
    }
    for (name, value) in set {
        env.retain(|(n, _)| n != name.as_str());
        env.push((name.into(), value.clone()));
    }
    env
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_go_and_what_the_model_needs_stays() {
        for gone in [
            "GITHUB_TOKEN",
            "GH_TOKEN",
            "GH_ENTERPRISE_TOKEN",
            "GITHUB_APP_KEY",
            "SSH_AUTH_SOCK",
            "GIT_ASKPASS",
            "SSH_ASKPASS",
            "GIT_CONFIG_PARAMETERS",
            "GIT_CONFIG_KEY_0",
            "GIT_CONFIG_VALUE_0",
            "GCM_CREDENTIAL_STORE",
            "AGENTOS_GITHUB_API",
            "AGENTOS_FAULT",
            "GIT_DIR",
            "TMUX",
            "STY",
            "DBUS_SESSION_BUS_ADDRESS",
            "DOCKER_HOST",
            "XDG_RUNTIME_DIR",
        ] {
            assert!(is_removed(gone), "{gone}");
        }
        for kept in [
            "ANTHROPIC_API_KEY",
            "ANTHROPIC_BASE_URL",
            "HTTPS_PROXY",
            "https_proxy",
            "NO_PROXY",
            "PATH",
            "HOME",
            "LANG",
            "AGENTOS_HOME",
            "AGENTOS_NOW",
            "GIT_CONFIG_GLOBAL",
            "GIT_AUTHOR_NAME",
        ] {
            assert!(!is_removed(kept), "{kept}");
        }
    }
}
