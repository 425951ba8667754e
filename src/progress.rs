//! What the dispatcher tells the person watching: a spinner with the task, elapsed
//! time and the agent's last action on a terminal; plain lines otherwise.
use crate::term::untrusted;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::time::Duration;

pub struct Progress {
    terminal: bool,
    bar: Option<ProgressBar>,
    task: String,
    /// Before every line: the repository's name in a fleet (`[web] `).
    label: String,
}

impl Progress {
    pub fn new() -> Progress {
        Progress {
            terminal: std::io::stderr().is_terminal(),
            bar: None,
            task: String::new(),
            label: String::new(),
        }
    }

    /// Plain lines only, never a spinner (for tasks running side by side).
    pub fn lines() -> Progress {
        Progress {
            terminal: false,
            bar: None,
            task: String::new(),
            label: String::new(),
        }
    }

    /// Lines that start with `[label] ` (a fleet repository's name).
    pub fn labelled(mut self, label: Option<&str>) -> Progress {
        self.label = label.map(|l| format!("[{l}] ")).unwrap_or_default();
        self
    }

    /// A line that stays (above the spinner, if any). Lines carry reasons and
    /// agent output: shown through [`untrusted`], never obeyed.
    pub fn line(&self, text: &str) {
        let text = untrusted(text);
        let text = format!("{}{text}", self.label);
        match &self.bar {
            Some(bar) => bar.println(text),
            None => eprintln!("{text}"),
        }
    }

    /// The agent of `task` is running.
    pub fn agent_running(&mut self, task: &str) {
        self.task = task.to_string();
        if !self.terminal {
            return;
        }
        let bar = ProgressBar::new_spinner();
        let style = ProgressStyle::with_template("{spinner} {prefix} [{elapsed}] {wide_msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
        bar.set_style(style);
        bar.set_prefix(task.to_string());
        bar.set_message("starting the agent…");
        bar.enable_steady_tick(Duration::from_millis(120));
        self.bar = Some(bar);
    }

    /// The agent's latest action (its own words: [`untrusted`]).
    pub fn action(&self, summary: &str) {
        let summary = untrusted(summary);
        match &self.bar {
            Some(bar) => bar.set_message(summary.to_string()),
            None => eprintln!("{}{}: {summary}", self.label, self.task),
        }
    }

    pub fn agent_stopped(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

impl Default for Progress {
    fn default() -> Self {
        Progress::new()
    }
}
