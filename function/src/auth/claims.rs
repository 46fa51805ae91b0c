//! Verified claims to an [`Identity`]: the owner key (issuer and subject), the name that may
//! write a user row, and whether the caller is an admin.
//!
//! Claims arrive two ways: as JSON values from a token `function serve` verified, and as
//! strings from API Gateway, which stringifies every claim and flattens an array claim such as
//! `cognito:groups` into `[admin editors]`. Both are read here, so the two paths cannot
//! disagree on who someone is.

use serde_json::{Map, Value};

use crate::config::ClaimNames;

/// A caller whose token was verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The token's `iss`.
    pub issuer: String,
    /// The token's `sub`: with the issuer, the owner recorded on a playground.
    pub subject: String,
    /// The value of the configured username claim, compared with `{username}`.
    pub username: Option<String>,
    /// Whether the caller is in the configured admin group.
    pub admin: bool,
}

impl Identity {
    /// From claims that are all strings (API Gateway's request context); `None` without
    /// a non-empty `iss` and `sub`.
    pub fn from_string_claims<'a>(
        claim: impl Fn(&str) -> Option<&'a str>,
        names: &ClaimNames,
    ) -> Option<Self> {
        let issuer = claim("iss").filter(|v| !v.is_empty())?;
        let subject = claim("sub").filter(|v| !v.is_empty())?;
        let admin = match (&names.admin_group, claim(&names.groups)) {
            (Some(admin), Some(groups)) => flattened_groups_contain(groups, admin),
            _ => false,
        };
        Some(Self {
            issuer: issuer.to_string(),
            subject: subject.to_string(),
            username: claim(&names.username)
                .filter(|v| !v.is_empty())
                .map(str::to_string),
            admin,
        })
    }

    /// From a verified token's JSON claims; `None` without a non-empty string `iss` and `sub`.
    pub fn from_json_claims(claims: &Map<String, Value>, names: &ClaimNames) -> Option<Self> {
        let text = |name: &str| match claims.get(name)? {
            Value::String(s) if !s.is_empty() => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        };
        let admin = match (&names.admin_group, claims.get(&names.groups)) {
            (Some(admin), Some(Value::Array(groups))) => {
                groups.iter().any(|g| g.as_str() == Some(admin.as_str()))
            }
            (Some(admin), Some(Value::String(groups))) => flattened_groups_contain(groups, admin),
            _ => false,
        };
        Some(Self {
            issuer: text("iss")?,
            subject: text("sub")?,
            username: text(&names.username),
            admin,
        })
    }

    /// Whether this caller is the one `username` names.
    pub fn is_user(&self, username: &str) -> bool {
        self.username.as_deref() == Some(username)
    }
}

/// Whether a groups claim as a string holds `group`: a JSON array (`["a","b"]`), API
/// Gateway's flattening (`[a b]`), or a plain list (`a b`, `a,b`, `a`).
pub fn flattened_groups_contain(raw: &str, group: &str) -> bool {
    let raw = raw.trim();
    if raw.starts_with('[')
        && let Ok(Value::Array(items)) = serde_json::from_str::<Value>(raw)
    {
        return items.iter().any(|g| g.as_str() == Some(group));
    }
    let inner = raw
        .strip_prefix('[')
        .and_then(|r| r.strip_suffix(']'))
        .unwrap_or(raw);
    inner
        .split(|c: char| c.is_whitespace() || c == ',')
        .any(|g| !g.is_empty() && g == group)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::HashMap;

    fn names() -> ClaimNames {
        ClaimNames {
            admin_group: Some("admin".into()),
            ..ClaimNames::default()
        }
    }

    #[test]
    fn groups_claims_are_read_in_every_shape() {
        for raw in [
            "[admin editors]",
            "[editors admin]",
            r#"["editors","admin"]"#,
            "admin",
            "editors,admin",
            " [admin] ",
        ] {
            assert!(flattened_groups_contain(raw, "admin"), "{raw}");
        }
        for raw in ["[administrators]", "", "[]", r#"["adminx"]"#, "[editors]"] {
            assert!(!flattened_groups_contain(raw, "admin"), "{raw}");
        }
    }

    #[test]
    fn string_claims_need_issuer_and_subject() {
        let claims: HashMap<&str, &str> = HashMap::from([
            ("iss", "https://issuer.example"),
            ("sub", "u-1"),
            ("cognito:groups", "[admin]"),
        ]);
        let id = Identity::from_string_claims(|n| claims.get(n).copied(), &names()).unwrap();
        assert_eq!(id.subject, "u-1");
        assert!(id.admin);
        assert!(id.is_user("u-1"));
        let no_sub: HashMap<&str, &str> = HashMap::from([("iss", "i")]);
        assert!(Identity::from_string_claims(|n| no_sub.get(n).copied(), &names()).is_none());
    }

    #[test]
    fn json_claims_read_arrays_and_other_username_claims() {
        let claims = json!({
            "iss": "i", "sub": "s", "cognito:username": "alice", "cognito:groups": ["x", "admin"]
        });
        let names = ClaimNames {
            username: "cognito:username".into(),
            ..names()
        };
        let id = Identity::from_json_claims(claims.as_object().unwrap(), &names).unwrap();
        assert!(id.admin && id.is_user("alice") && !id.is_user("s"));
        let no_admin_group = ClaimNames::default();
        let id = Identity::from_json_claims(claims.as_object().unwrap(), &no_admin_group).unwrap();
        assert!(!id.admin, "nobody is an admin without AUTH_ADMIN_GROUP");
    }
}
