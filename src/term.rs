//! The one way text that git agentos did not write reaches a terminal: task
//! titles, bodies and fields (from files or commit trailers), what agents print,
//! what GitHub says. Control characters are shown, never obeyed, as git shows
//! sideband text: `ESC` becomes `^[`, so a task cannot clear or rewrite the
//! reader's screen. Newlines and tabs stay. Raw text is only in `--json` (JSON
//! escapes it) and `logs --raw`.
use std::borrow::Cow;

/// `text` with every control character made visible: C0 and DEL in caret
/// notation (`^[`, `^@`, `^?`, `^M`), C1 and the bidirectional overrides as
/// `<U+XXXX>`. Borrowed when there is nothing to show.
pub fn untrusted(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_showing) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if !needs_showing(c) {
            out.push(c);
        } else if (c as u32) < 0x20 || c == '\u{7f}' {
            out.push('^');
            out.push(char::from((c as u8) ^ 0x40));
        } else {
            out.push_str(&format!("<U+{:04X}>", c as u32));
        }
    }
    Cow::Owned(out)
}

fn needs_showing(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::untrusted;

    #[test]
    fn control_characters_are_shown_not_obeyed() {
        assert_eq!(untrusted("a\u{1b}[2Jb"), "a^[[2Jb");
        assert_eq!(untrusted("nul\0 del\u{7f} cr\r"), "nul^@ del^? cr^M");
        assert_eq!(
            untrusted("c1\u{9b}31m rtl\u{202e}"),
            "c1<U+009B>31m rtl<U+202E>"
        );
        assert_eq!(untrusted("two\nlines\tand tabs"), "two\nlines\tand tabs");
        assert!(matches!(untrusted("plain"), std::borrow::Cow::Borrowed(_)));
    }
}
