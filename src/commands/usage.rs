//! What `git agentos` with no command prints: the usage line and the three
//! commands a newcomer needs, taken from the clap definitions.
use clap::Command;

/// The commands to start with, in the order they are used.
const FIRST_COMMANDS: [&str; 3] = ["init", "add", "run"];

/// The text for a command line that names no command.
pub fn no_command(cli: &Command) -> String {
    let mut cli = cli.clone();
    let usage = cli.render_usage().to_string();
    let usage = usage.strip_prefix("Usage: ").unwrap_or(&usage);
    let mut text = format!("usage: {usage}\n\nStart with these commands:\n");
    for name in FIRST_COMMANDS {
        let about = cli
            .find_subcommand(name)
            .and_then(|c| c.get_about())
            .map(|a| crate::manual::summary(&a.to_string()))
            .unwrap_or_default();
        text.push_str(&format!("   {name:<6}{about}\n"));
    }
    text.push_str(
        "\n`git agentos demo` shows it all in a throwaway repository; `git agentos -h` lists\n\
         every command, and `git agentos --help` opens the manual (install it with\n\
         `git agentos install-man`).\n",
    );
    text
}
