//! Markdown from task files and reports made into HTML that cannot run anything:
//! raw HTML in the source is shown as text (a `<script>` reads as `<script>`),
//! links keep only http, https, mailto and same-site addresses, images become
//! links (the page loads nothing from elsewhere), and a `diff` code block is
//! coloured line by line. Control characters are made visible first, as on a
//! terminal.
use crate::term::untrusted;
use maud::{html, Markup, PreEscaped};
use pulldown_cmark::{CodeBlockKind, CowStr, Event, Options, Parser, Tag, TagEnd};

/// `source` (Markdown) as safe HTML.
pub fn to_html(source: &str) -> Markup {
    let source = untrusted(source);
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_GFM;
    let mut events = Vec::new();
    let mut diff: Option<String> = None;
    for event in Parser::new_ext(&source, options) {
        if let Some(text) = diff.as_mut() {
            match event {
                Event::Text(t) => text.push_str(&t),
                Event::End(TagEnd::CodeBlock) => {
                    let block = diff_html(text);
                    diff = None;
                    events.push(Event::Html(CowStr::from(block.into_string())));
                }
                _ => {}
            }
            continue;
        }
        match event {
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(lang))) if &*lang == "diff" => {
                diff = Some(String::new());
            }
            other => events.push(defused(other)),
        }
    }
    let mut out = String::new();
    pulldown_cmark::html::push_html(&mut out, events.into_iter());
    PreEscaped(out)
}

/// One event with everything that could run or load removed.
fn defused(event: Event<'_>) -> Event<'_> {
    match event {
        Event::InlineHtml(tag) if is_line_break(&tag) => Event::HardBreak,
        Event::Html(text) | Event::InlineHtml(text) => Event::Text(text),
        Event::Start(Tag::HtmlBlock) => Event::Start(Tag::CodeBlock(CodeBlockKind::Indented)),
        Event::End(TagEnd::HtmlBlock) => Event::End(TagEnd::CodeBlock),
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        })
        | Event::Start(Tag::Image {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Link {
            link_type,
            dest_url: safe_url(dest_url),
            title,
            id,
        }),
        Event::End(TagEnd::Image) => Event::End(TagEnd::Link),
        other => other,
    }
}

/// `<br>` (the verification report breaks table cells with it).
fn is_line_break(tag: &str) -> bool {
    matches!(
        tag.trim().to_ascii_lowercase().as_str(),
        "<br>" | "<br/>" | "<br />"
    )
}

/// The address itself when it is http, https, mailto or has no scheme (same
/// site, or a fragment); `#` for anything else (`javascript:`, `data:`…).
fn safe_url(url: CowStr<'_>) -> CowStr<'_> {
    // Browsers skip whitespace and control characters inside a scheme.
    let squeezed: String = url
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .collect::<String>()
        .to_ascii_lowercase();
    let scheme_end = squeezed.find(':');
    let path_start = squeezed.find(['/', '?', '#']);
    let has_scheme = match (scheme_end, path_start) {
        (Some(colon), Some(slash)) => colon < slash,
        (Some(_), None) => true,
        (None, _) => false,
    };
    let allowed = ["http:", "https:", "mailto:"]
        .iter()
        .any(|s| squeezed.starts_with(s));
    if !has_scheme || allowed {
        url
    } else {
        CowStr::from("#")
    }
}

/// `url` when it is an http or https address (a pull request's, from a record).
pub fn safe_href(url: &str) -> Option<&str> {
    let lower = url.trim_start().to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://"))
        .then_some(url)
        .filter(|u| !u.chars().any(|c| c.is_whitespace() || c.is_control()))
}

/// A unified diff, each line marked as added, removed, a hunk header or a file
/// header: one block per line (the stylesheet shows each on its own line).
pub fn diff_html(diff: &str) -> Markup {
    let class = |line: &str| {
        if line.starts_with("+++") || line.starts_with("---") {
            "meta"
        } else if line.starts_with('+') {
            "add"
        } else if line.starts_with('-') {
            "del"
        } else if line.starts_with("@@") {
            "hunk"
        } else {
            "ctx"
        }
    };
    html! {
        pre.diff { code {
            @for line in diff.lines() {
                span class=(class(line)) { (untrusted(line)) }
            }
        } }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(md: &str) -> String {
        to_html(md).into_string()
    }

    #[test]
    fn raw_html_is_text() {
        let out = render("Hi <script>alert(1)</script> there\n\n<script>\nalert(2)\n</script>\n");
        assert!(!out.contains("<script"), "{out}");
        assert!(
            out.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{out}"
        );
        assert!(out.contains("&lt;script&gt;\nalert(2)"), "{out}");
        let out = render("<img src=x onerror=\"window.pwned=1\">");
        assert!(!out.contains("<img"), "{out}");
        assert!(render("a<br>b").contains("a<br />"));
    }

    #[test]
    fn only_safe_links_stay() {
        for bad in [
            "javascript:alert(1)",
            "JaVaScRiPt:alert(1)",
            "java\tscript:alert(1)",
            "data:text/html,alert(1)",
            "vbscript:x",
        ] {
            let out = render(&format!("[x](<{bad}>)"));
            assert!(out.contains("href=\"#\""), "{bad}: {out}");
        }
        for good in [
            "https://example.com/a?b=c",
            "http://x",
            "mailto:a@b.c",
            "#part",
            "docs/a:b.md",
        ] {
            let out = render(&format!("[x](<{good}>)"));
            assert!(
                !out.contains("href=\"#\"") || good == "#part",
                "{good}: {out}"
            );
        }
        let out = render("![tracker](https://example.com/p.png)");
        assert!(!out.contains("<img"), "{out}");
        assert!(
            out.contains("<a href=\"https://example.com/p.png\">tracker</a>"),
            "{out}"
        );
    }

    #[test]
    fn diffs_are_coloured_and_escaped() {
        let out = render("```diff\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-old <b>\n+new\n same\n```\n");
        assert!(out.contains("<span class=\"meta\">--- a/x</span>"), "{out}");
        assert!(
            out.contains("<span class=\"hunk\">@@ -1 +1 @@</span>"),
            "{out}"
        );
        assert!(
            out.contains("<span class=\"del\">-old &lt;b&gt;</span>"),
            "{out}"
        );
        assert!(out.contains("<span class=\"add\">+new</span>"), "{out}");
        assert!(out.contains("<span class=\"ctx\"> same</span>"), "{out}");
    }

    #[test]
    fn pull_request_links_are_web_addresses() {
        assert_eq!(
            safe_href("https://github.com/o/r/pull/1"),
            Some("https://github.com/o/r/pull/1")
        );
        assert_eq!(safe_href("javascript:alert(1)"), None);
        assert_eq!(safe_href("https://x y"), None);
    }

    #[test]
    fn control_characters_are_shown() {
        assert!(render("a\u{1b}[2Jb").contains("a^[[2Jb"));
    }
}
