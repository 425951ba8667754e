//! Fixtures: repositories of N files, executable scripts, the git agentos binary.
use crate::common::{git, BIN};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A repository on `main` with `files` small files in 100 folders and a README,
/// committed, with `git agentos init` done.
pub fn repo(root: &Path, files: usize) -> PathBuf {
    std::fs::create_dir_all(root).expect("mkdir");
    git(root, &["init", "-q", "-b", "main"]);
    for i in 0..files {
        let d = root.join(format!("src/m{}", i % 100));
        std::fs::create_dir_all(&d).expect("mkdir");
        std::fs::write(
            d.join(format!("f{i}.txt")),
            format!("line one of {i}\nline two\nline three\n"),
        )
        .expect("write");
    }
    std::fs::write(root.join("README.md"), "# bench\n").expect("write");
    git(root, &["add", "-A"]);
    git(root, &["commit", "-q", "-m", "fixture"]);
    agentos(root, &["init"]);
    root.to_path_buf()
}

/// Run git agentos in `dir`; it must succeed.
pub fn agentos(dir: &Path, args: &[&str]) {
    let ok = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("git-agentos")
        .success();
    assert!(ok, "git agentos {args:?}");
}

/// Write an executable script.
pub fn script(path: &Path, body: &str) -> String {
    std::fs::write(path, format!("#!/bin/sh\n{body}")).expect("script");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    path.display().to_string()
}

/// A stream-json agent that runs `work` (shell) between its init and result lines.
pub fn instant_agent(path: &Path, work: &str) -> String {
    script(
        path,
        &format!(
            "echo '{{\"type\":\"system\",\"subtype\":\"init\"}}'\n{work}\necho '{{\"type\":\"result\",\"subtype\":\"success\",\"is_error\":false}}'\n"
        ),
    )
}

/// Write a task file into todo/ atomically (as an editor or a hook would).
pub fn drop_task(repo: &Path, id: &str, target: &str) {
    let text = format!("+++\ntitle = \"Bench {id}\"\ntargets = [\"{target}\"]\n+++\n");
    let tmp = repo.join(format!(".agentos/todo/.{id}.tmp"));
    std::fs::write(&tmp, text).expect("write task");
    std::fs::rename(&tmp, repo.join(format!(".agentos/todo/{id}.md"))).expect("rename");
}

/// Wait until a spawned `watch` (its stderr piped) says it is watching, then
/// keep its stderr drained.
pub fn wait_watching(watch: &mut std::process::Child) {
    use std::io::{BufRead, BufReader};
    let mut stderr = BufReader::new(watch.stderr.take().expect("stderr"));
    let mut line = String::new();
    while !line.contains("watching") {
        line.clear();
        assert!(
            stderr.read_line(&mut line).expect("read") > 0,
            "watch ended"
        );
    }
    std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
}
