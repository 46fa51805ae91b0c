//! The function's settings, read from environment variables once at start.
//!
//! Reading them once (and failing fast with a message that names the variable) means a
//! misconfigured deployment fails its first cold start loudly instead of answering 500s, and no
//! request pays for parsing the environment.

use std::env;

/// Body size cap: bigger bodies get 413.
pub const BODY_LIMIT_BYTES: usize = 64 * 1024;

/// Everything a request handler may need to know about the deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The DynamoDB table holding every playground (`TABLE_NAME`).
    pub table_name: String,
    /// Origins allowed by CORS (`CORS_ALLOW_ORIGINS`, comma separated, default `*`).
    pub cors_allow_origins: Vec<String>,
    /// `SAFE_CONCURRENCY` from the original deployment: accepted for compatibility; writes are
    /// always conditional transactions now, so `false` does not turn the safety off.
    pub safe_concurrency: bool,
    /// Page size when the request gives none or a non-numeric one (`PAGE_LIMIT_DEFAULT`, 50).
    pub page_limit_default: u32,
    /// Largest page size a client may ask for (`PAGE_LIMIT_MAX`, 500).
    pub page_limit_max: u32,
    /// Whether writes need an identity (`AUTH_ENABLED`, default false: the open API of
    /// before, nothing required and no owner recorded). On Lambda the identity is the claims
    /// API Gateway's JWT authorizer verified; `function serve` verifies tokens itself.
    pub auth_enabled: bool,
    /// How claims name a user and their groups.
    pub claims: ClaimNames,
}

/// Which claims of a verified token the rules read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimNames {
    /// The claim that must equal `{username}` to write that user's row
    /// (`AUTH_USERNAME_CLAIM`, default `sub`).
    pub username: String,
    /// The claim listing the caller's groups (`AUTH_GROUPS_CLAIM`, default `cognito:groups`).
    pub groups: String,
    /// Members of this group may change any playground and any user row
    /// (`AUTH_ADMIN_GROUP`; unset: nobody is an admin).
    pub admin_group: Option<String>,
}

impl Default for ClaimNames {
    fn default() -> Self {
        Self {
            username: "sub".to_string(),
            groups: "cognito:groups".to_string(),
            admin_group: None,
        }
    }
}

impl ClaimNames {
    /// Reads the `AUTH_*_CLAIM` and `AUTH_ADMIN_GROUP` variables through `lookup`.
    pub fn from_lookup(lookup: &impl Fn(&str) -> Option<String>) -> Self {
        let named = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let defaults = Self::default();
        Self {
            username: named("AUTH_USERNAME_CLAIM").unwrap_or(defaults.username),
            groups: named("AUTH_GROUPS_CLAIM").unwrap_or(defaults.groups),
            admin_group: named("AUTH_ADMIN_GROUP"),
        }
    }
}

/// A variable is present but unusable.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    /// A required variable is unset or empty.
    #[error("environment variable {0} must be set (the DynamoDB table name)")]
    Missing(&'static str),
    /// A variable does not parse.
    #[error("environment variable {name} is {value:?}: {expected}")]
    Invalid {
        name: &'static str,
        value: String,
        expected: &'static str,
    },
}

impl Config {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| env::var(name).ok())
    }

    /// Reads the configuration through `lookup` (the environment, or a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let table_name = lookup("TABLE_NAME")
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .ok_or(ConfigError::Missing("TABLE_NAME"))?;
        let cors_allow_origins = parse_origins(lookup("CORS_ALLOW_ORIGINS").as_deref());
        let safe_concurrency = match lookup("SAFE_CONCURRENCY") {
            None => true,
            Some(v) => parse_bool("SAFE_CONCURRENCY", &v)?,
        };
        let page_limit_max = parse_limit("PAGE_LIMIT_MAX", lookup("PAGE_LIMIT_MAX"), 500)?;
        let page_limit_default =
            parse_limit("PAGE_LIMIT_DEFAULT", lookup("PAGE_LIMIT_DEFAULT"), 50)?
                .min(page_limit_max);
        let auth_enabled = match lookup("AUTH_ENABLED") {
            None => false,
            Some(v) => parse_bool("AUTH_ENABLED", &v)?,
        };
        Ok(Self {
            table_name,
            cors_allow_origins,
            safe_concurrency,
            page_limit_default,
            page_limit_max,
            auth_enabled,
            claims: ClaimNames::from_lookup(&lookup),
        })
    }

    /// A configuration for `table_name` with every other setting at its default.
    pub fn for_table(table_name: impl Into<String>) -> Self {
        Self {
            table_name: table_name.into(),
            cors_allow_origins: vec!["*".to_string()],
            safe_concurrency: true,
            page_limit_default: 50,
            page_limit_max: 500,
            auth_enabled: false,
            claims: ClaimNames::default(),
        }
    }
}

fn parse_origins(raw: Option<&str>) -> Vec<String> {
    let origins: Vec<String> = raw
        .unwrap_or("*")
        .split(',')
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(str::to_string)
        .collect();
    if origins.is_empty() {
        vec!["*".to_string()]
    } else {
        origins
    }
}

fn parse_bool(name: &'static str, value: &str) -> Result<bool, ConfigError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(ConfigError::Invalid {
            name,
            value: value.to_string(),
            expected: "use true or false",
        }),
    }
}

fn parse_limit(
    name: &'static str,
    value: Option<String>,
    default: u32,
) -> Result<u32, ConfigError> {
    let Some(value) = value else {
        return Ok(default);
    };
    match value.trim().parse::<u32>() {
        Ok(n) if (1..=1000).contains(&n) => Ok(n),
        _ => Err(ConfigError::Invalid {
            name,
            value,
            expected: "use a whole number from 1 to 1000",
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn defaults_apply_when_only_the_table_is_set() {
        let c = config(&[("TABLE_NAME", "t")]).unwrap();
        assert_eq!(c, Config::for_table("t"));
    }

    #[test]
    fn table_name_is_required() {
        assert_eq!(config(&[]), Err(ConfigError::Missing("TABLE_NAME")));
        assert_eq!(
            config(&[("TABLE_NAME", " ")]),
            Err(ConfigError::Missing("TABLE_NAME"))
        );
    }

    #[test]
    fn origins_are_split_and_trimmed() {
        let c = config(&[
            ("TABLE_NAME", "t"),
            (
                "CORS_ALLOW_ORIGINS",
                "https://a.example, https://b.example,",
            ),
        ])
        .unwrap();
        assert_eq!(
            c.cors_allow_origins,
            vec!["https://a.example", "https://b.example"]
        );
    }

    #[test]
    fn bad_values_name_the_variable() {
        let err = config(&[("TABLE_NAME", "t"), ("PAGE_LIMIT_MAX", "lots")]).unwrap_err();
        assert!(err.to_string().contains("PAGE_LIMIT_MAX"), "{err}");
        let err = config(&[("TABLE_NAME", "t"), ("SAFE_CONCURRENCY", "maybe")]).unwrap_err();
        assert!(err.to_string().contains("SAFE_CONCURRENCY"), "{err}");
    }

    #[test]
    fn auth_is_off_unless_enabled_and_claims_have_defaults() {
        let c = config(&[("TABLE_NAME", "t"), ("AUTH_ENABLED", "true")]).unwrap();
        assert!(c.auth_enabled);
        assert_eq!(c.claims, ClaimNames::default());
        let c = config(&[
            ("TABLE_NAME", "t"),
            ("AUTH_USERNAME_CLAIM", "username"),
            ("AUTH_GROUPS_CLAIM", "groups"),
            ("AUTH_ADMIN_GROUP", "admin"),
        ])
        .unwrap();
        assert!(!c.auth_enabled);
        assert_eq!(c.claims.username, "username");
        assert_eq!(c.claims.groups, "groups");
        assert_eq!(c.claims.admin_group.as_deref(), Some("admin"));
        let err = config(&[("TABLE_NAME", "t"), ("AUTH_ENABLED", "maybe")]).unwrap_err();
        assert!(err.to_string().contains("AUTH_ENABLED"), "{err}");
    }

    #[test]
    fn default_page_never_exceeds_the_max() {
        let c = config(&[
            ("TABLE_NAME", "t"),
            ("PAGE_LIMIT_MAX", "10"),
            ("PAGE_LIMIT_DEFAULT", "20"),
        ])
        .unwrap();
        assert_eq!((c.page_limit_default, c.page_limit_max), (10, 10));
    }
}
