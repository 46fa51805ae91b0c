//! Input validation: identifiers and request bodies become the typed values of
//! [`crate::domain`] or a 400 message.
//!
//! Validation happens before any storage call, so bad input never costs a DynamoDB request and
//! never reaches the table. The reserved name `_metadata` is the playground's own row: accepting
//! it as a username would let a client overwrite the playground (a bug of the original).

use serde_json::{Map, Value};

use crate::domain::{
    MAX_COUNT, MAX_DISPLAY_NAME_CHARS, MAX_ID_LEN, METADATA_USERNAME, NewPlayground,
    PlaygroundPatch, Scores,
};
use crate::error::ApiError;

/// Whether `id` is 1 to 64 characters of `[A-Za-z0-9_-]`.
pub fn is_valid_id(id: &str) -> bool {
    (1..=MAX_ID_LEN).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// A playground id from the path or a body.
pub fn table_id(id: &str) -> Result<&str, ApiError> {
    if is_valid_id(id) {
        Ok(id)
    } else {
        Err(ApiError::bad_request(
            "Invalid tableId: use 1 to 64 characters of letters, digits, '_' or '-'",
        ))
    }
}

/// A username from the path: a valid id that is not the reserved `_metadata`.
pub fn username(name: &str) -> Result<&str, ApiError> {
    if name == METADATA_USERNAME {
        return Err(ApiError::bad_request(
            "Invalid username: '_metadata' is reserved",
        ));
    }
    if is_valid_id(name) {
        Ok(name)
    } else {
        Err(ApiError::bad_request(
            "Invalid username: use 1 to 64 characters of letters, digits, '_' or '-'",
        ))
    }
}

/// A `displayName`: at most 128 characters, none of them a control character (a newline or
/// an escape sequence in a name would reach every page and terminal that shows it).
pub fn display_name(name: &str) -> Result<String, ApiError> {
    if name.chars().count() > MAX_DISPLAY_NAME_CHARS {
        return Err(ApiError::bad_request(format!(
            "displayName is too long: at most {MAX_DISPLAY_NAME_CHARS} characters"
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(ApiError::bad_request(
            "displayName must not contain control characters",
        ));
    }
    Ok(name.to_string())
}

/// Reads `{"tableId", "displayName"?}`; `displayName` defaults to the id.
pub fn new_playground(body: &Map<String, Value>) -> Result<NewPlayground, ApiError> {
    let table_id = match body.get("tableId") {
        Some(Value::String(id)) => table_id(id)?.to_string(),
        Some(_) => return Err(ApiError::bad_request("tableId must be a string")),
        None => return Err(ApiError::bad_request("tableId is required")),
    };
    let display_name = match body.get("displayName") {
        None => table_id.clone(),
        Some(Value::String(name)) => display_name(name)?,
        Some(_) => return Err(ApiError::bad_request("displayName must be a string")),
    };
    Ok(NewPlayground {
        table_id,
        display_name,
    })
}

/// Reads `{"displayName"?, "isArchived"?}` with at least one of them.
pub fn playground_patch(body: &Map<String, Value>) -> Result<PlaygroundPatch, ApiError> {
    let display_name = match body.get("displayName") {
        None => None,
        Some(Value::String(name)) => Some(display_name(name)?),
        Some(_) => return Err(ApiError::bad_request("displayName must be a string")),
    };
    let is_archived = match body.get("isArchived") {
        None => None,
        Some(Value::Bool(flag)) => Some(*flag),
        Some(_) => return Err(ApiError::bad_request("isArchived must be true or false")),
    };
    if display_name.is_none() && is_archived.is_none() {
        return Err(ApiError::bad_request(
            "Nothing to update: send displayName (string) and/or isArchived (boolean)",
        ));
    }
    Ok(PlaygroundPatch {
        display_name,
        is_archived,
    })
}

/// Reads `{"submissionCount", "totalCount"}`, both required non-negative integers.
pub fn scores(body: &Map<String, Value>) -> Result<Scores, ApiError> {
    Ok(Scores {
        submission_count: count(body, "submissionCount")?,
        total_count: count(body, "totalCount")?,
    })
}

/// One count: a JSON number with no fractional part, or a string of digits (as the original
/// accepted), from 0 to [`MAX_COUNT`].
fn count(body: &Map<String, Value>, field: &'static str) -> Result<u64, ApiError> {
    let invalid = || {
        ApiError::bad_request(format!(
            "{field} must be a non-negative integer (at most {MAX_COUNT})"
        ))
    };
    let value = match body.get(field) {
        None | Some(Value::Null) => {
            return Err(ApiError::bad_request(format!("{field} is required")));
        }
        Some(Value::Number(n)) => {
            if let Some(n) = n.as_u64() {
                n
            } else {
                match n.as_f64() {
                    Some(f) if f >= 0.0 && f.fract() == 0.0 && f <= MAX_COUNT as f64 => f as u64,
                    _ => return Err(invalid()),
                }
            }
        }
        Some(Value::String(s)) => {
            let digits = s.trim();
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(invalid());
            }
            digits.parse::<u64>().map_err(|_| invalid())?
        }
        Some(_) => return Err(invalid()),
    };
    if value > MAX_COUNT {
        return Err(invalid());
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn ids_follow_the_contract() {
        assert!(is_valid_id("a"));
        assert!(is_valid_id("Abc_1-2"));
        assert!(is_valid_id(&"x".repeat(64)));
        assert!(!is_valid_id(""));
        assert!(!is_valid_id(&"x".repeat(65)));
        assert!(!is_valid_id("a b"));
        assert!(!is_valid_id("a/b"));
        assert!(!is_valid_id("é"));
        assert!(!is_valid_id("a.b"));
    }

    #[test]
    fn metadata_is_not_a_username() {
        assert!(username("_metadata").is_err());
        assert!(username("_metadata_").is_ok());
        assert!(table_id("_metadata").is_ok());
    }

    #[test]
    fn display_name_defaults_to_the_id() {
        let p = new_playground(&obj(json!({"tableId": "t1"}))).unwrap();
        assert_eq!(p.display_name, "t1");
        assert!(new_playground(&obj(json!({"tableId": "t1", "displayName": 3}))).is_err());
        assert!(new_playground(&obj(json!({"tableId": 5}))).is_err());
        assert!(new_playground(&obj(json!({}))).is_err());
        assert!(new_playground(&obj(json!({"tableId": "bad id"}))).is_err());
    }

    #[test]
    fn display_names_are_bounded_and_printable() {
        assert!(display_name(&"é".repeat(128)).is_ok());
        assert!(display_name("Ünïcode ✓ name").is_ok());
        for bad in [
            "x".repeat(129),
            "a\nb".into(),
            "tab\t".into(),
            "\u{7f}".into(),
        ] {
            assert!(display_name(&bad).is_err(), "{bad:?} accepted");
        }
        assert!(
            new_playground(&obj(
                json!({"tableId": "t", "displayName": "x".repeat(129)})
            ))
            .is_err()
        );
        assert!(playground_patch(&obj(json!({"displayName": "a\u{0}b"}))).is_err());
    }

    #[test]
    fn patch_needs_a_field_of_the_right_type() {
        assert!(playground_patch(&obj(json!({}))).is_err());
        assert!(playground_patch(&obj(json!({"isArchived": "yes"}))).is_err());
        assert!(playground_patch(&obj(json!({"displayName": null}))).is_err());
        let p = playground_patch(&obj(json!({"isArchived": true}))).unwrap();
        assert_eq!(p.is_archived, Some(true));
        assert_eq!(p.display_name, None);
    }

    #[test]
    fn counts_accept_integers_and_digit_strings_only() {
        let ok = |v: Value| scores(&obj(json!({"submissionCount": v, "totalCount": 1})));
        assert_eq!(ok(json!(3)).unwrap().submission_count, 3);
        assert_eq!(ok(json!(3.0)).unwrap().submission_count, 3);
        assert_eq!(ok(json!("42")).unwrap().submission_count, 42);
        assert_eq!(ok(json!(0)).unwrap().submission_count, 0);
        for bad in [
            json!(-1),
            json!(1.5),
            json!("1.5"),
            json!("-3"),
            json!(""),
            json!(true),
            json!(null),
            json!([1]),
            json!(1e300),
            json!("99999999999999999999999"),
        ] {
            assert!(ok(bad.clone()).is_err(), "{bad} accepted");
        }
        assert!(scores(&obj(json!({"submissionCount": 1}))).is_err());
    }
}
