//! `board --fleet`: a section per linked repository, a dangling link shown,
//! and a link added while it runs pushed to the open page.
use super::add;
use crate::support::board::BoardProcess;
use crate::support::TestRepo;
use std::time::Duration;

/// Read a stream until `needle` has come.
fn read_until(stream: &mut std::net::TcpStream, needle: &str) -> String {
    use std::io::Read;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let mut seen = String::new();
    let mut buf = [0u8; 8192];
    while !seen.contains(needle) {
        let n = stream
            .read(&mut buf)
            .unwrap_or_else(|e| panic!("no `{needle}` ({e}); got:\n{seen}"));
        assert!(n > 0, "the stream ended; got:\n{seen}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    seen
}

#[test]
fn the_fleet_board_shows_each_repository_and_a_dangling_link_and_follows_the_fleet() {
    let one = TestRepo::initialised();
    let two = TestRepo::initialised();
    add(&one, &["In one", "-t", "README.md", "--id", "same"]);
    add(&two, &["In two", "-t", "README.md", "--id", "same"]);
    let home = one.dir.path().join("agentos-home");
    let fleet = home.join("fleet");
    std::fs::create_dir_all(&fleet).expect("fleet folder");
    std::os::unix::fs::symlink(one.root(), fleet.join("one")).expect("link");
    std::os::unix::fs::symlink(one.dir.path().join("moved-away"), fleet.join("gone"))
        .expect("link");
    let home_env = home.display().to_string();
    let board = BoardProcess::start(&one, &["--fleet"], &[("AGENTOS_HOME", &home_env)]);
    let cookie = board.cookie();
    let page = board.request("GET", "/", &[&cookie], "");
    assert_eq!(page.status, 200);
    assert!(page.body.contains("id=\"repo-one\"") && page.body.contains("id=\"repo-gone\""));
    assert!(
        page.body.contains("which does not exist"),
        "the dangling link is shown"
    );
    let task = board.request("GET", "/r/one/task/same", &[&cookie], "");
    assert!(task.body.contains("<h1>In one</h1>"), "{}", task.body);

    // A repository linked while the board runs appears, pushed to the open page.
    let gen = page
        .body
        .split("/events?gen=")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("gen");
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", board.port)).expect("connect");
    std::io::Write::write_all(
        &mut stream,
        format!(
            "GET /events?gen={gen} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n{cookie}\r\n\r\n",
            board.port
        )
        .as_bytes(),
    )
    .expect("request");
    read_until(&mut stream, "\r\n\r\n"); // the stream is open
    std::os::unix::fs::symlink(two.root(), fleet.join("two")).expect("link");
    let pushed = read_until(&mut stream, "data: board\n");
    assert!(pushed.contains("id=\"repo-two\""), "{pushed}");
    let task = board.request("GET", "/r/two/task/same", &[&cookie], "");
    assert!(task.body.contains("<h1>In two</h1>"), "{}", task.body);
}
