//! Placeholders in a command that is run (`verify`, with `sh -c`): each value is
//! quoted for the place it lands in, so it reaches the command as the text it is
//! and never as shell syntax. Unquoted it becomes one `'…'` word; inside `'…'`
//! or `"…"` it is escaped for that quoting. Where quoting cannot protect it (in
//! a command that uses `$(`, backticks, a here-document, `eval` or `sh -c`, which
//! read text as code again) a placeholder is refused.

/// Why a placeholder cannot go into a command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{{{{{placeholder}}}}}` in the verify command `{command}` cannot be shell-quoted safely: the command uses {construct}, which reads text as code again"
)]
pub struct Unquotable {
    pub command: String,
    pub placeholder: String,
    pub construct: &'static str,
}

/// Constructs that run text as code a second time.
fn rereads(command: &str) -> Option<&'static str> {
    if command.contains("$(") {
        return Some("`$(…)`");
    }
    if command.contains('`') {
        return Some("backticks");
    }
    if command.contains("<<") {
        return Some("a here-document");
    }
    let words: Vec<&str> = command
        .split(|c: char| c.is_whitespace() || ";&|()".contains(c))
        .filter(|w| !w.is_empty())
        .collect();
    if words.contains(&"eval") {
        return Some("`eval`");
    }
    let shells = ["sh", "bash", "dash", "zsh", "ksh", "ash"];
    let shell_c = words.windows(2).any(|w| {
        let program = w[0].rsplit('/').next().unwrap_or(w[0]);
        shells.contains(&program) && w[1] == "-c"
    });
    shell_c.then_some("`sh -c`")
}

#[derive(Clone, Copy, PartialEq)]
enum Quoting {
    None,
    Single,
    Double,
}

/// `value` quoted for where it lands.
fn quoted(value: &str, quoting: Quoting) -> String {
    match quoting {
        Quoting::None => format!("'{}'", value.replace('\'', r"'\''")),
        Quoting::Single => value.replace('\'', r"'\''"),
        Quoting::Double => {
            let mut out = String::with_capacity(value.len());
            for c in value.chars() {
                if matches!(c, '\\' | '$' | '`' | '"') {
                    out.push('\\');
                }
                out.push(c);
            }
            out
        }
    }
}

/// Fill the placeholders of one command. `verbatim` names the placeholders whose
/// values are safe as they are (a commit id); every other one is quoted.
pub fn fill(command: &str, vars: &[(&str, &str)], verbatim: &[&str]) -> Result<String, Unquotable> {
    let reread = rereads(command);
    let mut out = String::with_capacity(command.len());
    let mut quoting = Quoting::None;
    let mut rest = command;
    while let Some(c) = rest.chars().next() {
        if c == '{' {
            let placeholder = vars
                .iter()
                .find(|(key, _)| rest.starts_with(&format!("{{{{{key}}}}}")));
            if let Some((key, value)) = placeholder {
                if verbatim.contains(key) {
                    out.push_str(value);
                } else if let Some(construct) = reread {
                    return Err(Unquotable {
                        command: command.to_string(),
                        placeholder: key.to_string(),
                        construct,
                    });
                } else {
                    out.push_str(&quoted(value, quoting));
                }
                rest = &rest[key.len() + 4..];
                continue;
            }
        }
        let len = c.len_utf8();
        match (quoting, c) {
            (Quoting::None, '\'') => quoting = Quoting::Single,
            (Quoting::None, '"') => quoting = Quoting::Double,
            (Quoting::Single, '\'') | (Quoting::Double, '"') => quoting = Quoting::None,
            (Quoting::None | Quoting::Double, '\\') => {
                // The escaped character is copied as it is.
                let next = rest[1..].chars().next().map_or(0, char::len_utf8);
                out.push_str(&rest[..1 + next]);
                rest = &rest[1 + next..];
                continue;
            }
            _ => {}
        }
        out.push_str(&rest[..len]);
        rest = &rest[len..];
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    const HOSTILE: &str = "a $(touch x) `touch y`; touch z 'q\" \\ \n$HOME !";

    /// What `sh -c` prints for the command.
    fn sh(command: &str) -> String {
        let out = Command::new("sh")
            .arg("-c")
            .arg(command)
            .output()
            .expect("sh");
        assert!(out.status.success(), "{command}: {out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    #[test]
    fn every_quoting_context_gets_the_value_as_it_is() {
        let vars = [("subject", HOSTILE), ("commit", "0123abcd")];
        for (template, expected) in [
            ("printf %s {{subject}}", HOSTILE.to_string()),
            ("printf %s \"<{{subject}}>\"", format!("<{HOSTILE}>")),
            ("printf %s '<{{subject}}>'", format!("<{HOSTILE}>")),
            ("printf %s x{{subject}}y", format!("x{HOSTILE}y")),
            ("printf %s \\\"{{subject}}", format!("\"{HOSTILE}")),
            ("printf %s {{commit}}", "0123abcd".to_string()),
        ] {
            let command = fill(template, &vars, &["commit"]).expect(template);
            assert_eq!(sh(&command), expected, "{template} → {command}");
        }
    }

    #[test]
    fn commands_that_read_text_again_refuse_placeholders() {
        let vars = [("subject", "x"), ("commit", "0123abcd")];
        for template in [
            "test -n \"$(echo {{subject}})\"",
            "echo `echo {{subject}}`",
            "eval echo {{subject}}",
            "/bin/sh -c {{subject}}",
            "cat <<EOF\n{{subject}}\nEOF",
        ] {
            let e = fill(template, &vars, &["commit"]).expect_err(template);
            assert_eq!(e.placeholder, "subject");
        }
        assert!(fill("echo $(git show {{commit}})", &vars, &["commit"]).is_ok());
        assert!(fill("echo $(date)", &vars, &["commit"]).is_ok());
    }
}
