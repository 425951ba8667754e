//! `git agentos board`: its guard and its actions over plain HTTP (here), the
//! fleet (fleet.rs), and the page in a real headless Chromium (browser.rs).
mod browser;
mod fleet;

use crate::support::board::BoardProcess;
use crate::support::TestRepo;

pub const NOW: &str = "2026-11-20T12:00:00Z";

pub fn add(repo: &TestRepo, args: &[&str]) {
    let mut all = vec!["add"];
    all.extend_from_slice(args);
    repo.agentos_env(&all, &[("AGENTOS_NOW", NOW)]).ok();
}

#[test]
fn the_board_refuses_requests_without_its_secret_and_paths_that_are_not_ids() {
    let repo = TestRepo::initialised();
    add(&repo, &["Queued", "-t", "README.md", "--id", "queued"]);
    add(&repo, &["Old", "-t", "README.md", "--id", "old"]);
    repo.agentos_env(&["cancel", "old"], &[("AGENTOS_NOW", NOW)])
        .ok();
    let board = BoardProcess::start(&repo, &[], &[("AGENTOS_NOW", NOW)]);
    let cookie = board.cookie();
    let own_origin = format!("Origin: http://127.0.0.1:{}", board.port);

    // Every page, stream and asset needs the secret.
    for path in [
        "/",
        "/events",
        "/assets/board.js",
        "/r/repo/task/queued",
        "/nowhere",
    ] {
        assert_eq!(board.request("GET", path, &[], "").status, 403, "{path}");
    }
    assert_eq!(board.request("GET", "/?token=wrong", &[], "").status, 403);
    let login = board.request(
        "GET",
        &format!("/r/repo/task/queued?token={}", board.secret),
        &[],
        "",
    );
    assert_eq!(login.status, 303);
    assert!(
        login.head.contains("location: /r/repo/task/queued\r\n"),
        "{}",
        login.head
    );
    assert!(
        login.head.contains("HttpOnly; SameSite=Strict"),
        "{}",
        login.head
    );
    let page = board.request("GET", "/", &[&cookie], "");
    assert_eq!(page.status, 200);
    assert!(page
        .head
        .contains("content-security-policy: default-src 'none'; script-src 'self'"));
    // A host that is not the board's (DNS rebinding) is refused, secret or not.
    let rebound = format!("Host: attacker.example:{}", board.port);
    assert_eq!(
        board.request("GET", "/", &[&cookie, &rebound], "").status,
        403
    );

    // An action without the secret in its form changes nothing, cookie or not;
    // nor one from another site's page, even with the secret.
    let with_secret = format!("token={}&back=board", board.secret);
    for (headers, body) in [
        (vec![], "back=board".to_string()),
        (vec![cookie.as_str()], "back=board".to_string()),
        (vec![cookie.as_str()], "token=wrong".to_string()),
        (vec!["Origin: http://attacker.example"], with_secret.clone()),
        (vec!["Sec-Fetch-Site: cross-site"], with_secret.clone()),
    ] {
        let answer = board.request("POST", "/r/repo/task/old/retry", &headers, &body);
        assert_eq!(answer.status, 403, "{headers:?} {body}");
        let answer = board.request("POST", "/r/repo/task/queued/cancel", &headers, &body);
        assert_eq!(answer.status, 403, "{headers:?} {body}");
        let add = board.request(
            "POST",
            "/r/repo/add",
            &headers,
            &format!("{body}&title=X&targets=README.md"),
        );
        assert_eq!(add.status, 403, "{headers:?} {body}");
    }
    assert_eq!(repo.files_in(".agentos/todo"), ["queued.md"]);
    assert!(repo.exists(".agentos/failed/old.md"));

    // Paths outside the state folders are refused, however they are written.
    for path in [
        "/r/repo/task/../../etc/passwd",
        "/r/repo/task/..%2F..%2Fetc%2Fpasswd",
        "/r/repo/task/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/r/repo/task/..%252F..%252Fetc%252Fpasswd",
        "/r/repo/task/%2E%2E",
        "/r/..%2F..%2Fetc/task/passwd",
        "/assets/../../etc/passwd",
        "/assets/..%2F..%2Fetc%2Fpasswd",
        "/../../etc/passwd",
        "/r/repo/task/queued/../../../../etc/passwd",
    ] {
        let answer = board.request("GET", path, &[&cookie], "");
        assert!(
            matches!(answer.status, 400 | 404),
            "{path}: {}",
            answer.status
        );
        assert!(!answer.body.contains("root:"), "{path} leaked /etc/passwd");
    }

    // The same operations as the command line: add, cancel, retry.
    let added = board.request(
        "POST",
        "/r/repo/add",
        &[&own_origin],
        &format!(
            "token={}&title=Fix+the+docs&targets=README.md%0D%0Adocs%2F**&body=Say+%3Cwhy%3E.",
            board.secret
        ),
    );
    assert_eq!(added.status, 303, "{}", added.body);
    let text = repo.read(".agentos/todo/fix-the-docs.md");
    assert!(
        text.contains("targets = [\"README.md\", \"docs/**\"]"),
        "{text}"
    );
    assert!(
        text.contains("base_branch = \"main\"") && text.contains("enqueued = 2026-11-20T12:00:00"),
        "{text}"
    );
    assert!(text.ends_with("+++\nSay <why>.\n"), "{text}");
    let refused = board.request(
        "POST",
        "/r/repo/add",
        &[&own_origin],
        &format!("token={}&title=No+targets&targets=", board.secret),
    );
    assert_eq!(refused.status, 409);
    assert!(
        refused.body.contains("there are no targets"),
        "{}",
        refused.body
    );
    let cancel = board.request(
        "POST",
        "/r/repo/task/queued/cancel",
        &[&own_origin],
        &with_secret,
    );
    assert_eq!(cancel.status, 303);
    assert!(repo
        .read(".agentos/failed/queued.reason")
        .contains("cancelled"));
    let retry = board.request(
        "POST",
        "/r/repo/task/old/retry",
        &[&own_origin],
        &with_secret,
    );
    assert_eq!(retry.status, 303);
    assert!(repo.exists(".agentos/todo/old.md") && !repo.exists(".agentos/failed/old.md"));
    let friction = repo.read(".agentos/friction.jsonl");
    assert!(
        friction.contains("\"kind\":\"retry\"") && friction.contains("\"task\":\"old\""),
        "{friction}"
    );
    let again = board.request(
        "POST",
        "/r/repo/task/old/retry",
        &[&own_origin],
        &with_secret,
    );
    assert_eq!(again.status, 409);
    assert!(again.body.contains("is already queued"), "{}", again.body);
}
