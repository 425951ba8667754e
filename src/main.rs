fn main() {
    std::process::exit(git_agentos::cli::main());
}
