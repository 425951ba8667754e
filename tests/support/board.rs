//! `git agentos board` run for a test: started on any free port, its address
//! (with the secret) read from what it prints, stopped when dropped; and plain
//! HTTP/1.1 requests to it, sent byte for byte as written (no client tidies
//! the path), for what a browser would never send.
use super::TestRepo;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};

pub struct BoardProcess {
    child: Child,
    /// The address it printed: `http://127.0.0.1:PORT/?token=SECRET`.
    pub url: String,
    pub port: u16,
    pub secret: String,
}

/// One answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub head: String,
    pub body: String,
}

impl BoardProcess {
    /// `git agentos board --port 0 [args]` in `repo`, with `env` added.
    pub fn start(repo: &TestRepo, args: &[&str], env: &[(&str, &str)]) -> BoardProcess {
        let mut cmd = repo.cmd(&["board", "--port", "0"]);
        cmd.args(args).stdout(Stdio::piped()).stderr(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn git agentos board");
        let mut out = BufReader::new(child.stdout.take().expect("stdout is piped"));
        let mut line = String::new();
        while !line.contains("http://") {
            line.clear();
            assert!(
                out.read_line(&mut line).expect("read the board's output") > 0,
                "the board ended before it printed its address"
            );
        }
        // Keep reading (and dropping) what it prints, so it never blocks on a full pipe.
        std::thread::spawn(move || for _ in out.lines() {});
        let url = line[line.find("http://").expect("address")..]
            .trim()
            .to_string();
        let port = url["http://127.0.0.1:".len()..]
            .split('/')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("port in the address");
        let secret = url.split("token=").nth(1).expect("secret").to_string();
        BoardProcess {
            child,
            url,
            port,
            secret,
        }
    }

    /// The board's own address for `path`.
    pub fn at(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// The cookie a browser gets after opening the address.
    pub fn cookie(&self) -> String {
        format!("Cookie: agentos-board-{}={}", self.port, self.secret)
    }

    /// Send `method path` with these header lines (and Host, unless given) and a
    /// form body; return the answer.
    pub fn request(&self, method: &str, path: &str, headers: &[&str], body: &str) -> Answer {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        let mut head = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\n");
        if !headers
            .iter()
            .any(|h| h.to_ascii_lowercase().starts_with("host:"))
        {
            head.push_str(&format!("Host: 127.0.0.1:{}\r\n", self.port));
        }
        for h in headers {
            head.push_str(h);
            head.push_str("\r\n");
        }
        if method == "POST" {
            head.push_str(&format!(
                "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n",
                body.len()
            ));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).expect("send");
        stream.write_all(body.as_bytes()).expect("send");
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).expect("read the answer");
        let answer = String::from_utf8_lossy(&answer).into_owned();
        let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        Answer {
            status,
            head: head.to_string(),
            body: body.to_string(),
        }
    }

    /// The process id (for measuring its CPU).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for BoardProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
