//! The plan as `plan --json` and `show --json` print it: for programs that read plans (a CI
//! job's summary, a policy check), not for applying. Unlike the plan file it says which
//! version of the tool and of this document it is, counts the changes, and lists the values
//! known only after apply apart (`after_unknown`, as in Terraform's JSON plan) instead of the
//! internal `{"$ref": ...}` objects a plan file keeps to resolve them.

use serde::Serialize;
use serde_json::{Map, Value};

use super::{Action, Plan, ResourceChange};

/// `major.minor`: a reader written for 1.x reads any 1.y (new keys only); a change of meaning
/// or a removed key bumps the major part.
pub const JSON_FORMAT_VERSION: &str = "1.0";

/// The whole document.
#[derive(Debug, Serialize)]
pub struct PlanJson<'a> {
    pub format_version: &'static str,
    pub provisioner_version: &'static str,
    pub environment: &'a str,
    pub destroy: bool,
    pub allow_data_loss: bool,
    pub state_lineage: Option<&'a str>,
    pub state_serial: Option<u64>,
    pub stack_hash: &'a str,
    pub summary: Counts,
    pub changes: Vec<ChangeJson<'a>>,
}

/// The text's last line as numbers, and how many of its adds and destroys are replacements.
#[derive(Debug, Serialize)]
pub struct Counts {
    pub add: usize,
    pub change: usize,
    pub destroy: usize,
    pub replace: usize,
}

/// One resource's change.
#[derive(Debug, Serialize)]
pub struct ChangeJson<'a> {
    pub address: &'a str,
    pub kind: &'a str,
    pub action: Action,
    pub name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'a str>,
    pub create_before_destroy: bool,
    /// A replacement `--replace` asked for.
    pub replace_requested: bool,
    pub fields: Vec<FieldJson<'a>>,
    /// Per field whose new value is known only after apply: `true` for the whole value, or
    /// an object (array) marking the unknown parts of a map (list). Absent fields are known.
    pub after_unknown: Map<String, Value>,
}

/// One field's change; `new` has `null` where `after_unknown` marks a value.
#[derive(Debug, Serialize)]
pub struct FieldJson<'a> {
    pub field: &'a str,
    pub old: Option<&'a Value>,
    pub new: Option<Value>,
    pub forces_replacement: bool,
}

impl Plan {
    /// The plan as `--json` prints it.
    pub fn to_json(&self) -> PlanJson<'_> {
        let s = self.summary();
        PlanJson {
            format_version: JSON_FORMAT_VERSION,
            provisioner_version: env!("CARGO_PKG_VERSION"),
            environment: &self.environment,
            destroy: self.destroy,
            allow_data_loss: self.allow_data_loss,
            state_lineage: self.state_lineage.as_deref(),
            state_serial: self.state_serial,
            stack_hash: &self.stack_hash,
            summary: Counts {
                add: s.add,
                change: s.change,
                destroy: s.destroy,
                replace: self
                    .changes
                    .iter()
                    .filter(|c| c.action == Action::Replace)
                    .count(),
            },
            changes: self
                .changes
                .iter()
                .map(|c| change_json(c, self.requested(c)))
                .collect(),
        }
    }
}

fn change_json(change: &ResourceChange, replace_requested: bool) -> ChangeJson<'_> {
    let mut after_unknown = Map::new();
    let fields = change
        .fields
        .iter()
        .map(|f| {
            let new = f.new.as_ref().map(|value| {
                let (known, unknown) = split_unknown(value);
                if let Some(unknown) = unknown {
                    after_unknown.insert(f.field.clone(), unknown);
                }
                known
            });
            FieldJson {
                field: &f.field,
                old: f.old.as_ref(),
                new,
                forces_replacement: f.forces_replacement,
            }
        })
        .collect();
    ChangeJson {
        address: &change.address,
        kind: &change.kind,
        action: change.action,
        name: &change.name,
        reason: change.reason.as_deref(),
        create_before_destroy: change.create_before_destroy,
        replace_requested,
        fields,
        after_unknown,
    }
}

/// `value` with every reference replaced by `null`, and where the references were: `true` for
/// the whole value, an object of the unknown keys of a map, an array of `false` (known) or the
/// unknown parts of each element of a list; `None` when all of it is known.
fn split_unknown(value: &Value) -> (Value, Option<Value>) {
    match value {
        Value::Object(map) if map.contains_key("$ref") => (Value::Null, Some(Value::Bool(true))),
        Value::Object(map) => {
            let (mut known, mut unknown) = (Map::new(), Map::new());
            for (key, item) in map {
                let (k, u) = split_unknown(item);
                known.insert(key.clone(), k);
                if let Some(u) = u {
                    unknown.insert(key.clone(), u);
                }
            }
            let unknown = (!unknown.is_empty()).then_some(Value::Object(unknown));
            (Value::Object(known), unknown)
        }
        Value::Array(items) => {
            let (known, unknown): (Vec<Value>, Vec<Option<Value>>) =
                items.iter().map(split_unknown).unzip();
            let any = unknown.iter().any(Option::is_some);
            let marks = unknown
                .into_iter()
                .map(|u| u.unwrap_or(Value::Bool(false)))
                .collect();
            (Value::Array(known), any.then_some(Value::Array(marks)))
        }
        other => (other.clone(), None),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn references_become_null_and_are_listed_apart() {
        let value = json!({"TABLE_NAME": {"$ref": "dynamodb_table.playground.name"},
                           "CORS": "*", "layers": ["a", {"$ref": "x.arn"}]});
        let (known, unknown) = split_unknown(&value);
        assert_eq!(
            known,
            json!({"TABLE_NAME": null, "CORS": "*", "layers": ["a", null]})
        );
        assert_eq!(
            unknown,
            Some(json!({"TABLE_NAME": true, "layers": [false, true]}))
        );
        assert_eq!(
            split_unknown(&json!({"$ref": "r.arn"})).1,
            Some(json!(true))
        );
        assert_eq!(split_unknown(&json!([1, {"a": 2}])).1, None);
    }
}
