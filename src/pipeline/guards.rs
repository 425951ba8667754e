//! The two guards around a step in which commands other than the dispatcher's
//! own run (the agent, the verify commands): the refs (refs_guard.rs) and the
//! modes (modes_guard.rs) are read before the step and judged after it.
use super::modes_guard::{ModesGuard, ModesSnapshot};
use super::refs_guard::RefsGuard;
use super::StepOutcome;
use crate::git::RefSnapshot;

/// Both guards, with what each read before the step.
pub(super) struct Guarded<'a> {
    refs: RefsGuard<'a>,
    refs_before: RefSnapshot,
    modes: ModesGuard,
    modes_before: ModesSnapshot,
}

impl<'a> Guarded<'a> {
    /// Read both before `step` of task `id`; `confined` when what runs cannot
    /// move refs itself (see [`RefsGuard`]). The step's failure when the refs
    /// cannot be read.
    pub(super) fn before(
        ws: &'a crate::workspace::Workspace,
        id: &str,
        confined: bool,
        step: &str,
    ) -> Result<Guarded<'a>, StepOutcome> {
        let refs = RefsGuard::new(ws, id, confined);
        let refs_before = refs
            .snapshot()
            .map_err(|e| StepOutcome::Failed(format!("{step}: {e}")))?;
        let modes = ModesGuard::new(&ws.repo);
        let modes_before = modes.snapshot();
        Ok(Guarded {
            refs,
            refs_before,
            modes,
            modes_before,
        })
    }

    /// The verdict after the step `who` ran: both guards judge (the modes one
    /// puts back what it found), and a moved ref is said first.
    pub(super) fn judge(self, who: &str, step: &str) -> Option<StepOutcome> {
        let modes_changed = self.modes.changed_since(self.modes_before, who);
        self.refs
            .moved_since(self.refs_before, who, step)
            .or(modes_changed)
    }
}
