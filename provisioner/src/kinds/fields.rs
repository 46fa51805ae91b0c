//! Reading declared fields, and what AWS reports that needs parsing before it is compared.
//!
//! Declarations are plain JSON (see [`crate::kind::Fields`]); a kind written by hand (the API
//! Gateway kinds) reads the values it needs through these accessors, which say exactly which
//! field is missing or mistyped; a typed kind has its `Spec` instead. IAM returns policy
//! documents percent-encoded ([`parse_policy_document`]), so that a second plan after an apply
//! is empty; the Lambda kinds upload zips ([`zip_blob`]) and compare their hashes
//! ([`code_sha256`]).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::kind::{Fields, ResourceError};

fn invalid(kind: &str, field: &str, expected: &str) -> ResourceError {
    ResourceError::Invalid(format!(
        "{kind}: field `{field}` must be {expected}; fix the stack declaration (or the recorded state)"
    ))
}

/// A required string field.
pub fn string<'a>(kind: &str, fields: &'a Fields, field: &str) -> Result<&'a str, ResourceError> {
    fields
        .get(field)
        .and_then(Value::as_str)
        .ok_or_else(|| invalid(kind, field, "a string"))
}

/// A required boolean field.
pub fn boolean(kind: &str, fields: &Fields, field: &str) -> Result<bool, ResourceError> {
    fields
        .get(field)
        .and_then(Value::as_bool)
        .ok_or_else(|| invalid(kind, field, "true or false"))
}

/// A required integer field.
pub fn integer(kind: &str, fields: &Fields, field: &str) -> Result<i64, ResourceError> {
    fields
        .get(field)
        .and_then(Value::as_i64)
        .ok_or_else(|| invalid(kind, field, "an integer"))
}

/// An `i32` field (memory sizes, timeouts, retention days).
pub fn int32(kind: &str, fields: &Fields, field: &str) -> Result<i32, ResourceError> {
    i32::try_from(integer(kind, fields, field)?)
        .map_err(|_| invalid(kind, field, "an integer that fits in 32 bits"))
}

/// A declared policy document (a JSON object), serialised for an AWS call.
pub fn policy_json(kind: &str, field: &str, document: &Value) -> Result<String, ResourceError> {
    match document {
        Value::Object(_) => Ok(document.to_string()),
        _ => Err(invalid(kind, field, "a JSON object (a policy document)")),
    }
}

/// Parses a policy document as IAM returns it: percent-encoded JSON (or, from some services,
/// plain JSON). Compared parsed, so whitespace and key order never show as a change.
pub fn parse_policy_document(kind: &str, document: &str) -> Result<Value, ResourceError> {
    let trimmed = document.trim_start();
    let decoded = if trimmed.starts_with('{') {
        std::borrow::Cow::Borrowed(document)
    } else {
        percent_encoding::percent_decode_str(document)
            .decode_utf8()
            .map_err(|e| {
                ResourceError::Invalid(format!(
                    "{kind}: AWS returned a policy that is not UTF-8: {e}"
                ))
            })?
    };
    serde_json::from_str(&decoded).map_err(|e| {
        ResourceError::Invalid(format!(
            "{kind}: AWS returned a policy that is not JSON: {e}"
        ))
    })
}

/// The tag keys to set and the tag keys to remove to go from `current` to `desired`.
pub fn tag_changes(
    current: &BTreeMap<String, String>,
    desired: &BTreeMap<String, String>,
) -> (BTreeMap<String, String>, Vec<String>) {
    let to_set = desired
        .iter()
        .filter(|(k, v)| current.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let to_remove = current
        .keys()
        .filter(|k| !desired.contains_key(*k))
        .cloned()
        .collect();
    (to_set, to_remove)
}

/// Builds a [`Fields`] map from `(name, value)` pairs.
pub fn fields<const N: usize>(pairs: [(&str, Value); N]) -> Fields {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

/// The zip at `path` as an upload body, with the path in the error. Read afresh by each
/// attempt of an upload: keeping one copy for the whole retry loop and cloning it per attempt
/// put two extra copies of the code in memory, the largest part of apply's peak.
pub async fn zip_blob(path: &str) -> Result<aws_sdk_lambda::primitives::Blob, ResourceError> {
    tokio::fs::read(path)
        .await
        .map(aws_sdk_lambda::primitives::Blob::new)
        .map_err(|source| ResourceError::Io {
            path: path.to_string(),
            source,
        })
}

/// `base64(sha256(bytes))`, the form Lambda reports as `CodeSha256`.
pub fn code_sha256(bytes: &[u8]) -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn percent_encoded_and_plain_policies_parse_to_the_same_value() {
        let plain = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole"}]}"#;
        let encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22sts%3AAssumeRole%22%7D%5D%7D";
        let a = parse_policy_document("k", plain).ok();
        let b = parse_policy_document("k", encoded).ok();
        assert!(a.is_some());
        assert_eq!(a, b);
        assert!(parse_policy_document("k", "%7Bnot json").is_err());
    }

    #[test]
    fn tag_changes_sets_changed_and_removes_dropped() {
        let current = BTreeMap::from([
            ("a".to_string(), "1".to_string()),
            ("b".to_string(), "2".to_string()),
        ]);
        let desired = BTreeMap::from([
            ("a".to_string(), "1".to_string()),
            ("c".to_string(), "3".to_string()),
        ]);
        let (set, remove) = tag_changes(&current, &desired);
        assert_eq!(set, BTreeMap::from([("c".to_string(), "3".to_string())]));
        assert_eq!(remove, vec!["b".to_string()]);
    }

    #[test]
    fn accessors_name_the_bad_field() {
        let f = fields([("n", json!(5)), ("s", json!("x"))]);
        assert_eq!(integer("k", &f, "n").ok(), Some(5));
        assert_eq!(string("k", &f, "s").ok(), Some("x"));
        let err = string("kind", &f, "n")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("`n`") && err.contains("kind"), "{err}");
    }

    #[test]
    fn code_sha256_is_base64_of_sha256() {
        assert_eq!(
            code_sha256(b""),
            "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
        );
    }
}
