//! Reading a parent's id from a recorded object, and what AWS reports that needs parsing before
//! it is compared.
//!
//! A kind's own declared fields are its typed `Spec`; what it reads by name here is only a
//! parent's id in the fields the state recorded (a route's `api_id`), with an error that names
//! the field when it is missing. IAM returns policy
//! documents percent-encoded ([`parse_policy_document`]), so that a second plan after an apply
//! is empty; the Lambda kinds upload zips ([`zip_blob`]) and compare their hashes
//! ([`code_sha256`]).

use serde_json::Value;

use crate::resource::{Fields, ResourceError};

fn invalid(kind: &str, field: &str, expected: &str) -> ResourceError {
    ResourceError::Invalid(format!(
        "{kind}: field `{field}` must be {expected}; fix the stack declaration (or the recorded state)"
    ))
}

/// A required string field of recorded fields (a parent's id).
pub fn string<'a>(kind: &str, fields: &'a Fields, field: &str) -> Result<&'a str, ResourceError> {
    fields
        .get(field)
        .and_then(Value::as_str)
        .ok_or_else(|| invalid(kind, field, "a string"))
}

/// A declared string field a call needs but the spec may leave out (a zip's path, declared
/// and never read back).
pub fn required<'a>(
    kind: &str,
    field: &str,
    value: Option<&'a str>,
) -> Result<&'a str, ResourceError> {
    value.ok_or_else(|| invalid(kind, field, "a string"))
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
    fn accessors_name_the_bad_field() {
        let f = Fields::from_iter([("n".to_string(), json!(5)), ("s".to_string(), json!("x"))]);
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
