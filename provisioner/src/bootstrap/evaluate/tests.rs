//! Unit tests of `evaluate`.

use serde_json::json;

use super::*;

/// Whether `policy` allows `request`: the question most of these tests ask.
fn allows(policy: &[Value], request: &Request) -> bool {
    evaluate(policy, request).is_allowed()
}

fn allow(action: &str, resource: &str) -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": resource}]})
}

#[test]
fn wildcards_match_like_iam() {
    assert!(glob("arn:aws:iam::1:role/a/*", "arn:aws:iam::1:role/a/b/c"));
    assert!(!glob("arn:aws:iam::1:role/a/*", "arn:aws:iam::1:role/ab"));
    assert!(glob("a?c", "abc") && !glob("a?c", "ac"));
    assert!(glob("*", "") && glob("a*b*c", "aXbYbc") && !glob("a*b", "ab c"));
}

#[test]
fn deny_wins_and_nothing_is_implicitly_denied() {
    let allow_all = allow("s3:*", "*");
    let request = Request::new("s3:DeleteObjectVersion", "arn:aws:s3:::b/k");
    assert_eq!(
        evaluate(std::slice::from_ref(&allow_all), &request),
        Decision::Allow
    );
    let deny = json!({"Statement": {"Effect": "Deny", "Action": "s3:DeleteObjectVersion", "Resource": "*"}});
    assert_eq!(
        evaluate(&[allow_all, deny], &request),
        Decision::ExplicitDeny
    );
    assert_eq!(evaluate(&[], &request), Decision::ImplicitDeny);
}

#[test]
fn actions_are_case_insensitive_and_resources_are_not() {
    let policy = [allow("IAM:getrole", "arn:aws:iam::1:role/A")];
    assert!(allows(
        &policy,
        &Request::new("iam:GetRole", "arn:aws:iam::1:role/A")
    ));
    assert!(!allows(
        &policy,
        &Request::new("iam:GetRole", "arn:aws:iam::1:role/a")
    ));
}

#[test]
fn conditions_need_every_key_and_any_value() {
    let policy = [
        json!({"Statement": [{"Effect": "Allow", "Action": "iam:CreateRole", "Resource": "*",
        "Condition": {"StringEquals": {"iam:PermissionsBoundary": ["b1", "b2"], "aws:RequestTag/env": "dev"}}}]}),
    ];
    let base = Request::new("iam:CreateRole", "arn:aws:iam::1:role/x");
    assert!(
        allows(
            &policy,
            &base
                .clone()
                .with("iam:permissionsboundary", "b2")
                .with("aws:RequestTag/env", "dev")
        ),
        "keys are case-insensitive"
    );
    assert!(!allows(
        &policy,
        &base.clone().with("iam:PermissionsBoundary", "b1")
    ));
    assert!(!allows(&policy, &base), "a missing key does not match");
}

#[test]
fn negated_operators_hold_when_the_key_is_absent() {
    let deny = [
        allow("iam:PutRolePolicy", "*"),
        json!({"Statement": {"Effect": "Deny", "Action": "iam:PutRolePolicy", "Resource": "*",
            "Condition": {"StringNotEquals": {"iam:PermissionsBoundary": "ours"}}}}),
    ];
    let request = Request::new("iam:PutRolePolicy", "r");
    assert_eq!(evaluate(&deny, &request), Decision::ExplicitDeny);
    assert_eq!(
        evaluate(
            &deny,
            &request.clone().with("iam:PermissionsBoundary", "theirs")
        ),
        Decision::ExplicitDeny
    );
    assert_eq!(
        evaluate(&deny, &request.with("iam:PermissionsBoundary", "ours")),
        Decision::Allow
    );
}

#[test]
fn set_operators_and_if_exists() {
    let policy = [
        json!({"Statement": {"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "*",
        "Condition": {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["a", "b"]},
                      "StringEqualsIfExists": {"aws:RequestTag/x": "1"}}}}),
    ];
    let get = Request::new("dynamodb:GetItem", "t");
    assert!(allows(
        &policy,
        &get.clone().with("dynamodb:LeadingKeys", "a")
    ));
    assert!(!allows(
        &policy,
        &get.clone()
            .with("dynamodb:LeadingKeys", "a")
            .with("dynamodb:LeadingKeys", "c")
    ));
    assert!(
        !allows(&policy, &get.clone().with("aws:RequestTag/x", "2")),
        "IfExists still compares a present key"
    );
    let any = [
        json!({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*",
        "Condition": {"ForAnyValue:StringLike": {"aws:TagKeys": "provisioner:*"}}}}),
    ];
    assert!(!allows(&any, &get));
    assert!(allows(&any, &get.with("aws:TagKeys", "provisioner:stack")));
}

#[test]
fn arn_operators_match_each_part() {
    let policy = [
        json!({"Statement": {"Effect": "Allow", "Action": "iam:AttachRolePolicy", "Resource": "*",
        "Condition": {"ArnEquals": {"iam:PolicyARN": "arn:aws:iam::aws:policy/service-role/*"}}}}),
    ];
    let attach = Request::new("iam:AttachRolePolicy", "r");
    assert!(allows(
        &policy,
        &attach
            .clone()
            .with("iam:PolicyARN", "arn:aws:iam::aws:policy/service-role/X")
    ));
    assert!(!allows(
        &policy,
        &attach.with(
            "iam:PolicyARN",
            "arn:aws:iam::aws:policy/AdministratorAccess"
        )
    ));
}

#[test]
fn principals_match_trust_policies_only_for_their_caller() {
    let trust = [
        json!({"Statement": {"Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity",
        "Principal": {"Federated": "arn:aws:iam::1:oidc-provider/x"}}}),
    ];
    let assume = Request::new("sts:AssumeRoleWithWebIdentity", "arn:aws:iam::1:role/r");
    assert!(!allows(&trust, &assume), "no caller, no match");
    assert!(allows(
        &trust,
        &assume
            .clone()
            .by("Federated", "arn:aws:iam::1:oidc-provider/x")
    ));
    assert!(!allows(&trust, &assume.by("AWS", "arn:aws:iam::2:root")));
}

#[test]
fn the_boundary_caps_what_identity_policies_allow() {
    let admin = [allow("*", "*")];
    let boundary = [allow("dynamodb:GetItem", "arn:aws:dynamodb:r:1:table/t")];
    let get = Request::new("dynamodb:GetItem", "arn:aws:dynamodb:r:1:table/t");
    assert!(evaluate_bounded(&admin, &boundary, &get).is_allowed());
    let other = Request::new("iam:CreateUser", "arn:aws:iam::1:user/x");
    assert_eq!(
        evaluate_bounded(&admin, &boundary, &other),
        Decision::ImplicitDeny
    );
}

#[test]
fn what_it_cannot_model_fails_closed_and_is_listed() {
    let odd_allow = [
        json!({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*",
        "Condition": {"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}}}}),
    ];
    assert!(!allows(&odd_allow, &Request::new("s3:GetObject", "x")));
    let odd_deny = [
        allow("*", "*"),
        json!({"Statement": {"Effect": "Deny", "NotPrincipal": {"AWS": "x"}, "Action": "*", "Resource": "*"}}),
    ];
    assert_eq!(
        evaluate(&odd_deny, &Request::new("s3:GetObject", "x")),
        Decision::ExplicitDeny
    );
    assert_eq!(
        unsupported(&odd_allow),
        ["condition operator NumericLessThan"]
    );
    assert_eq!(unsupported(&odd_deny), ["element NotPrincipal"]);
    assert!(unsupported(&[allow("s3:*", "arn:aws:s3:::${aws:username}")])[0].contains("variable"));
}
