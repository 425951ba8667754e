//! Placeholders in a command that is run (`verify`, with `sh -c`): a value from
//! a commit, a file name or a title never becomes part of a command's text. Only
//! `{{commit}}` (a commit id: hex digits) is filled in; every other placeholder
//! is refused, naming the environment variable that carries its value, which
//! the verifier gives every verify command ([`ENV`]).
//!
//! Why not quote the value, or refuse it only in a command that runs an
//! interpreter: quoting is right only where the text is read once, and which
//! commands read text as code again has no end (`sh -ec`, `| sh`, `bash -lc`,
//! `trap`, `python3 -c`, `perl -e`, `awk`, `find -exec`, `xargs`, `env`,
//! `make`…); a list of them is always missing one. A value in a variable stays
//! data unless the template's own command evaluates it, and the command's text
//! is exactly what the template's author wrote.

/// What each placeholder's value is called in a verify command's environment.
pub const ENV: [(&str, &str); 6] = [
    ("title", "AGENTOS_TASK_TITLE"),
    ("subject", "AGENTOS_SUBJECT"),
    ("body", "AGENTOS_BODY"),
    ("files", "AGENTOS_FILES"),
    ("targets", "AGENTOS_TARGETS"),
    ("commit", "AGENTOS_COMMIT"),
];

/// A placeholder where a command's text would take a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{{{{{placeholder}}}}}` in the verify command `{command}`: a value never becomes part of a command's text; use the environment variable \"${variable}\" (in double quotes), which every verify command gets"
)]
pub struct Unquotable {
    pub command: String,
    pub placeholder: String,
    pub variable: &'static str,
}

/// Fill the placeholders of one command. `verbatim` names the placeholders whose
/// values are safe as they are (a commit id); any other one is refused.
pub fn fill(command: &str, vars: &[(&str, &str)], verbatim: &[&str]) -> Result<String, Unquotable> {
    let mut out = String::with_capacity(command.len());
    let mut rest = command;
    while let Some(at) = rest.find("{{") {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let found = vars
            .iter()
            .find(|(key, _)| rest.starts_with(&format!("{{{{{key}}}}}")));
        match found {
            Some((key, value)) if verbatim.contains(key) => {
                out.push_str(value);
                rest = &rest[key.len() + 4..];
            }
            Some((key, _)) => {
                let variable = ENV
                    .iter()
                    .find(|(name, _)| name == key)
                    .map_or("AGENTOS_TASK_TITLE", |(_, v)| v);
                return Err(Unquotable {
                    command: command.to_string(),
                    placeholder: key.to_string(),
                    variable,
                });
            }
            None => {
                out.push_str("{{");
                rest = &rest[2..];
            }
        }
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_commit_id_is_filled_in() {
        let vars = [("subject", "$(touch x)"), ("commit", "0123abcd")];
        assert_eq!(
            fill(
                "git show {{commit}} -- \"$AGENTOS_SUBJECT\"",
                &vars,
                &["commit"]
            ),
            Ok("git show 0123abcd -- \"$AGENTOS_SUBJECT\"".to_string())
        );
        for template in [
            "echo {{subject}}",
            "sh -ec 'echo checking {{subject}}'",
            "echo {{subject}} | sh",
            "python3 -c 'print(\"{{subject}}\")'",
        ] {
            let e = fill(template, &vars, &["commit"]).expect_err(template);
            assert_eq!(
                (e.placeholder.as_str(), e.variable),
                ("subject", "AGENTOS_SUBJECT")
            );
        }
        assert_eq!(
            fill("echo {{other}}", &vars, &[]),
            Ok("echo {{other}}".into())
        );
    }
}
