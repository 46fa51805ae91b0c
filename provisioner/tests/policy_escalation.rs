//! The deploy roles cannot escalate: bootstrap's generated policies for a sample stack
//! (dev, stage, prod; state in S3 with a lock table) are evaluated with the library's IAM
//! evaluator against each escalation path, which must be denied. The calls plan, apply and
//! destroy make, which must be allowed, are in `policy_allowed.rs`. No AWS is involved.
//!
//! What the evaluator does not model (service-specific choices of resource ARN and context
//! keys, API Gateway's tag inheritance to routes and stages, ...) is listed in docs/operations.md; the
//! requests here state the ARN and keys AWS documents for each call.

use crate::common;

use common::policy::{ACCOUNT, AUD, Dev, REGION, SUB, api, sample};
use provisioner::bootstrap::evaluate::{Request, evaluate, evaluate_bounded, unsupported};
use provisioner::bootstrap::policies::{
    boundary_policy, deploy_policy, deploy_role_arn, function_role_arn, oidc_provider_arn,
    trust_policy,
};
use serde_json::json;

#[test]
fn the_evaluator_models_every_part_of_the_generated_policies() {
    let inputs = sample();
    for env in &inputs.environments {
        let documents = [
            deploy_policy(&inputs, env),
            boundary_policy(&inputs, env),
            trust_policy(&inputs, env, &oidc_provider_arn(ACCOUNT)),
        ];
        assert_eq!(unsupported(&documents), Vec::<String>::new());
    }
}

#[test]
fn no_role_is_created_or_changed_without_the_boundary() {
    let dev = Dev::new();
    let evil = dev.role_under_path("evil");
    dev.denied(
        "a role without a boundary",
        Request::new("iam:CreateRole", &evil),
    );
    dev.denied(
        "a role with another boundary",
        Request::new("iam:CreateRole", &evil).with(
            "iam:PermissionsBoundary",
            "arn:aws:iam::aws:policy/AdministratorAccess",
        ),
    );
    dev.denied(
        "a role outside the environment's path, even with the boundary",
        Request::new(
            "iam:CreateRole",
            &format!("arn:aws:iam::{ACCOUNT}:role/evil"),
        )
        .with("iam:PermissionsBoundary", &dev.boundary()),
    );
    dev.denied(
        "a role under prod's path",
        Request::new(
            "iam:CreateRole",
            &format!("arn:aws:iam::{ACCOUNT}:role/aimodelshare/prod/evil"),
        )
        .with("iam:PermissionsBoundary", &dev.boundary()),
    );
    dev.denied(
        "an inline policy on a role under the path that has no boundary",
        Request::new("iam:PutRolePolicy", &evil),
    );
    dev.denied(
        "an inline policy on the deploy role itself",
        Request::new(
            "iam:PutRolePolicy",
            &deploy_role_arn(&dev.inputs, dev.env()),
        )
        .with("iam:PermissionsBoundary", &dev.boundary()),
    );
    dev.denied(
        "administrator access attached to the function role",
        Request::new("iam:AttachRolePolicy", &dev.function_role())
            .with("iam:PermissionsBoundary", &dev.boundary())
            .with(
                "iam:PolicyARN",
                "arn:aws:iam::aws:policy/AdministratorAccess",
            ),
    );
}

#[test]
fn star_on_the_function_role_stays_within_the_boundary() {
    let dev = Dev::new();
    // The deploy role may put any inline policy on its function role (it has the boundary)...
    dev.allowed(
        "an inline policy on the bounded function role",
        Request::new("iam:PutRolePolicy", &dev.function_role())
            .with("iam:PermissionsBoundary", &dev.boundary()),
    );
    // ...and run code as that role, but the boundary caps what the code can do.
    let star = [
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}),
    ];
    let boundary = [boundary_policy(&dev.inputs, dev.env())];
    let prod_table = format!("arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/PlaygroundScores");
    for (why, request) in [
        (
            "create an administrator",
            Request::new(
                "iam:CreateUser",
                &format!("arn:aws:iam::{ACCOUNT}:user/evil"),
            ),
        ),
        (
            "a role without the boundary",
            Request::new("iam:CreateRole", &dev.role_under_path("evil")),
        ),
        ("prod's table", Request::new("dynamodb:Scan", &prod_table)),
        (
            "prod's items",
            Request::new("dynamodb:GetItem", &prod_table),
        ),
        (
            "the state",
            Request::new(
                "s3:PutObject",
                "arn:aws:s3:::aimodelshare-state/provisioner/prod/state.json",
            ),
        ),
        (
            "its own table, dropped",
            Request::new(
                "dynamodb:DeleteTable",
                &format!("arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/aimodelshare-dev-playground"),
            ),
        ),
    ] {
        assert!(
            !evaluate_bounded(&star, &boundary, &request).is_allowed(),
            "the function role under the boundary: {why}"
        );
    }
    let own_table =
        format!("arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/aimodelshare-dev-playground");
    assert!(
        evaluate_bounded(
            &star,
            &boundary,
            &Request::new("dynamodb:PutItem", &own_table)
        )
        .is_allowed(),
        "what the function needs stays allowed"
    );
}

#[test]
fn trust_policies_and_the_boundary_cannot_be_changed() {
    let dev = Dev::new();
    dev.denied(
        "update the function role's trust",
        Request::new("iam:UpdateAssumeRolePolicy", &dev.function_role()),
    );
    dev.denied(
        "remove the boundary",
        Request::new("iam:DeleteRolePermissionsBoundary", &dev.function_role()),
    );
    dev.denied(
        "replace the boundary",
        Request::new("iam:PutRolePermissionsBoundary", &dev.function_role()).with(
            "iam:PermissionsBoundary",
            "arn:aws:iam::aws:policy/AdministratorAccess",
        ),
    );
    for action in [
        "iam:CreatePolicyVersion",
        "iam:SetDefaultPolicyVersion",
        "iam:DeletePolicyVersion",
        "iam:DeletePolicy",
    ] {
        dev.denied(
            "edit or delete the boundary policy",
            Request::new(action, &dev.boundary()),
        );
    }
}

#[test]
fn only_the_function_role_is_passed_and_only_to_lambda() {
    let dev = Dev::new();
    let function_role = dev.function_role();
    dev.allowed(
        "the function role to Lambda",
        Request::new("iam:PassRole", &function_role)
            .with("iam:PassedToService", "lambda.amazonaws.com"),
    );
    dev.denied(
        "the function role to EC2",
        Request::new("iam:PassRole", &function_role)
            .with("iam:PassedToService", "ec2.amazonaws.com"),
    );
    for role in [
        dev.role_under_path("other"),
        deploy_role_arn(&dev.inputs, dev.env()),
        function_role_arn(&dev.inputs, dev.prod()),
        format!("arn:aws:iam::{ACCOUNT}:role/OrganizationAccountAccessRole"),
    ] {
        dev.denied(
            "another role to Lambda",
            Request::new("iam:PassRole", &role).with("iam:PassedToService", "lambda.amazonaws.com"),
        );
    }
}

#[test]
fn apis_without_the_environments_tags_are_untouchable() {
    let dev = Dev::new();
    let foreign = api("/apis/f0r31gn");
    for method in ["GET", "PATCH", "DELETE", "POST", "PUT"] {
        let action = format!("apigateway:{method}");
        dev.denied("an untagged API", Request::new(&action, &foreign));
        dev.denied(
            "prod's API",
            Request::new(&action, &format!("{foreign}/routes/r1"))
                .with("aws:ResourceTag/provisioner:stack", "aimodelshare")
                .with("aws:ResourceTag/provisioner:environment", "prod"),
        );
    }
    dev.denied(
        "tag someone else's API as ours",
        Request::new(
            "apigateway:POST",
            &api("/tags/arn%3Aaws%3Aapigateway%3Aus-east-1%3A%3A%2Fapis%2Ff0r31gn"),
        )
        .with("aws:RequestTag/provisioner:stack", "aimodelshare")
        .with("aws:RequestTag/provisioner:environment", "dev"),
    );
    dev.denied(
        "create an API without our tags",
        Request::new("apigateway:POST", &api("/apis")),
    );
}

#[test]
fn the_state_history_cannot_be_erased() {
    let dev = Dev::new();
    let bucket = "arn:aws:s3:::aimodelshare-state";
    let state = format!("{bucket}/provisioner/dev/state.json");
    for (action, resource) in [
        ("s3:PutBucketVersioning", bucket.to_string()),
        ("s3:PutBucketPublicAccessBlock", bucket.to_string()),
        ("s3:PutLifecycleConfiguration", bucket.to_string()),
        ("s3:PutBucketPolicy", bucket.to_string()),
        ("s3:DeleteBucket", bucket.to_string()),
        ("s3:DeleteObjectVersion", state.clone()),
        ("s3:DeleteObjectVersion", format!("{state}.tflock")),
        ("s3:DeleteObject", state.clone()),
    ] {
        dev.denied("erase state history", Request::new(action, &resource));
    }
}

#[test]
fn a_dev_token_reaches_nothing_of_prod() {
    let dev = Dev::new();
    let inputs = &dev.inputs;
    let provider = oidc_provider_arn(ACCOUNT);
    let prod_role = deploy_role_arn(inputs, dev.prod());
    let prod_trust = [trust_policy(inputs, dev.prod(), &provider)];
    let assume = |sub: &str, aud: &str| {
        Request::new("sts:AssumeRoleWithWebIdentity", &prod_role)
            .by("Federated", &provider)
            .with(SUB, sub)
            .with(AUD, aud)
    };
    let aud = "sts.amazonaws.com";
    for sub in [
        "repo:octo/playground:environment:dev",
        "repo:octo/playground:environment:stage",
        "repo:octo/playground:ref:refs/heads/main",
        "repo:octo/playground:pull_request",
        "repo:evil/playground:environment:prod",
    ] {
        assert!(
            !evaluate(&prod_trust, &assume(sub, aud)).is_allowed(),
            "{sub} may not assume prod's role"
        );
    }
    assert!(
        !evaluate(
            &prod_trust,
            &assume("repo:octo/playground:environment:prod", "other")
        )
        .is_allowed()
    );
    assert!(
        evaluate(
            &prod_trust,
            &assume("repo:octo/playground:environment:prod", aud)
        )
        .is_allowed(),
        "prod's own jobs may"
    );

    // Nor can dev's role itself touch prod's resources or prod's state.
    let prod_state = "arn:aws:s3:::aimodelshare-state/provisioner/prod/state.json";
    dev.denied("prod's state", Request::new("s3:PutObject", prod_state));
    dev.denied(
        "prod's lock item",
        Request::new(
            "dynamodb:DeleteItem",
            &format!("arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/aimodelshare-locks"),
        )
        .with(
            "dynamodb:LeadingKeys",
            "aimodelshare-state/provisioner/prod/state.json",
        ),
    );
    dev.denied(
        "prod's function code",
        Request::new(
            "lambda:UpdateFunctionCode",
            &format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:aimodelshare-prod-api"),
        ),
    );
    dev.denied(
        "prod's table",
        Request::new(
            "dynamodb:DeleteTable",
            &format!("arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/PlaygroundScores"),
        ),
    );
    dev.denied(
        "prod's function role",
        Request::new("iam:DeleteRole", &function_role_arn(inputs, dev.prod())),
    );
}

/// Dev's role reaches no alarm, dashboard or topic of prod (a subscription's own calls are
/// authorised on `*` by IAM, so only subscribing is confined to dev's topics).
#[test]
fn another_environments_monitoring_is_out_of_reach() {
    let dev = Dev::new();
    let prod = [
        (
            "cloudwatch:PutMetricAlarm",
            format!("arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:aimodelshare-prod-errors"),
        ),
        (
            "cloudwatch:DeleteDashboards",
            format!("arn:aws:cloudwatch::{ACCOUNT}:dashboard/aimodelshare-prod-api"),
        ),
        (
            "sns:DeleteTopic",
            format!("arn:aws:sns:{REGION}:{ACCOUNT}:aimodelshare-prod-alerts"),
        ),
        (
            "sns:Subscribe",
            format!("arn:aws:sns:{REGION}:{ACCOUNT}:aimodelshare-prod-alerts"),
        ),
    ];
    for (action, resource) in prod {
        dev.denied("prod's monitoring", Request::new(action, &resource));
    }
}
