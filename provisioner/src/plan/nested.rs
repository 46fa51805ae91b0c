//! A changed field whose value is an object or a list (tags, a policy document, indexes, a CORS
//! map), shown like Terraform: one key or element per line, `+` added, `-` removed, `~` changed,
//! and what did not change collapsed into one `# (N unchanged ... hidden)` line. Two long JSON
//! lines `old -> new` hide the one action added to a policy; this shows just that action.
//!
//! Text only: the plan's data (and so `--json` and saved plans) keeps the whole old and new values.

use std::fmt::Write as _;

use serde_json::{Map, Value};

use super::{GREEN, Paint, RED, YELLOW, show};

/// Writes `field`'s change from `old` to `new` at `indent` spaces, `suffix` after its first line
/// (`# forces replacement`). Scalars, a composite whose kind changes (a string becoming a list),
/// and a value that appears or disappears stay on one line `old -> new`.
pub(super) fn field_change(
    out: &mut String,
    indent: usize,
    field: &str,
    old: Option<&Value>,
    new: Option<&Value>,
    suffix: &str,
    paint: Paint,
) {
    let pad = " ".repeat(indent);
    let tilde = paint.color(YELLOW, "~");
    match (old, new) {
        (Some(o), Some(n)) if same_composite(o, n) => {
            let _ = writeln!(out, "{pad}{tilde} {field}: {}{suffix}", open(n));
            body(out, indent + 4, o, n, paint);
            let _ = writeln!(out, "{pad}  {}", close(n));
        }
        _ => {
            let _ = writeln!(
                out,
                "{pad}{tilde} {field}: {} -> {}{suffix}",
                show(old),
                show(new)
            );
        }
    }
}

/// True when both are objects or both lists (and neither is a reference, shown as a scalar).
fn same_composite(old: &Value, new: &Value) -> bool {
    !is_reference(old)
        && !is_reference(new)
        && matches!(
            (old, new),
            (Value::Object(_), Value::Object(_)) | (Value::Array(_), Value::Array(_))
        )
}

/// A `{"$ref": ...}` value: known after apply, so shown as one scalar rather than a map.
fn is_reference(value: &Value) -> bool {
    matches!(value, Value::Object(map) if map.contains_key("$ref"))
}

fn open(value: &Value) -> &'static str {
    if value.is_array() { "[" } else { "{" }
}

fn close(value: &Value) -> &'static str {
    if value.is_array() { "]" } else { "}" }
}

/// The lines between the brackets of a changed object or list.
fn body(out: &mut String, indent: usize, old: &Value, new: &Value, paint: Paint) {
    match (old, new) {
        (Value::Object(o), Value::Object(n)) => object_body(out, indent, o, n, paint),
        (Value::Array(o), Value::Array(n)) => list_body(out, indent, o, n, paint),
        _ => unreachable!("body is only called on two objects or two lists"),
    }
}

fn object_body(
    out: &mut String,
    indent: usize,
    old: &Map<String, Value>,
    new: &Map<String, Value>,
    paint: Paint,
) {
    let mut unchanged = 0;
    // The declaration's order (the maps keep insertion order), then keys only in the old value.
    let keys = new
        .keys()
        .chain(old.keys().filter(|k| !new.contains_key(*k)));
    for key in keys {
        let label = key_label(key);
        match (old.get(key), new.get(key)) {
            (Some(o), Some(n)) if o == n => unchanged += 1,
            (Some(o), Some(n)) => field_change(out, indent, &label, Some(o), Some(n), "", paint),
            (Some(o), None) => whole(out, indent, Some(&label), o, Sign::Removed, paint),
            (None, Some(n)) => whole(out, indent, Some(&label), n, Sign::Added, paint),
            (None, None) => {}
        }
    }
    hidden(out, indent, unchanged, "attribute");
}

/// Lists compare as sets: most list fields (indexes, allowed origins, a statement's actions)
/// are normalised sorted by their kind, so a position says nothing; an element only in the old
/// list is removed, one only in the new list added. Two lists of the same length whose elements
/// differ pairwise as objects (a policy's statements) are compared element by element instead,
/// so that one action added to a statement shows as that action, not as the statement replaced.
fn list_body(out: &mut String, indent: usize, old: &[Value], new: &[Value], paint: Paint) {
    let pairwise = old.len() == new.len()
        && old
            .iter()
            .zip(new)
            .all(|(o, n)| o == n || (o.is_object() && same_composite(o, n)));
    let mut unchanged = 0;
    if pairwise {
        for (o, n) in old.iter().zip(new) {
            if o == n {
                unchanged += 1;
                continue;
            }
            let pad = " ".repeat(indent);
            let _ = writeln!(out, "{pad}{} {}", paint.color(YELLOW, "~"), open(n));
            body(out, indent + 4, o, n, paint);
            let _ = writeln!(out, "{pad}  {},", close(n));
        }
    } else {
        for o in old {
            if new.contains(o) {
                unchanged += 1;
            } else {
                whole(out, indent, None, o, Sign::Removed, paint);
            }
        }
        for n in new.iter().filter(|n| !old.contains(n)) {
            whole(out, indent, None, n, Sign::Added, paint);
        }
    }
    hidden(out, indent, unchanged, "element");
}

#[derive(Clone, Copy)]
enum Sign {
    Added,
    Removed,
}

/// A value added or removed as a whole; a composite is spelled out one line per key or
/// element, each marked, so that a removed index shows its name and keys rather than one
/// long JSON line.
fn whole(
    out: &mut String,
    indent: usize,
    label: Option<&str>,
    value: &Value,
    sign: Sign,
    paint: Paint,
) {
    let mark = match sign {
        Sign::Added => paint.color(GREEN, "+"),
        Sign::Removed => paint.color(RED, "-"),
    };
    let pad = " ".repeat(indent);
    let prefix = label.map(|l| format!("{l} = ")).unwrap_or_default();
    let comma = if label.is_none() { "," } else { "" };
    let children: Vec<(Option<String>, &Value)> = match value {
        Value::Object(map) if !is_reference(value) && !map.is_empty() => {
            map.iter().map(|(k, v)| (Some(key_label(k)), v)).collect()
        }
        Value::Array(items) if !items.is_empty() => items.iter().map(|v| (None, v)).collect(),
        _ => {
            let _ = writeln!(out, "{pad}{mark} {prefix}{}{comma}", show(Some(value)));
            return;
        }
    };
    let _ = writeln!(out, "{pad}{mark} {prefix}{}", open(value));
    for (key, child) in children {
        whole(out, indent + 4, key.as_deref(), child, sign, paint);
    }
    let _ = writeln!(out, "{pad}  {}{comma}", close(value));
}

/// Terraform's line for what it does not show: "(3 unchanged attributes hidden)".
fn hidden(out: &mut String, indent: usize, count: usize, noun: &str) {
    if count > 0 {
        let plural = if count == 1 { "" } else { "s" };
        let pad = " ".repeat(indent + 2);
        let _ = writeln!(out, "{pad}# ({count} unchanged {noun}{plural} hidden)");
    }
}

/// A key as written: bare when it reads as a word (`Action`, `aws:SourceArn`), quoted when it
/// has spaces or other characters that would make the line ambiguous.
fn key_label(key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.:/".contains(c));
    if bare {
        key.to_string()
    } else {
        Value::String(key.to_string()).to_string()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn render(field: &str, old: Value, new: Value) -> String {
        let mut out = String::new();
        field_change(
            &mut out,
            6,
            field,
            Some(&old),
            Some(&new),
            "",
            Paint { on: false },
        );
        out
    }

    #[test]
    fn a_policy_with_one_action_added_shows_that_action() {
        let statement = |actions: Value| {
            json!({"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow",
                "Action": actions,
                "Resource": "arn:aws:dynamodb:us-east-1:000000000000:table/pg-dev-models",
            }]})
        };
        let text = render(
            "policy",
            statement(json!(["dynamodb:GetItem", "dynamodb:Query"])),
            statement(json!([
                "dynamodb:GetItem",
                "dynamodb:PutItem",
                "dynamodb:Query"
            ])),
        );
        assert_eq!(
            text,
            "      ~ policy: {
          ~ Statement: [
              ~ {
                  ~ Action: [
                      + \"dynamodb:PutItem\",
                        # (2 unchanged elements hidden)
                    ]
                    # (2 unchanged attributes hidden)
                },
            ]
            # (1 unchanged attribute hidden)
        }
"
        );
    }

    #[test]
    fn tags_with_one_changed_hide_the_three_unchanged() {
        let text = render(
            "tags",
            json!({"app": "pg", "env": "dev", "owner": "ml", "team": "a"}),
            json!({"app": "pg", "env": "dev", "owner": "ml", "team": "b"}),
        );
        assert_eq!(
            text,
            "      ~ tags: {
          ~ team: \"a\" -> \"b\"
            # (3 unchanged attributes hidden)
        }
"
        );
    }

    #[test]
    fn a_removed_index_is_spelled_out_and_the_others_hidden() {
        let index = |name: &str| json!({"name": name, "hash_key": name, "projection": "ALL"});
        let text = render(
            "global_secondary_indexes",
            json!([index("by-owner"), index("by-tag")]),
            json!([index("by-owner")]),
        );
        assert_eq!(
            text,
            "      ~ global_secondary_indexes: [
          - {
              - name = \"by-tag\"
              - hash_key = \"by-tag\"
              - projection = \"ALL\"
            },
            # (1 unchanged element hidden)
        ]
"
        );
    }

    #[test]
    fn scalars_kind_changes_and_references_stay_on_one_line() {
        assert_eq!(
            render("memory_size", json!(256), json!(512)),
            "      ~ memory_size: 256 -> 512\n"
        );
        assert_eq!(
            render("Action", json!("s3:GetObject"), json!(["s3:GetObject"])),
            "      ~ Action: \"s3:GetObject\" -> [\"s3:GetObject\"]\n"
        );
        assert_eq!(
            render("role", json!({"a": 1}), json!({"$ref": "iam_role.x.arn"})),
            "      ~ role: {\"a\":1} -> (known after apply)\n"
        );
        let env = render(
            "environment",
            json!({"TABLE": "t", "URL": "old"}),
            json!({"TABLE": "t", "URL": {"$ref": "apigw_api.http.endpoint"}}),
        );
        assert!(
            env.contains("~ URL: \"old\" -> (known after apply)\n"),
            "{env}"
        );
    }

    #[test]
    fn added_keys_and_odd_key_names() {
        let text = render(
            "cors",
            json!({"max_age": 0}),
            json!({"max_age": 0, "allow origins": ["*"]}),
        );
        assert!(
            text.contains(
                "          + \"allow origins\" = [\n              + \"*\",\n            ]\n"
            ),
            "{text}"
        );
    }
}
