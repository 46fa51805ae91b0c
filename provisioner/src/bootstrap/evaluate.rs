//! A small evaluator of IAM policy documents, so the policies bootstrap generates can be
//! *tested* (each escalation path shown denied, each call plan/apply/destroy make shown allowed)
//! instead of only read.
//!
//! It follows IAM's evaluation logic for one account: an explicit `Deny` in any policy wins,
//! otherwise an `Allow` is needed, otherwise the request is implicitly denied. With a
//! permissions boundary ([`evaluate_bounded`]) a request is allowed only when both the identity
//! policies and the boundary allow it.
//!
//! Modelled: `Effect`; `Action`/`NotAction` (case-insensitive, `*` and `?`);
//! `Resource`/`NotResource` (case-sensitive, `*` and `?`; a statement with neither matches any
//! resource, as in a trust policy); `Principal` (`*`, or `AWS`/`Federated`/`Service` values
//! compared exactly); `Condition` with the operators `StringEquals`, `StringNotEquals`,
//! `StringEqualsIgnoreCase`, `StringNotEqualsIgnoreCase`, `StringLike`, `StringNotLike`,
//! `ArnEquals`, `ArnLike`, `ArnNotEquals`, `ArnNotLike` (each of the six ARN parts matched
//! separately), `Bool` and `Null`, each with the `ForAllValues:`/`ForAnyValue:` prefixes and the
//! `IfExists` suffix. Condition keys are case-insensitive; every key must hold and, within a
//! key, any listed value may match. A negated operator holds when the key is absent.
//!
//! Not modelled (see docs/operations.md): numeric, date and IP operators, policy variables (`${...}`),
//! `NotPrincipal`, service control policies, session policies, resource policies other than
//! the one passed in, cross-account rules, and which resource ARN and context keys AWS actually
//! puts on a given API call (the caller of [`evaluate`] states them in the [`Request`]).
//! Anything it cannot model fails closed: such an `Allow` statement never allows, such a `Deny`
//! statement always denies. [`unsupported`] lists those parts of a document, so a test can
//! assert the generated policies use none.

use std::collections::BTreeMap;

use serde_json::Value;

/// The caller of a request, for policies with a `Principal` element (trust policies).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// `AWS`, `Federated` or `Service`.
    pub kind: String,
    /// An ARN, a provider ARN or a service name (`lambda.amazonaws.com`).
    pub id: String,
}

/// One request to authorise: what is done, to what, by whom, with which context keys.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Request {
    /// `service:Action`, e.g. `iam:CreateRole`.
    pub action: String,
    /// The resource ARN the call is authorised against.
    pub resource: String,
    /// Set for trust (resource) policies; identity policies ignore it.
    pub principal: Option<Principal>,
    /// Condition keys and their values (several for multi-valued keys such as
    /// `dynamodb:LeadingKeys` or `aws:TagKeys`).
    pub context: BTreeMap<String, Vec<String>>,
}

impl Request {
    /// A request for `action` on `resource`, with no context.
    pub fn new(action: &str, resource: &str) -> Self {
        Self {
            action: action.to_string(),
            resource: resource.to_string(),
            ..Self::default()
        }
    }

    /// Adds the context key `key` with one value.
    pub fn with(mut self, key: &str, value: &str) -> Self {
        self.context
            .entry(key.to_string())
            .or_default()
            .push(value.to_string());
        self
    }

    /// Made by `kind` principal `id` (for trust policies).
    pub fn by(mut self, kind: &str, id: &str) -> Self {
        self.principal = Some(Principal {
            kind: kind.to_string(),
            id: id.to_string(),
        });
        self
    }

    fn values(&self, key: &str) -> Option<&[String]> {
        self.context
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_slice())
    }
}

/// The outcome of an evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// A `Deny` statement matched.
    ExplicitDeny,
    /// No statement allowed it.
    ImplicitDeny,
}

impl Decision {
    pub fn is_allowed(self) -> bool {
        self == Self::Allow
    }
}

/// Does a part of a statement match? `Unknown` when the evaluator cannot tell (unmodelled).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Match {
    Yes,
    No,
    Unknown,
}

impl Match {
    fn from_bool(value: bool) -> Self {
        if value { Self::Yes } else { Self::No }
    }

    /// Both parts must match: `No` wins over `Unknown`.
    fn and(self, other: Self) -> Self {
        match (self, other) {
            (Self::No, _) | (_, Self::No) => Self::No,
            (Self::Unknown, _) | (_, Self::Unknown) => Self::Unknown,
            _ => Self::Yes,
        }
    }
}

/// Evaluates `request` against `policies` (policy documents, each with a `Statement`).
pub fn evaluate(policies: &[Value], request: &Request) -> Decision {
    let mut allowed = false;
    for statement in policies.iter().flat_map(statements) {
        let applies = statement_matches(statement, request);
        match statement.get("Effect").and_then(Value::as_str) {
            Some("Allow") if applies == Match::Yes => allowed = true,
            Some("Allow") => {}
            // A Deny, or an effect it does not know, that may apply denies (fail closed).
            _ if applies != Match::No => return Decision::ExplicitDeny,
            _ => {}
        }
    }
    if allowed {
        Decision::Allow
    } else {
        Decision::ImplicitDeny
    }
}

/// Evaluates `request` for a principal whose identity policies are `policies` and whose
/// permissions boundary is `boundary`: allowed only when both allow and neither denies.
pub fn evaluate_bounded(policies: &[Value], boundary: &[Value], request: &Request) -> Decision {
    match (evaluate(policies, request), evaluate(boundary, request)) {
        (Decision::ExplicitDeny, _) | (_, Decision::ExplicitDeny) => Decision::ExplicitDeny,
        (Decision::Allow, Decision::Allow) => Decision::Allow,
        _ => Decision::ImplicitDeny,
    }
}

/// The parts of `policies` this evaluator does not model (empty when it models all of them).
pub fn unsupported(policies: &[Value]) -> Vec<String> {
    let mut found = Vec::new();
    for statement in policies.iter().flat_map(statements) {
        let Some(map) = statement.as_object() else {
            found.push(format!("statement that is not an object: {statement}"));
            continue;
        };
        for (element, value) in map {
            match element.as_str() {
                "Sid" | "Action" | "NotAction" | "Resource" | "NotResource" | "Principal" => {}
                "Effect" if matches!(value.as_str(), Some("Allow" | "Deny")) => {}
                "Condition" => {
                    for (operator, keys) in value.as_object().into_iter().flatten() {
                        if parse_operator(operator).is_none() {
                            found.push(format!("condition operator {operator}"));
                        }
                        if !keys.is_object() {
                            found.push(format!("condition block {operator}: {keys}"));
                        }
                    }
                }
                other => found.push(format!("element {other}")),
            }
        }
        if statement.to_string().contains("${") {
            found.push(format!("policy variable in {statement}"));
        }
    }
    found
}

fn statements(policy: &Value) -> Vec<&Value> {
    match policy.get("Statement") {
        Some(Value::Array(list)) => list.iter().collect(),
        Some(single) => vec![single],
        None => Vec::new(),
    }
}

fn strings(value: &Value) -> Vec<&str> {
    match value {
        Value::String(s) => vec![s.as_str()],
        Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn statement_matches(statement: &Value, request: &Request) -> Match {
    let Some(map) = statement.as_object() else {
        return Match::Unknown;
    };
    if map.contains_key("NotPrincipal") || map.keys().any(|k| !KNOWN_ELEMENTS.contains(&k.as_str()))
    {
        return Match::Unknown;
    }
    if statement.to_string().contains("${") {
        return Match::Unknown;
    }
    let action = match (map.get("Action"), map.get("NotAction")) {
        (Some(list), None) => strings(list).iter().any(|p| {
            glob(
                &p.to_ascii_lowercase(),
                &request.action.to_ascii_lowercase(),
            )
        }),
        (None, Some(list)) => !strings(list).iter().any(|p| {
            glob(
                &p.to_ascii_lowercase(),
                &request.action.to_ascii_lowercase(),
            )
        }),
        _ => return Match::Unknown,
    };
    let resource = match (map.get("Resource"), map.get("NotResource")) {
        (Some(list), None) => strings(list).iter().any(|p| glob(p, &request.resource)),
        (None, Some(list)) => !strings(list).iter().any(|p| glob(p, &request.resource)),
        (None, None) => true,
        _ => return Match::Unknown,
    };
    let principal = match map.get("Principal") {
        None => true,
        Some(principal) => principal_matches(principal, request.principal.as_ref()),
    };
    let condition = match map.get("Condition") {
        None => Match::Yes,
        Some(block) => condition_matches(block, request),
    };
    Match::from_bool(action && resource && principal).and(condition)
}

const KNOWN_ELEMENTS: &[&str] = &[
    "Sid",
    "Effect",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Principal",
    "Condition",
];

fn principal_matches(principal: &Value, caller: Option<&Principal>) -> bool {
    if principal.as_str() == Some("*") {
        return true;
    }
    let Some(caller) = caller else {
        return false;
    };
    principal.as_object().is_some_and(|kinds| {
        kinds.iter().any(|(kind, ids)| {
            kind == &caller.kind && strings(ids).iter().any(|id| *id == "*" || *id == caller.id)
        })
    })
}

/// Which set operator prefixes an operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SetOperator {
    Single,
    ForAllValues,
    ForAnyValue,
}

/// The comparison at the heart of an operator, always in its positive form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Comparison {
    StringEquals,
    StringEqualsIgnoreCase,
    StringLike,
    Arn,
    Bool,
    Null,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Operator {
    set: SetOperator,
    comparison: Comparison,
    negated: bool,
    if_exists: bool,
}

fn parse_operator(text: &str) -> Option<Operator> {
    let (set, rest) = if let Some(rest) = text.strip_prefix("ForAllValues:") {
        (SetOperator::ForAllValues, rest)
    } else if let Some(rest) = text.strip_prefix("ForAnyValue:") {
        (SetOperator::ForAnyValue, rest)
    } else {
        (SetOperator::Single, text)
    };
    let (rest, if_exists) = match rest.strip_suffix("IfExists") {
        Some(base) => (base, true),
        None => (rest, false),
    };
    let (comparison, negated) = match rest {
        "StringEquals" => (Comparison::StringEquals, false),
        "StringNotEquals" => (Comparison::StringEquals, true),
        "StringEqualsIgnoreCase" => (Comparison::StringEqualsIgnoreCase, false),
        "StringNotEqualsIgnoreCase" => (Comparison::StringEqualsIgnoreCase, true),
        "StringLike" => (Comparison::StringLike, false),
        "StringNotLike" => (Comparison::StringLike, true),
        "ArnEquals" | "ArnLike" => (Comparison::Arn, false),
        "ArnNotEquals" | "ArnNotLike" => (Comparison::Arn, true),
        "Bool" => (Comparison::Bool, false),
        "Null" if set == SetOperator::Single && !if_exists => (Comparison::Null, false),
        _ => return None,
    };
    Some(Operator {
        set,
        comparison,
        negated,
        if_exists,
    })
}

fn condition_matches(block: &Value, request: &Request) -> Match {
    let Some(operators) = block.as_object() else {
        return Match::Unknown;
    };
    let mut result = Match::Yes;
    for (name, keys) in operators {
        let (Some(operator), Some(keys)) = (parse_operator(name), keys.as_object()) else {
            result = result.and(Match::Unknown);
            continue;
        };
        for (key, wanted) in keys {
            let wanted = strings(wanted);
            let holds = operator_holds(operator, &wanted, request.values(key));
            result = result.and(Match::from_bool(holds));
        }
    }
    result
}

fn operator_holds(operator: Operator, wanted: &[&str], values: Option<&[String]>) -> bool {
    if operator.comparison == Comparison::Null {
        let absent = values.is_none_or(<[String]>::is_empty);
        return wanted
            .iter()
            .any(|w| w.eq_ignore_ascii_case("true") == absent);
    }
    let values = values.unwrap_or(&[]);
    if values.is_empty() {
        return match operator.set {
            SetOperator::ForAllValues => true,
            SetOperator::ForAnyValue => false,
            SetOperator::Single => operator.if_exists || operator.negated,
        };
    }
    // One request value against the policy's values: positive "matches any", or its negation.
    let holds_for = |value: &str| {
        let any = wanted
            .iter()
            .any(|w| compare(operator.comparison, w, value));
        any != operator.negated
    };
    match operator.set {
        SetOperator::ForAllValues => values.iter().all(|v| holds_for(v)),
        SetOperator::ForAnyValue => values.iter().any(|v| holds_for(v)),
        // A single-valued operator on several values: positive if any matches, negated if none.
        SetOperator::Single if operator.negated => values.iter().all(|v| holds_for(v)),
        SetOperator::Single => values.iter().any(|v| holds_for(v)),
    }
}

fn compare(comparison: Comparison, wanted: &str, value: &str) -> bool {
    match comparison {
        Comparison::StringEquals => wanted == value,
        Comparison::StringEqualsIgnoreCase => wanted.eq_ignore_ascii_case(value),
        Comparison::StringLike => glob(wanted, value),
        Comparison::Arn => {
            let pattern: Vec<&str> = wanted.splitn(6, ':').collect();
            let arn: Vec<&str> = value.splitn(6, ':').collect();
            pattern.len() == 6
                && arn.len() == 6
                && pattern.iter().zip(&arn).all(|(p, a)| glob(p, a))
        }
        Comparison::Bool => wanted.eq_ignore_ascii_case(value),
        Comparison::Null => false,
    }
}

/// IAM's wildcard match: `*` any run of characters (also empty), `?` exactly one.
pub fn glob(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = text.chars().collect();
    let (mut p, mut t) = (0, 0);
    // Where the last `*` was, and the text position it currently stands for the end of.
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some('*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == '?' || c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((star_p, star_t)) => {
                    p = star_p + 1;
                    t = star_t + 1;
                    star = Some((star_p, star_t + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests;
