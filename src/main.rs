//! The `git-agentos` binary; everything it does is in the library, from `cli::main`.
fn main() {
    git_agentos::exe::remember();
    std::process::exit(git_agentos::cli::main());
}
