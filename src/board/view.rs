//! What the pages show, read from the state folders and rendered: the board's
//! sections and each repository's live part (its friction block cached until
//! the log or the day changes), a task's page and its parts. Shared by the
//! pages and their live updates, so both always show the same thing.
use super::chart;
use super::columns;
use super::html::{self, Ctx};
use super::repos::Repo;
use super::task_page::{self, Missing, TaskPage};
use super::Board;
use crate::queue::Tree;
use maud::{Markup, PreEscaped};
use std::os::unix::fs::MetadataExt;

impl Board {
    pub(super) fn ctx(&self) -> Ctx<'_> {
        Ctx {
            secret: &self.secret,
        }
    }

    /// A repository shown now, by name, when its state folders can be read.
    pub(super) fn repo(&self, name: &str) -> Option<(Repo, Tree)> {
        let repo = self.repos().into_iter().find(|r| r.name == name)?;
        let tree = repo.tree.clone().ok()?;
        Some((repo, tree))
    }

    /// Every repository with its live part.
    pub(super) fn sections(&self) -> Vec<(Repo, Option<Markup>)> {
        self.repos()
            .into_iter()
            .map(|repo| {
                let live = repo
                    .tree
                    .as_ref()
                    .ok()
                    .and_then(|tree| self.live_part(&repo.name, tree));
                (repo, live)
            })
            .collect()
    }

    /// A repository's columns and friction (None when its folders cannot be read).
    pub(super) fn live_part(&self, name: &str, tree: &Tree) -> Option<Markup> {
        let columns = columns::read(tree, self.now()).ok()?;
        let friction = self.friction_block(name, tree);
        Some(html::repo_live(&self.ctx(), name, &columns, &friction))
    }

    /// The friction block, read again only when the log or the day changed.
    fn friction_block(&self, name: &str, tree: &Tree) -> Markup {
        let path = crate::friction::path(tree);
        let now = self.now();
        let stamp = std::fs::metadata(&path)
            .map(|m| format!("{} {} {} {}", m.len(), m.mtime(), m.mtime_nsec(), now.day()))
            .unwrap_or_else(|_| format!("none {}", now.day()));
        if let Ok(cache) = self.friction.lock() {
            if let Some((seen, block)) = cache.get(&tree.dir) {
                if *seen == stamp {
                    return PreEscaped(block.clone());
                }
            }
        }
        let (events, unreadable) = crate::friction::read(tree).unwrap_or_default();
        let block = html::friction_html(name, &chart::friction(&events, unreadable, now));
        if let Ok(mut cache) = self.friction.lock() {
            cache.insert(tree.dir.clone(), (stamp, block.clone().into_string()));
        }
        block
    }

    /// A task's page model, its log read when `with_log`.
    pub(super) fn task(
        &self,
        tree: &Tree,
        id: &str,
        attempt: Option<u32>,
        with_log: bool,
    ) -> Result<TaskPage, Missing> {
        task_page::read(tree, id, attempt, with_log, self.now())
    }
}
