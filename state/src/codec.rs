//! How a [`StateDocument`] is stored: JSON with a `checksum` of its own content.
//!
//! The checksum lives in the body (not in object metadata) so it survives copies, downloads and
//! restores by hand. It is the hex SHA-256 of the *canonical* serialisation of the stored object
//! without the `checksum` field: object keys sorted at every level, no whitespace. Canonical form
//! makes the checksum independent of how the file was pretty-printed, and only a change of
//! content (a hand edit, a truncated upload) makes it fail.
//!
//! Reading also handles the format version: a newer version is refused before anything else is
//! trusted (its checksum rules may differ); an older one is upgraded in memory by [`upgrade`].

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::document::{CURRENT_FORMAT_VERSION, StateDocument};
use crate::error::StateError;

/// Top-level field holding the checksum.
pub const CHECKSUM_FIELD: &str = "checksum";
/// Top-level field naming who wrote this version (`user@host`), shown in history.
pub const WRITTEN_BY_FIELD: &str = "written_by";
/// Top-level field naming the run that wrote this version ([`crate::run`]).
pub const WRITTEN_IN_FIELD: &str = "written_in";

/// Why stored bytes could not be turned into a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// Truncated, hand-edited, not JSON, or not a state document.
    Corrupt(String),
    /// Written by a newer tool with this format version.
    Newer(u32),
}

impl DecodeError {
    /// Why the bytes at `location` are corrupt, for the backend to add which version to restore;
    /// bytes of a newer format are refused here as such (no older version helps).
    pub fn corrupt_reason(self, location: String) -> Result<String, StateError> {
        match self {
            Self::Corrupt(reason) => Ok(reason),
            Self::Newer(found) => Err(StateError::UnsupportedFormat {
                location,
                found,
                supported: CURRENT_FORMAT_VERSION,
            }),
        }
    }
}

/// A verified, upgraded document and who wrote it.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    pub document: StateDocument,
    pub written_by: Option<String>,
    /// `None` for versions written before runs were recorded.
    pub written_in: Option<crate::run::Run>,
}

/// Serialises `document` for storage: pretty JSON with `written_by` and the checksum.
pub fn encode(document: &StateDocument, written_by: &str) -> Vec<u8> {
    let mut object = match serde_json::to_value(document) {
        Ok(Value::Object(object)) => object,
        // A struct of strings, numbers, maps and JSON values always serialises to an object.
        _ => Map::new(),
    };
    object.insert(
        WRITTEN_BY_FIELD.to_string(),
        Value::String(written_by.to_string()),
    );
    if let Ok(run) = serde_json::to_value(crate::run::current()) {
        object.insert(WRITTEN_IN_FIELD.to_string(), run);
    }
    let checksum = checksum(&Value::Object(object.clone()));
    object.insert(CHECKSUM_FIELD.to_string(), Value::String(checksum));
    let mut bytes = canonical_pretty(&Value::Object(object));
    bytes.push(b'\n');
    bytes
}

/// Reads stored bytes: format check, checksum check, upgrade, then the typed document.
pub fn decode(bytes: &[u8]) -> Result<Decoded, DecodeError> {
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| DecodeError::Corrupt(format!("not valid JSON: {e}")))?;
    let Value::Object(mut object) = value else {
        return Err(DecodeError::Corrupt("not a JSON object".to_string()));
    };
    let version = object
        .get("format_version")
        .and_then(Value::as_u64)
        .ok_or_else(|| DecodeError::Corrupt("no numeric format_version field".to_string()))?;
    let version = u32::try_from(version).unwrap_or(u32::MAX);
    if version > CURRENT_FORMAT_VERSION {
        return Err(DecodeError::Newer(version));
    }
    let stored = match object.remove(CHECKSUM_FIELD) {
        Some(Value::String(stored)) => stored,
        _ => return Err(DecodeError::Corrupt("no checksum field".to_string())),
    };
    let value = Value::Object(object);
    let computed = checksum(&value);
    if computed != stored {
        return Err(DecodeError::Corrupt(format!(
            "checksum mismatch: stored {stored}, content hashes to {computed}; the object was \
             edited by hand or truncated"
        )));
    }
    let Value::Object(mut object) = upgrade(value, version).map_err(DecodeError::Corrupt)? else {
        return Err(DecodeError::Corrupt("not a JSON object".to_string()));
    };
    let written_by = match object.remove(WRITTEN_BY_FIELD) {
        Some(Value::String(who)) => Some(who),
        _ => None,
    };
    let written_in = object
        .remove(WRITTEN_IN_FIELD)
        .and_then(|run| serde_json::from_value(run).ok());
    let document = serde_json::from_value(Value::Object(object))
        .map_err(|e| DecodeError::Corrupt(format!("not a state document: {e}")))?;
    Ok(Decoded {
        document,
        written_by,
        written_in,
    })
}

/// One step per past format: `UPGRADES[i]` turns format `i + 1` into format `i + 2`.
const UPGRADES: &[fn(Value) -> Value] = &[v1_to_v2];

/// Format 2 records the region and account the resources live in. A format-1 document did
/// not: they become null (unknown) and are filled in by the next write.
fn v1_to_v2(mut value: Value) -> Value {
    if let Value::Object(object) = &mut value {
        object.entry("region").or_insert(Value::Null);
        object.entry("account_id").or_insert(Value::Null);
    }
    value
}
const _: () = assert!(UPGRADES.len() + 1 == CURRENT_FORMAT_VERSION as usize);

/// Brings a verified document of format `from` up to [`CURRENT_FORMAT_VERSION`] in memory.
pub fn upgrade(mut value: Value, from: u32) -> Result<Value, String> {
    if from == 0 || from > CURRENT_FORMAT_VERSION {
        return Err(format!(
            "format_version {from} never existed (this build knows 1 to {CURRENT_FORMAT_VERSION})"
        ));
    }
    for step in UPGRADES.iter().skip(from as usize - 1) {
        value = step(value);
    }
    if let Value::Object(object) = &mut value {
        object.insert(
            "format_version".to_string(),
            Value::from(CURRENT_FORMAT_VERSION),
        );
    }
    Ok(value)
}

/// Hex SHA-256 of the canonical serialisation of `value`.
pub fn checksum(value: &Value) -> String {
    hex::encode(Sha256::digest(canonical(value)))
}

/// Compact JSON with object keys sorted at every level: the bytes the checksum covers.
pub fn canonical(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    write_canonical(value, &mut out, None, 0);
    out
}

/// Like [`canonical`], indented for people reading the object.
fn canonical_pretty(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    write_canonical(value, &mut out, Some(2), 0);
    out
}

fn write_canonical(value: &Value, out: &mut Vec<u8>, indent: Option<usize>, depth: usize) {
    let newline = |out: &mut Vec<u8>, depth: usize| {
        if let Some(width) = indent {
            out.push(b'\n');
            out.extend(std::iter::repeat_n(b' ', width * depth));
        }
    };
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push(b'{');
            for (i, (key, item)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                newline(out, depth + 1);
                write_scalar(&Value::String((*key).clone()), out);
                out.push(b':');
                if indent.is_some() {
                    out.push(b' ');
                }
                write_canonical(item, out, indent, depth + 1);
            }
            if !entries.is_empty() {
                newline(out, depth);
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                newline(out, depth + 1);
                write_canonical(item, out, indent, depth + 1);
            }
            if !items.is_empty() {
                newline(out, depth);
            }
            out.push(b']');
        }
        scalar => write_scalar(scalar, out),
    }
}

fn write_scalar(value: &Value, out: &mut Vec<u8>) {
    // Serialising a string, number, bool or null into a Vec cannot fail.
    if serde_json::to_writer(&mut *out, value).is_err() {
        out.extend_from_slice(b"null");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::{PendingAction, PendingOperation, ResourceState};

    fn sample() -> StateDocument {
        let mut document = StateDocument::new("playground", "dev");
        document.serial = 7;
        document.outputs.insert(
            "api_url".to_string(),
            Value::String("https://x.example".to_string()),
        );
        document.resources.insert(
            "lambda_function.api".to_string(),
            ResourceState {
                address: "lambda_function.api".to_string(),
                kind: "lambda_function".to_string(),
                id: "playground-dev-api".to_string(),
                arn: Some("arn:aws:lambda:us-east-1:123456789012:function:x".to_string()),
                attributes: serde_json::json!({
                    "memory": 128, "ratio": 0.1, "tiny": 1e-7, "pi": std::f64::consts::PI,
                    "nested": {"z": [1, {"b": 2, "a": 1}], "a": null, "ü": "é\n\"q\""}
                }),
                depends_on: vec!["iam_role.lambda".to_string()],
            },
        );
        document.pending.push(PendingOperation {
            address: "dynamodb_table.main".to_string(),
            kind: "dynamodb_table".to_string(),
            action: PendingAction::Create,
            physical_name: "playground-dev".to_string(),
            started_at: "2026-01-01T00:00:00Z".to_string(),
        });
        document
    }

    #[test]
    fn encode_then_decode_gives_the_document_back() {
        let document = sample();
        let decoded = decode(&encode(&document, "ana@laptop")).expect("round trip");
        assert_eq!(decoded.document, document);
        assert_eq!(decoded.written_by.as_deref(), Some("ana@laptop"));
    }

    #[test]
    fn checksum_ignores_key_order_and_whitespace() {
        let a: Value = serde_json::from_str(r#"{"b": 1, "a": {"y": [1, 2], "x": "s"}}"#).unwrap();
        let b: Value = serde_json::from_str(r#"{"a":{"x":"s","y":[1,2]},"b":1}"#).unwrap();
        assert_eq!(checksum(&a), checksum(&b));
        assert_eq!(canonical(&a), br#"{"a":{"x":"s","y":[1,2]},"b":1}"#);
    }

    #[test]
    fn reformatted_object_still_verifies() {
        let bytes = encode(&sample(), "ana@laptop");
        let value: Value = serde_json::from_slice(&bytes).unwrap();
        let compact = serde_json::to_vec(&value).unwrap();
        assert!(decode(&compact).is_ok());
    }

    #[test]
    fn an_edited_value_is_corrupt() {
        let bytes = encode(&sample(), "ana@laptop");
        let text = String::from_utf8(bytes).unwrap();
        let edited = text.replace("playground-dev-api", "playground-dev-apx");
        assert_ne!(text, edited);
        match decode(edited.as_bytes()) {
            Err(DecodeError::Corrupt(reason)) => assert!(reason.contains("checksum mismatch")),
            other => panic!("expected corrupt, got {other:?}"),
        }
    }

    #[test]
    fn a_truncated_object_is_corrupt() {
        let bytes = encode(&sample(), "ana@laptop");
        let cut = &bytes[..bytes.len() / 2];
        assert!(
            matches!(decode(cut), Err(DecodeError::Corrupt(r)) if r.contains("not valid JSON"))
        );
    }

    #[test]
    fn a_missing_checksum_is_corrupt() {
        let mut value = serde_json::to_value(sample()).unwrap();
        value.as_object_mut().unwrap().remove(CHECKSUM_FIELD);
        let bytes = serde_json::to_vec(&value).unwrap();
        assert!(
            matches!(decode(&bytes), Err(DecodeError::Corrupt(r)) if r.contains("no checksum"))
        );
    }

    #[test]
    fn a_newer_format_is_refused_before_the_checksum_is_looked_at() {
        let bytes = br#"{"format_version": 99, "whatever": true}"#;
        assert_eq!(decode(bytes), Err(DecodeError::Newer(99)));
    }

    #[test]
    fn upgrade_keeps_a_current_document_and_refuses_version_zero() {
        let value =
            serde_json::json!({"format_version": 2, "region": "eu-west-1", "account_id": "1"});
        assert_eq!(upgrade(value.clone(), 2), Ok(value.clone()));
        assert!(upgrade(value, 0).is_err());
    }

    #[test]
    fn a_format_1_document_is_upgraded_with_an_unknown_region_and_account() {
        let mut value = serde_json::to_value(sample()).unwrap();
        let object = value.as_object_mut().unwrap();
        object.remove("region");
        object.remove("account_id");
        object.insert("format_version".into(), Value::from(1));
        let stored = serde_json::to_vec(&value).unwrap();
        let bytes = encode_value(serde_json::from_slice(&stored).unwrap(), "old@tool");
        let decoded = decode(&bytes).expect("a format-1 document still reads");
        assert_eq!(decoded.document.format_version, CURRENT_FORMAT_VERSION);
        assert_eq!(decoded.document.region, None);
        assert_eq!(decoded.document.account_id, None);
        assert_eq!(decoded.document.resources, sample().resources);
    }

    /// Encodes a raw JSON object the way [`encode`] does (for documents of older formats).
    fn encode_value(mut object: Map<String, Value>, written_by: &str) -> Vec<u8> {
        object.insert(WRITTEN_BY_FIELD.into(), Value::String(written_by.into()));
        let sum = checksum(&Value::Object(object.clone()));
        object.insert(CHECKSUM_FIELD.into(), Value::String(sum));
        serde_json::to_vec(&object).unwrap()
    }

    #[test]
    fn format_version_zero_is_corrupt() {
        let mut document = sample();
        document.format_version = 0;
        let bytes = encode(&document, "x");
        assert!(
            matches!(decode(&bytes), Err(DecodeError::Corrupt(r)) if r.contains("never existed"))
        );
    }
}
