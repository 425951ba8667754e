//! Unit tests of the task file: parse, write, validate, and fuzzing of all three.
use super::*;
use proptest::prelude::*;
use std::time::Duration;

#[test]
fn slugs_from_titles() {
    assert_eq!(slugify("Task 1"), "task-1");
    assert_eq!(slugify("  Fix the README!! now "), "fix-the-readme-now");
    assert_eq!(slugify("Ünïcode ✓"), "n-code");
    assert_eq!(slugify("!!!"), "task");
}

#[test]
fn parses_the_design_example() {
    let text = "+++\ntitle = \"Fix the install command in the README\"\ntargets = [\"README.md\"]  # only this\nagent = \"docs\"\nbase = \"main\"\nverify = [\"cargo test --quiet\"]\npriority = 0\ntimeout = \"30m\"\n+++\nThe install section says `cargo instal`; fix it.\n";
    let task = parse(text).expect("parses");
    assert_eq!(task.title, "Fix the install command in the README");
    assert_eq!(task.targets, vec!["README.md"]);
    assert_eq!(task.agent.as_deref(), Some("docs"));
    assert_eq!(
        task.body,
        "The install section says `cargo instal`; fix it.\n"
    );
    assert!(validate(&task).is_ok());
}

#[test]
fn bad_toml_names_the_line() {
    let err = parse("+++\ntitle = \"x\"\ntargets = [README.md]\n+++\n").expect_err("rejects");
    assert_eq!(err.line, Some(3), "{err}");
    let err = parse("+++\ntitle = \"x\"\ntargest = []\n+++\n").expect_err("rejects");
    assert_eq!(err.field.as_deref(), Some("targest"), "{err}");
}

#[test]
fn target_rules() {
    assert!(check_target("src/**").is_ok());
    assert!(check_target("a/../b").is_ok());
    assert!(check_target("/etc/passwd").is_err());
    assert!(check_target("../x").is_err());
    assert!(check_target("a/../../x").is_err());
    assert!(check_target(".git/config").is_err());
    assert!(check_target("**/../x").is_err());
    assert!(check_target("C:/x").is_err());
}

#[test]
fn control_characters_in_targets_and_ids_are_rejected_with_a_reason() {
    let nul = check_target("a\u{0}b").expect_err("a NUL");
    assert_eq!(nul.field.as_deref(), Some("targets"));
    assert!(
        nul.what
            .contains("`a\\0b` holds a control character (U+0000)"),
        "{nul}"
    );
    assert!(check_target("docs/\u{1b}[2J.md").is_err());
    let task = parse("+++\ntitle = \"t\"\ntargets = [\"a\\u0000b\"]\n+++\n").expect("parses");
    assert!(validate(&task).is_err(), "validation catches it in a file");
    let id = check_id("x\u{1b}[2J").expect_err("an escape");
    assert!(
        id.what.contains("holds a control character (U+001B)"),
        "{id}"
    );
    assert!(
        !id.what.contains('\u{1b}'),
        "the reason shows it, never carries it: {id}"
    );
}

#[test]
fn durations() {
    assert_eq!(parse_duration("90s"), Some(Duration::from_secs(90)));
    assert_eq!(parse_duration("1h30m"), Some(Duration::from_secs(5400)));
    assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
    assert_eq!(parse_duration("30"), None);
    assert_eq!(parse_duration("3x"), None);
}

fn any_task() -> impl Strategy<Value = Task> {
    (
        any::<String>(),
        proptest::collection::vec(any::<String>(), 0..4),
        proptest::option::of(any::<String>()),
        proptest::option::of(any::<String>()),
        proptest::option::of(any::<String>()),
        proptest::collection::vec(any::<String>(), 0..3),
        any::<i64>(),
        proptest::option::of(any::<String>()),
        proptest::option::of(-4_000_000_000_000_000_000i128..9_000_000_000_000_000_000i128),
        (
            proptest::option::of(any::<bool>()),
            proptest::option::of(any::<bool>()),
            proptest::collection::vec(any::<String>(), 0..3),
            any::<String>(),
            proptest::collection::vec(any::<String>(), 0..3),
            proptest::option::of(any::<String>()),
        ),
        (
            proptest::collection::vec(any::<String>(), 0..3),
            proptest::option::of(any::<bool>()),
            proptest::option::of(any::<u64>()),
            proptest::option::of(-1e12f64..1e12),
        ),
    )
        .prop_map(
            |(
                title,
                targets,
                agent,
                base,
                base_branch,
                verify,
                priority,
                timeout,
                enqueued,
                (require_all, draft, labels, body, triggered_by, source_change),
                (after, stack, max_turns, max_cost_usd),
            )| Task {
                title,
                targets,
                agent,
                base,
                base_branch,
                verify,
                priority,
                timeout,
                enqueued: enqueued.map(Timestamp::from_nanos),
                require_all,
                draft,
                labels,
                triggered_by,
                source_change,
                after,
                stack,
                max_turns,
                max_cost_usd: max_cost_usd.map(Usd),
                body,
            },
        )
}

proptest! {
    #[test]
    fn write_then_parse_is_exact(task in any_task()) {
        let text = write(&task);
        prop_assert_eq!(parse(&text), Ok(task));
    }

    #[test]
    fn parse_never_panics(text in any::<String>()) {
        let _ = parse(&text);
    }

    /// Front matter of any content between `+++` lines: parsed, or rejected
    /// with a problem that says what to fix; a target never leaves the tree.
    #[test]
    fn front_matter_of_any_shape(front in any::<String>(), body in ".{0,40}") {
        match parse(&format!("+++\n{front}\n+++\n{body}")) {
            Err(problem) => prop_assert!(!problem.to_string().trim().is_empty()),
            Ok(task) => {
                if validate(&task).is_ok() {
                    for t in &task.targets {
                        prop_assert!(check_target(t).is_ok());
                    }
                }
            }
        }
    }

    /// Front matter built from real field names with arbitrary values.
    #[test]
    fn known_fields_with_arbitrary_values(
        field in prop_oneof![Just("title"), Just("targets"), Just("priority"), Just("timeout"),
                             Just("base"), Just("agent"), Just("verify"), Just("labels"), Just("draft")],
        value in ".{0,30}"
    ) {
        let text = format!("+++\ntitle = \"t\"\ntargets = [\"a\"]\n{field} = {value}\n+++\n");
        let _ = parse(&text).map(|t| validate(&t));
    }

    #[test]
    fn slugify_makes_slugs(title in any::<String>()) {
        prop_assert!(is_slug(&slugify(&title)));
    }
}
