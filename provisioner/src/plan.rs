//! The plan as data: what will change, per resource and per field, printable as text (like
//! Terraform's) and serialisable as JSON (for `--json` and saved plan files).
//!
//! A saved plan is applied exactly, so it carries what it was computed from: the state's
//! lineage and serial (the state must not have moved since) and a hash of the resolved stack
//! and its desired resources (the stack must not have changed since).

use std::fmt::{self, Write as _};
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::resource::{Desired, FieldChange};

mod drift;
pub mod json;
mod nested;

/// Version of the saved-plan format; a plan file of another version is refused.
pub const PLAN_FORMAT_VERSION: u32 = 1;

/// What happens to one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Create,
    Update,
    Replace,
    Delete,
}

/// One resource's change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceChange {
    pub address: String,
    pub kind: String,
    pub action: Action,
    /// Physical name (to create) or id (to delete).
    pub name: String,
    /// Fields that differ (for creates: every declared field).
    pub fields: Vec<FieldChange>,
    /// Why, when it is not obvious (a resource deleted outside the provisioner).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// For a replacement: the new object is created first and the old one deleted once nothing
    /// uses it (the two can coexist); otherwise the old one goes first.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub create_before_destroy: bool,
}

/// A whole plan for one environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub format_version: u32,
    pub environment: String,
    /// SHA-256 of the resolved stack and its desired resources.
    pub stack_hash: String,
    /// The state the plan was computed from (`None` before the first apply).
    pub state_lineage: Option<String>,
    pub state_serial: Option<u64>,
    /// True for a destroy plan.
    pub destroy: bool,
    /// Computed with `--allow-data-loss`: it may replace an object that holds data.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_data_loss: bool,
    /// Addresses whose replacement was asked for (`--replace`), replaced although nothing
    /// forces it; recorded so that applying the file asks for the same.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replace: Vec<String>,
    pub changes: Vec<ResourceChange>,
    /// The declaration the plan was computed from, references unresolved.
    pub desired: Vec<Desired>,
    /// What changed outside the provisioner since the last apply, for the text only: a saved
    /// plan is checked and applied by its changes, and `--json` keeps its shape.
    #[serde(skip)]
    pub drift: Vec<Drift>,
}

/// A resource whose fields differ from what the state recorded at the last apply.
#[derive(Debug, Clone, PartialEq)]
pub struct Drift {
    pub address: String,
    /// Physical name or id.
    pub name: String,
    /// Old: as recorded; new: as read now.
    pub fields: Vec<FieldChange>,
}

/// Counts in Terraform's sense: a replacement is one add and one destroy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Summary {
    pub add: usize,
    pub change: usize,
    pub destroy: usize,
}

impl Plan {
    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        for c in &self.changes {
            match c.action {
                Action::Create => s.add += 1,
                Action::Update => s.change += 1,
                Action::Replace => {
                    s.add += 1;
                    s.destroy += 1;
                }
                Action::Delete => s.destroy += 1,
            }
        }
        s
    }

    /// A plan with nothing to do, for an environment with no state at all.
    pub fn empty(environment: &str, destroy: bool) -> Self {
        Self {
            format_version: PLAN_FORMAT_VERSION,
            environment: environment.to_string(),
            stack_hash: String::new(),
            state_lineage: None,
            state_serial: None,
            destroy,
            allow_data_loss: false,
            replace: Vec::new(),
            changes: Vec::new(),
            desired: Vec::new(),
            drift: Vec::new(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// Whether `change` is a replacement only because `--replace` asked for it (or also).
    pub fn requested(&self, change: &ResourceChange) -> bool {
        change.action == Action::Replace && self.replace.contains(&change.address)
    }

    /// Writes the plan file (JSON).
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let text = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        std::fs::write(path, text + "\n")
    }

    /// Reads a plan file, refusing other format versions.
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the plan file {}: {e}", path.display()))?;
        let plan: Plan = serde_json::from_str(&text).map_err(|e| {
            format!(
                "{} is not a plan file written by `provisioner plan --out` ({e})",
                path.display()
            )
        })?;
        if plan.format_version != PLAN_FORMAT_VERSION {
            return Err(format!(
                "{} has plan format {}, this provisioner writes {}: re-run plan with this version",
                path.display(),
                plan.format_version,
                PLAN_FORMAT_VERSION
            ));
        }
        Ok(plan)
    }

    /// The plan as text, with ANSI colours when `color` is set.
    pub fn render(&self, color: bool) -> String {
        let paint = Paint { on: color };
        let mut out = String::new();
        drift::drift_section(&mut out, &self.drift, paint);
        if self.changes.is_empty() {
            let _ = writeln!(
                out,
                "No changes. The {} environment matches the stack.\n",
                self.environment
            );
        } else {
            let _ = writeln!(
                out,
                "The provisioner will perform these actions on the {} environment:\n",
                self.environment
            );
            for change in &self.changes {
                render_change(&mut out, change, self.requested(change), paint);
            }
        }
        let s = self.summary();
        let _ = writeln!(
            out,
            "{}",
            paint.bold(&format!(
                "Plan: {} to add, {} to change, {} to destroy.",
                s.add, s.change, s.destroy
            ))
        );
        out
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(false))
    }
}

fn render_change(out: &mut String, change: &ResourceChange, requested: bool, paint: Paint) {
    let (symbol, what, code) = match change.action {
        Action::Create => ("+", "will be created", GREEN),
        Action::Update => ("~", "will be updated in place", YELLOW),
        Action::Replace => ("-/+", "must be replaced", RED),
        Action::Delete => ("-", "will be destroyed", RED),
    };
    let _ = writeln!(
        out,
        "  {} {} ({}) {what}{}",
        paint.color(code, symbol),
        paint.bold(&change.address),
        change.name,
        if requested {
            " (replace requested)"
        } else {
            ""
        }
    );
    if let Some(reason) = &change.reason {
        let _ = writeln!(out, "      # {reason}");
    }
    if change.action == Action::Replace {
        let forcing: Vec<&str> = change
            .fields
            .iter()
            .filter(|f| f.forces_replacement)
            .map(|f| f.field.as_str())
            .collect();
        let order = if change.create_before_destroy {
            "create before destroy: the new one is created first, the old one deleted once nothing uses it"
        } else {
            "destroy before create: both cannot exist at once"
        };
        let forces = match forcing.len() {
            0 => String::new(),
            1 => format!("{} forces replacement; ", forcing[0]),
            _ => format!("{} force replacement; ", forcing.join(", ")),
        };
        let _ = writeln!(out, "      # {forces}{order}");
    }
    for field in &change.fields {
        match change.action {
            Action::Create => {
                let _ = writeln!(
                    out,
                    "      {} {} = {}",
                    paint.color(GREEN, "+"),
                    field.field,
                    show(field.new.as_ref())
                );
            }
            Action::Delete => {}
            Action::Update | Action::Replace => {
                let forces = if field.forces_replacement {
                    paint.color(RED, " # forces replacement")
                } else {
                    String::new()
                };
                nested::field_change(
                    out,
                    6,
                    &field.field,
                    field.old.as_ref(),
                    field.new.as_ref(),
                    &forces,
                    paint,
                );
            }
        }
    }
    out.push('\n');
}

/// A value as the plan shows it: compact JSON, `(known after apply)` for references.
pub fn show(value: Option<&Value>) -> String {
    match value {
        None => "(none)".to_string(),
        Some(v) if contains_reference(v) => "(known after apply)".to_string(),
        Some(v) => v.to_string(),
    }
}

/// True when `value` holds an unresolved `{"$ref": ...}` anywhere.
pub fn contains_reference(value: &Value) -> bool {
    match value {
        Value::Object(map) => map.contains_key("$ref") || map.values().any(contains_reference),
        Value::Array(items) => items.iter().any(contains_reference),
        _ => false,
    }
}

const GREEN: &str = "32";
const YELLOW: &str = "33";
const RED: &str = "31";

#[derive(Clone, Copy)]
struct Paint {
    on: bool,
}

impl Paint {
    fn color(self, code: &str, text: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    fn bold(self, text: &str) -> String {
        self.color("1", text)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn change(field: &str, old: Option<Value>, new: Option<Value>, forces: bool) -> FieldChange {
        FieldChange {
            field: field.into(),
            old,
            new,
            forces_replacement: forces,
        }
    }

    fn plan(changes: Vec<ResourceChange>) -> Plan {
        Plan {
            format_version: PLAN_FORMAT_VERSION,
            environment: "dev".into(),
            stack_hash: "h".into(),
            state_lineage: None,
            state_serial: None,
            destroy: false,
            allow_data_loss: false,
            replace: vec![],
            changes,
            desired: vec![],
            drift: vec![],
        }
    }

    #[test]
    fn renders_each_action_like_terraform() {
        let p = plan(vec![
            ResourceChange {
                address: "log_group.lambda".into(),
                kind: "log_group".into(),
                action: Action::Create,
                name: "/aws/lambda/x".into(),
                fields: vec![change("retention_in_days", None, Some(json!(14)), false)],
                reason: None,
                create_before_destroy: false,
            },
            ResourceChange {
                address: "lambda_function.api".into(),
                kind: "lambda_function".into(),
                action: Action::Update,
                name: "pg-dev-api".into(),
                fields: vec![change(
                    "memory_size",
                    Some(json!(256)),
                    Some(json!(512)),
                    false,
                )],
                reason: None,
                create_before_destroy: false,
            },
            ResourceChange {
                address: "apigw_stage.main".into(),
                kind: "apigw_stage".into(),
                action: Action::Replace,
                name: "dev".into(),
                fields: vec![change(
                    "api_id",
                    Some(json!("a1")),
                    Some(json!({"$ref": "apigw_api.http.id"})),
                    true,
                )],
                reason: None,
                create_before_destroy: false,
            },
            ResourceChange {
                address: "iam_role.old".into(),
                kind: "iam_role".into(),
                action: Action::Delete,
                name: "old".into(),
                fields: vec![],
                reason: None,
                create_before_destroy: false,
            },
        ]);
        let text = p.render(false);
        assert!(text.contains("  + log_group.lambda (/aws/lambda/x) will be created\n      + retention_in_days = 14\n"), "{text}");
        assert!(text.contains("  ~ lambda_function.api (pg-dev-api) will be updated in place\n      ~ memory_size: 256 -> 512\n"), "{text}");
        assert!(text.contains("  -/+ apigw_stage.main (dev) must be replaced\n      # api_id forces replacement; destroy before create: both cannot exist at once\n      ~ api_id: \"a1\" -> (known after apply) # forces replacement\n"), "{text}");
        assert!(
            text.contains("  - iam_role.old (old) will be destroyed\n"),
            "{text}"
        );
        assert!(
            text.ends_with("Plan: 2 to add, 1 to change, 2 to destroy.\n"),
            "{text}"
        );
        assert!(!text.contains('\x1b'));
        assert!(p.render(true).contains("\x1b[32m+\x1b[0m"));
    }

    #[test]
    fn an_empty_plan_says_so() {
        let text = plan(vec![]).render(false);
        assert!(text.starts_with("No changes."), "{text}");
        assert!(
            text.ends_with("Plan: 0 to add, 0 to change, 0 to destroy.\n"),
            "{text}"
        );
    }

    #[test]
    fn a_plan_survives_its_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.json");
        let p = plan(vec![]);
        p.save(&path).unwrap();
        assert_eq!(Plan::load(&path).unwrap(), p);
        std::fs::write(&path, "{}").unwrap();
        assert!(Plan::load(&path).unwrap_err().contains("not a plan file"));
    }
}
