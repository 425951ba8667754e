//! Who may use the board, checked before any route runs. The board listens on
//! 127.0.0.1 only and answers only requests that name it as their host (so a
//! site that rebinds its DNS name to 127.0.0.1 is refused). Every request needs
//! the secret: the address the command prints carries it (`?token=…`, as
//! Jupyter's does); the first request with it sets a cookie (HttpOnly,
//! SameSite=Strict) and sends the browser on to the same page without it.
//! Actions are POSTs that carry the secret in their form (so no other page can
//! make the browser start one), and whose Origin, when sent, must be the board's.
//! Every answer forbids framing, inline scripts and loads from elsewhere.
use super::Board;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// The headers every answer carries.
const HEADERS: [(&str, &str); 7] = [
    (
        "content-security-policy",
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    ),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "same-origin"),
    ("x-frame-options", "DENY"),
    ("cache-control", "no-store"),
    ("cross-origin-opener-policy", "same-origin"),
    ("cross-origin-resource-policy", "same-origin"),
];

/// What the guard decided about a request.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    /// The secret came in the address: set the cookie, go on to `location`.
    Login {
        location: String,
    },
    Refuse(&'static str),
}

/// The middleware: refuse, log in, or pass; then add the headers.
pub async fn guard(State(board): State<Arc<Board>>, req: Request, next: Next) -> Response {
    let mut response = match verdict(&board, req.method(), req.uri(), req.headers()) {
        Verdict::Pass => next.run(req).await,
        Verdict::Login { location } => {
            let cookie = format!(
                "{}={}; Path=/; HttpOnly; SameSite=Strict",
                board.cookie_name(),
                board.secret
            );
            let mut response =
                (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response();
            if let Ok(value) = HeaderValue::from_str(&cookie) {
                response.headers_mut().insert(header::SET_COOKIE, value);
            }
            response
        }
        Verdict::Refuse(why) => refused(why),
    };
    let headers = response.headers_mut();
    for (name, value) in HEADERS {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

/// 403 with the reason.
pub fn refused(why: &str) -> Response {
    let page = super::html::message_page("Refused", why, &[]);
    (StatusCode::FORBIDDEN, page).into_response()
}

/// The decision, from the request's method, address and headers.
pub fn verdict(
    board: &Board,
    method: &Method,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
) -> Verdict {
    let header = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    if !header(header::HOST).is_some_and(|host| board.is_own_host(host)) {
        return Verdict::Refuse(
            "this request names another host; the board answers only to the address it printed",
        );
    }
    if method != Method::GET && method != Method::HEAD {
        if header(header::ORIGIN).is_some_and(|origin| !board.is_own_origin(origin)) {
            return Verdict::Refuse("this action came from another site");
        }
        if headers
            .get("sec-fetch-site")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|site| site != "same-origin" && site != "none")
        {
            return Verdict::Refuse("this action came from another site");
        }
        // The secret is in the action's form; the action checks it.
        return Verdict::Pass;
    }
    let query = uri.query().unwrap_or("");
    if let Some(token) = query
        .split('&')
        .find_map(|pair| pair.strip_prefix("token="))
    {
        if !board.is_secret(token) {
            return Verdict::Refuse("the secret in this address is not this board's");
        }
        // The same address without the secret (never another site's: `//host`).
        let rest: Vec<&str> = query
            .split('&')
            .filter(|pair| !pair.starts_with("token=") && !pair.is_empty())
            .collect();
        let mut location = format!("/{}", uri.path().trim_start_matches('/'));
        if !rest.is_empty() {
            location.push('?');
            location.push_str(&rest.join("&"));
        }
        return Verdict::Login { location };
    }
    let cookie = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == board.cookie_name());
    match cookie {
        Some((_, value)) if board.is_secret(value) => Verdict::Pass,
        _ => Verdict::Refuse(
            "this board needs its secret: open the address `git agentos board` printed (it ends in ?token=…)",
        ),
    }
}

/// Equal, in a time that does not depend on where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}
