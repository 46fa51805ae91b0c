//! `[auth]` resolved for one environment: whether the API's writes need a verified JWT, whose,
//! and who counts as an admin.
//!
//! The checks are the ones a wrong value would otherwise only show on a live API: an issuer API
//! Gateway cannot fetch keys from, an authorizer without an audience (which API Gateway rejects),
//! and a protected environment that accepts credentialed calls from any web origin.

use serde::Serialize;

use super::raw::EnvOverrides;
use super::resolve::{pick, span_of};
use super::{Stack, StackError};

/// The claim that names the caller unless the stack says otherwise.
pub const DEFAULT_USERNAME_CLAIM: &str = "sub";
/// Where Cognito puts the caller's groups.
pub const DEFAULT_GROUPS_CLAIM: &str = "cognito:groups";

/// Identity on the API, when `[auth] enabled = true`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResolvedAuth {
    pub issuer: String,
    /// Sorted, as API Gateway returns them.
    pub audience: Vec<String>,
    pub username_claim: String,
    pub admin_group: Option<String>,
    pub groups_claim: String,
    /// Reads stay open; false puts them behind the authorizer too.
    pub public_reads: bool,
}

/// `[auth]` of `environment`: `None` when auth is off.
pub(super) fn resolve_auth(
    stack: &Stack,
    over: &EnvOverrides,
    protected: bool,
    cors_allow_origins: &[String],
) -> Result<Option<ResolvedAuth>, StackError> {
    let raw = &stack.raw().auth;
    let origins_over = &over.api.cors_allow_origins;
    let over = &over.auth;
    if !*pick(&over.enabled, &raw.enabled).unwrap_or(&false) {
        return Ok(None);
    }
    let issuer_value = pick(&over.issuer, &raw.issuer);
    let Some(issuer) = issuer_value.map(|s| s.get_ref().clone()) else {
        return Err(stack.error_at(
            None,
            "[auth] enabled = true needs an issuer",
            Some("add issuer = \"https://<your identity provider>\" under [auth] (for Cognito: https://cognito-idp.<region>.amazonaws.com/<user pool id>)".into()),
        ));
    };
    if !issuer.starts_with("https://") || issuer.contains(char::is_whitespace) {
        return Err(stack.error_at(
            span_of(issuer_value),
            format!("issuer '{issuer}' is not an https URL"),
            Some("API Gateway fetches the signing keys from <issuer>/.well-known/openid-configuration, so write the issuer exactly as tokens carry it in `iss`, starting with https://".into()),
        ));
    }
    let audience_value = pick(&over.audience, &raw.audience);
    let mut audience = audience_value.map_or_else(Vec::new, |s| s.get_ref().clone());
    if audience.is_empty() || audience.iter().any(|a| a.trim().is_empty()) {
        return Err(stack.error_at(
            span_of(audience_value),
            "[auth] enabled = true needs a non-empty audience",
            Some("add audience = [\"<client id>\"] under [auth]: the values tokens carry in `aud` (or `client_id`)".into()),
        ));
    }
    audience.sort();
    audience.dedup();
    let claim = |value: Option<&serde_spanned::Spanned<String>>, default: &str, key: &str| {
        let name = value.map_or(default, |s| s.get_ref().as_str());
        if name.is_empty() || name.contains(char::is_whitespace) {
            Err(stack.error_at(
                span_of(value),
                format!("{key} '{name}' is not a claim name"),
                Some(format!(
                    "write the claim's name as tokens carry it, e.g. \"{default}\""
                )),
            ))
        } else {
            Ok(name.to_string())
        }
    };
    let username_claim = claim(
        pick(&over.username_claim, &raw.username_claim),
        DEFAULT_USERNAME_CLAIM,
        "username_claim",
    )?;
    let groups_claim = claim(
        pick(&over.groups_claim, &raw.groups_claim),
        DEFAULT_GROUPS_CLAIM,
        "groups_claim",
    )?;
    let admin_value = pick(&over.admin_group, &raw.admin_group);
    let admin_group = admin_value.map(|s| s.get_ref().clone());
    if admin_group.as_deref().is_some_and(str::is_empty) {
        return Err(stack.error_at(
            span_of(admin_value),
            "admin_group is empty",
            Some(
                "name the group whose members may change any playground, or remove the key".into(),
            ),
        ));
    }
    if protected && cors_allow_origins.iter().any(|o| o == "*") {
        let origins = pick(origins_over, &stack.raw().api.cors_allow_origins);
        return Err(stack.error_at(
            span_of(origins),
            "cors_allow_origins = [\"*\"] with [auth] enabled in a protected environment",
            Some("list the web origins allowed to call the API with users' tokens, e.g. cors_allow_origins = [\"https://app.example.com\"] under [env.<name>.api] (an environment is protected when it is `prod` or sets [stack] protected = true)".into()),
        ));
    }
    Ok(Some(ResolvedAuth {
        issuer,
        audience,
        username_claim,
        admin_group,
        groups_claim,
        public_reads: *pick(&over.public_reads, &raw.public_reads).unwrap_or(&true),
    }))
}

/// Whether `environment` is protected: `[stack] protected`, by default only `prod`.
pub(super) fn is_protected(stack: &Stack, over: &EnvOverrides, environment: &str) -> bool {
    *pick(&over.stack.protected, &stack.raw().stack.protected).unwrap_or(&(environment == "prod"))
}
