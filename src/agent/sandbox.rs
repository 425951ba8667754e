//! The write boundary the kernel enforces (Landlock): what the kernel offers, the
//! ruleset the shim applies to an agent's (or a verify command's) process tree
//! between fork and exec, and whether a given agent may start without it.
//!
//! Writing, creating, truncating, removing, renaming, linking (REFER) and making
//! special files are handled; every one of them is granted beneath the writable
//! folders, except making character and block devices, which is never granted.
//! Reads and execution are not handled: toolchains live everywhere. The ABI-6
//! scopes keep signals and abstract unix sockets inside the sandbox.
use super::config::{AgentConfig, SandboxMode};
use landlock::{
    path_beneath_rules, Access, AccessFs, BitFlags, CompatLevel, Compatible, Ruleset, RulesetAttr,
    RulesetCreated, RulesetCreatedAttr, RulesetStatus, Scope, ABI,
};
use std::path::PathBuf;
use std::process::Command;

/// The newest Landlock ABI whose rights the escape tests were run against. Raise
/// it only after running them on a kernel that offers the next one.
pub const TESTED: ABI = ABI::V7;

/// The oldest ABI accepted: ABI 3 (Linux 6.2) is the first that refuses
/// truncating a file outside the boundary.
pub const MINIMUM_ABI: i32 = 3;

/// Set to `1` to behave as if the kernel had no Landlock (for tests).
pub const FORCE_UNAVAILABLE: &str = "AGENTOS_SANDBOX_UNAVAILABLE";

/// How to get a usable sandbox, for messages.
pub const HOW_TO_GET_IT: &str = "a kernel with Landlock at ABI 3 or newer is needed: Linux 6.2+ with `landlock` in the kernel's `lsm=` list (a container must not block the landlock_* system calls)";

/// What the kernel offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Support {
    /// Landlock at this ABI (at least [`MINIMUM_ABI`]).
    Available { abi: i32 },
    /// No usable Landlock, and why.
    Unavailable { why: String },
}

impl Support {
    pub fn abi(&self) -> Option<i32> {
        match self {
            Support::Available { abi } => Some(*abi),
            Support::Unavailable { .. } => None,
        }
    }
}

/// Ask the kernel (or [`FORCE_UNAVAILABLE`]).
pub fn support() -> Support {
    if std::env::var(FORCE_UNAVAILABLE).is_ok_and(|v| !v.is_empty() && v != "0") {
        return Support::Unavailable {
            why: format!("{FORCE_UNAVAILABLE} is set"),
        };
    }
    match kernel_abi() {
        Err(nix::errno::Errno::EOPNOTSUPP) => Support::Unavailable {
            why: "Landlock is built into this kernel but not enabled".into(),
        },
        Err(_) => Support::Unavailable {
            why: "this kernel has no Landlock (or a container blocks it)".into(),
        },
        Ok(abi) if abi < MINIMUM_ABI => Support::Unavailable {
            why: format!(
                "this kernel offers Landlock ABI {abi}, which cannot refuse truncating files"
            ),
        },
        Ok(abi) => Support::Available { abi },
    }
}

/// `landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION)`: the ABI.
#[allow(unsafe_code)]
fn kernel_abi() -> Result<i32, nix::errno::Errno> {
    const LANDLOCK_CREATE_RULESET_VERSION: nix::libc::c_uint = 1;
    // SAFETY: the documented way to ask for the ABI version: no pointer is read
    // or written (attr NULL, size 0).
    let v = unsafe {
        nix::libc::syscall(
            nix::libc::SYS_landlock_create_ruleset,
            std::ptr::null::<u8>(),
            0usize,
            LANDLOCK_CREATE_RULESET_VERSION,
        )
    };
    if v < 0 {
        Err(nix::errno::Errno::last())
    } else {
        Ok(v as i32)
    }
}

/// Why the boundary could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("the Landlock ruleset cannot be built: {0}")]
    Ruleset(#[from] landlock::RulesetError),
    #[error("Landlock is not enforced by this kernel")]
    NotEnforced,
}

fn handled(abi: ABI) -> BitFlags<AccessFs> {
    AccessFs::from_write(abi)
}

/// ABI 9's right to connect to a pathname unix socket, taken where the kernel
/// has it: a server outside the sandbox that runs commands on request (tmux,
/// screen, the session bus, Docker, an ssh agent) is then out of reach, and
/// only sockets beneath the writable set (the agent's own, in its TMPDIR) can be
/// reached. Below ABI 9 the kernel cannot refuse it (see the README's Sandbox
/// section). Not measured here: this machine's kernel offers ABI 7.
const UNIX_SOCKETS: ABI = ABI::V9;

/// What is granted beneath a writable folder: everything handled but making
/// device nodes.
fn granted(abi: ABI) -> BitFlags<AccessFs> {
    handled(abi) & !(AccessFs::MakeChar | AccessFs::MakeBlock)
}

/// The ruleset for a writable set: ABI 3's rights are required (an older kernel
/// is an error), newer ones up to [`TESTED`] are taken where the kernel has them.
/// A path that does not exist gets no rule (the caller creates its own first and
/// warns about the others: see [`missing`]).
pub fn ruleset(writable: &[PathBuf]) -> Result<RulesetCreated, SandboxError> {
    let existing: Vec<&PathBuf> = writable.iter().filter(|p| p.exists()).collect();
    Ok(Ruleset::default()
        .set_compatibility(CompatLevel::HardRequirement)
        .handle_access(handled(ABI::V3))?
        .set_compatibility(CompatLevel::BestEffort)
        .handle_access(handled(TESTED))?
        .handle_access(AccessFs::ResolveUnix)?
        .scope(Scope::from_all(TESTED))?
        .create()?
        .add_rules(path_beneath_rules(
            existing,
            granted(TESTED) | (handled(UNIX_SOCKETS) & AccessFs::ResolveUnix),
        ))?)
}

/// The paths of a writable set that do not exist (they get no rule).
pub fn missing(writable: &[PathBuf]) -> Vec<&PathBuf> {
    writable.iter().filter(|p| !p.exists()).collect()
}

/// Restrict `cmd`'s child with `ruleset` between fork and exec, so the process
/// that spawns it stays outside (the agent cannot signal it). The spawn fails
/// when the kernel does not enforce it.
#[allow(unsafe_code)]
pub fn confine(cmd: &mut Command, ruleset: RulesetCreated) {
    use std::os::unix::process::CommandExt;
    let mut ruleset = Some(ruleset);
    // SAFETY: runs in the child between fork and exec. The shim forks while it
    // has a single thread, so no lock can be held; restrict_self makes two
    // system calls (prctl, landlock_restrict_self) and allocates nothing.
    unsafe {
        cmd.pre_exec(move || {
            let ruleset = ruleset
                .take()
                .ok_or_else(|| std::io::Error::other("the sandbox was applied twice"))?;
            let status = ruleset.restrict_self().map_err(std::io::Error::other)?;
            match status.ruleset {
                RulesetStatus::NotEnforced => Err(std::io::Error::other(
                    "Landlock is not enforced by this kernel",
                )),
                RulesetStatus::FullyEnforced | RulesetStatus::PartiallyEnforced => Ok(()),
            }
        });
    }
}

/// How an agent's commands will run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Inside the boundary, at this ABI.
    Sandboxed { abi: i32 },
    /// Without it, and why (said by `status`, `show` and the report).
    Unsandboxed { why: String },
    /// Not at all: the task fails with this reason.
    Refused { reason: String },
}

impl Plan {
    pub fn is_sandboxed(&self) -> bool {
        matches!(self, Plan::Sandboxed { .. })
    }

    /// One line for the record, `show`, `status` and the report.
    pub fn describe(&self) -> String {
        match self {
            Plan::Sandboxed { abi } => format!("on (Landlock ABI {abi})"),
            Plan::Unsandboxed { why } => format!("off: {why}"),
            Plan::Refused { reason } => format!("refused: {reason}"),
        }
    }
}

/// Decide how an agent runs, given what the kernel offers.
pub fn plan(config: &AgentConfig, support: &Support) -> Plan {
    let toml = format!(".agentos/agents/{}/agent.toml", config.name);
    let local = format!(".agentos/agents/{}/local.toml", config.name);
    if config.sandbox.mode == SandboxMode::Off {
        return Plan::Unsandboxed {
            why: format!(
                "`sandbox = \"off\"` in the settings of .agentos/agents/{}/",
                config.name
            ),
        };
    }
    match support {
        Support::Available { abi } => Plan::Sandboxed { abi: *abi },
        Support::Unavailable { why } => match config.runs_commands(false) {
            None => Plan::Unsandboxed {
                why: format!("no usable Landlock ({why}); the agent's tools cannot run commands"),
            },
            Some(how) => Plan::Refused {
                reason: format!(
                    "the agent `{}` can run commands ({how}) and this machine cannot confine them: {why}. {HOW_TO_GET_IT}, see `git agentos doctor`; or limit its tools to file tools (no Bash) in {toml}; or set `sandbox = \"off\"` in {local} (yours; git does not track it) to run it unsandboxed on purpose",
                    config.name
                ),
            },
        },
    }
}

/// How a task's verify commands run: inside the boundary unless its agent runs
/// unsandboxed on purpose; never unconfined by accident.
pub fn plan_commands(config: &AgentConfig, support: &Support) -> Plan {
    if config.sandbox.mode == SandboxMode::Off {
        return Plan::Unsandboxed {
            why: format!(
                "`sandbox = \"off\"` in the settings of .agentos/agents/{}/",
                config.name
            ),
        };
    }
    match support {
        Support::Available { abi } => Plan::Sandboxed { abi: *abi },
        Support::Unavailable { why } => Plan::Refused {
            reason: format!(
                "not run: verify commands run only inside the sandbox, and this machine has none ({why}). {HOW_TO_GET_IT}; or set `sandbox = \"off\"` in .agentos/agents/{}/local.toml to run them unsandboxed on purpose",
                config.name
            ),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_nodes_are_never_granted() {
        let g = granted(TESTED);
        assert!(!g.contains(AccessFs::MakeChar) && !g.contains(AccessFs::MakeBlock));
        assert!(g.contains(AccessFs::Refer) && g.contains(AccessFs::Truncate));
        assert!(!handled(TESTED).contains(AccessFs::ReadFile));
    }
}
