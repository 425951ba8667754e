//! `watch` and `board` at rest: CPU over an idle window (the kernel's per-thread
//! schedstat, in nanoseconds) and resident memory. The board is measured with a
//! page's live stream open, as it is while someone has the page open.
use crate::common::BIN;
use crate::{fixtures, Row};
use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Each thread's CPU time so far, by thread id.
pub fn thread_cpu(pid: u32) -> HashMap<String, u64> {
    let mut threads = HashMap::new();
    if let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) {
        for task in tasks.flatten() {
            let stat = std::fs::read_to_string(task.path().join("schedstat")).unwrap_or_default();
            let ns = stat
                .split_whitespace()
                .next()
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0);
            threads.insert(task.file_name().to_string_lossy().into_owned(), ns);
        }
    }
    threads
}

/// CPU time spent since `before` by the threads alive now (a thread that
/// started meanwhile counts whole; one that ended is gone from /proc).
pub fn cpu_ns_since(pid: u32, before: &HashMap<String, u64>) -> u64 {
    thread_cpu(pid)
        .iter()
        .map(|(tid, ns)| ns.saturating_sub(before.get(tid).copied().unwrap_or(0)))
        .sum()
}

fn rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn idle_secs() -> u64 {
    std::env::var("BENCH_IDLE_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60)
}

pub fn rows(scratch: &Path) -> Vec<Row> {
    let secs = idle_secs();
    let repo = fixtures::repo(&scratch.join("repo"), 1000);
    let mut watch = Command::new(BIN)
        .arg("watch")
        .current_dir(&repo)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn watch");
    std::thread::sleep(Duration::from_secs(1));
    let (cpu0, t0) = (thread_cpu(watch.id()), Instant::now());
    std::thread::sleep(Duration::from_secs(secs));
    let cpu_ms = cpu_ns_since(watch.id(), &cpu0) as f64 / 1e6;
    let wall = t0.elapsed().as_secs_f64();
    let rss_mb = rss_kb(watch.id()) as f64 / 1024.0;
    let _ = Command::new("kill").arg(watch.id().to_string()).status();
    let _ = watch.wait();
    vec![
        Row::limit(
            &format!("`watch` CPU over {wall:.0} s idle"),
            cpu_ms,
            "ms",
            10.0,
        ),
        Row::limit("`watch` resident memory, idle", rss_mb, "MB", 30.0),
    ]
    .into_iter()
    .chain(board_rows(&repo))
    .collect()
}

/// `board` with one page's event stream open: CPU over the idle window, and
/// resident memory.
fn board_rows(repo: &Path) -> Vec<Row> {
    use std::io::{BufRead, BufReader, Read, Write};
    let secs = idle_secs();
    let mut board = Command::new(BIN)
        .args(["board", "--port", "0"])
        .current_dir(repo)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn board");
    let mut out = BufReader::new(board.stdout.take().expect("stdout"));
    let mut line = String::new();
    while !line.contains("http://") {
        line.clear();
        assert!(out.read_line(&mut line).expect("read") > 0, "board ended");
    }
    let url = line[line.find("http://").expect("url")..]
        .trim()
        .to_string();
    let host = url["http://".len()..]
        .split('/')
        .next()
        .expect("host")
        .to_string();
    let port = host.rsplit(':').next().expect("port");
    let secret = url.split("token=").nth(1).expect("secret");
    // A page's live stream: the board answers with its current state, then waits.
    let mut stream = std::net::TcpStream::connect(&host).expect("connect");
    write!(
        stream,
        "GET /events?gen=0 HTTP/1.1\r\nHost: {host}\r\nCookie: agentos-board-{port}={secret}\r\n\r\n"
    )
    .expect("request");
    let mut first = [0u8; 512];
    assert!(stream.read(&mut first).expect("answer") > 0, "no answer");
    std::thread::sleep(Duration::from_secs(1));
    let (cpu0, t0) = (thread_cpu(board.id()), Instant::now());
    std::thread::sleep(Duration::from_secs(secs));
    let cpu_ms = cpu_ns_since(board.id(), &cpu0) as f64 / 1e6;
    let wall = t0.elapsed().as_secs_f64();
    let rss_mb = rss_kb(board.id()) as f64 / 1024.0;
    let _ = board.kill();
    let _ = board.wait();
    vec![
        Row::limit(
            &format!("`board` CPU over {wall:.0} s idle, a page open"),
            cpu_ms,
            "ms",
            10.0,
        ),
        Row::limit("`board` resident memory, idle", rss_mb, "MB", 30.0),
    ]
}
