use super::*;
use std::io::Write;
use std::os::unix::fs::symlink;

#[test]
fn links_are_refused_at_every_step() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("state");
    std::fs::create_dir_all(state.join("runs")).expect("mkdir");
    let outside = dir.path().join("outside");
    std::fs::write(&outside, "theirs\n").expect("write");
    symlink(&outside, state.join("friction.jsonl")).expect("link");
    symlink(dir.path(), state.join("linked")).expect("link");
    let d = Dir::open(&state).expect("open");
    let e = d
        .append("friction.jsonl")
        .expect_err("a link is not appended to");
    assert!(e.to_string().contains("symbolic link"), "{e}");
    assert!(d.read("friction.jsonl", 100).is_err());
    let e = d.sub("linked", false).expect_err("a linked folder");
    assert!(e.to_string().contains("symbolic link"), "{e}");
    assert!(d.descend("linked/state", true).is_err());
    assert_eq!(std::fs::read_to_string(&outside).expect("read"), "theirs\n");
    // The folder itself as a link.
    symlink(&state, dir.path().join("state-link")).expect("link");
    assert!(Dir::open(&dir.path().join("state-link")).is_err());
    // Folders are made on the way, files appended to.
    let runs = d.descend("runs/a/b", true).expect("descend");
    runs.append("x.log")
        .expect("append")
        .write_all(b"one\n")
        .expect("write");
    assert_eq!(
        runs.read("x.log", 100).expect("read"),
        Some(b"one\n".to_vec())
    );
    assert_eq!(runs.read("missing", 100).expect("read"), None);
}

#[test]
fn only_regular_files_of_one_name_under_the_cap() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = Dir::open(dir.path()).expect("open");
    nix::unistd::mkfifo(&dir.path().join("fifo"), Mode::from_bits_truncate(0o600)).expect("fifo");
    assert!(
        d.read("fifo", 100).is_err(),
        "a FIFO is refused without blocking"
    );
    assert!(d.append("fifo").is_err());
    std::fs::write(dir.path().join("big"), vec![b'x'; 200]).expect("write");
    let e = d.read("big", 100).expect_err("over the cap");
    assert!(e.to_string().contains("over the limit"), "{e}");
    let (tail, cut) = read_tail(&mut d.open_read("big").expect("open"), 100).expect("tail");
    assert!(cut && tail.is_empty(), "no whole line in the tail");
    std::fs::write(dir.path().join("own"), "x").expect("write");
    std::fs::hard_link(dir.path().join("own"), dir.path().join("other")).expect("link");
    let e = d.append("own").expect_err("two names");
    assert!(e.to_string().contains("hard link"), "{e}");
    assert_eq!(
        read_file(&dir.path().join("own"), 10).expect("read"),
        Some(b"x".to_vec())
    );
    assert_eq!(
        read_file(&dir.path().join("nope/x"), 10).expect("read"),
        None
    );
    let mut names = d.names().expect("names");
    names.sort();
    assert_eq!(names, ["big", "fifo", "other", "own"].map(OsString::from));
}
