//! Keeping the token out of everything git agentos says or writes: the token
//! itself and the credentials of any URL become `***`.

/// The token, from GITHUB_TOKEN or GH_TOKEN (taken out of the environment at
/// start: see [`crate::secrets`]).
pub fn token() -> Option<String> {
    crate::secrets::github_token()
}

/// Replace the token, and the credentials of any URL (`https://user:secret@host`),
/// with `***`.
pub fn redact(text: &str) -> String {
    let mut out = text.to_string();
    if let Some(token) = token() {
        out = out.replace(&token, "***");
    }
    redact_url_credentials(&out)
}

fn redact_url_credentials(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (before, after) = rest.split_at(at + 3);
        out.push_str(before);
        let end = after
            .find(|c: char| c == '/' || c.is_whitespace() || c == '`' || c == '\'' || c == '"')
            .unwrap_or(after.len());
        let authority = &after[..end];
        match authority.rfind('@') {
            Some(i) => {
                out.push_str("***");
                out.push_str(&authority[i..]);
            }
            None => out.push_str(authority),
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_credentials_are_redacted() {
        assert_eq!(
            redact_url_credentials(
                "cannot reach https://x-access-token:s3cret@github.com/o/r.git: no"
            ),
            "cannot reach https://***@github.com/o/r.git: no"
        );
        assert_eq!(
            redact_url_credentials("http://127.0.0.1:80/a and ssh://git@host/x"),
            "http://127.0.0.1:80/a and ssh://***@host/x"
        );
        assert_eq!(redact_url_credentials("no urls here"), "no urls here");
    }
}
