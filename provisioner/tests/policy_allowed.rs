//! The calls plan, apply and destroy make are allowed by dev's generated deploy policy,
//! evaluated with the library's IAM evaluator (the escalation paths it must deny are in
//! `policy_escalation.rs`). No AWS is involved; each request states the ARN and context keys AWS
//! documents for its call.

use crate::common;

use common::policy::{ACCOUNT, Dev, REGION, api};
use provisioner::bootstrap::evaluate::Request;

/// `actions`, each on `resource`.
fn on(resource: &str, actions: &[&str]) -> Vec<Request> {
    actions
        .iter()
        .map(|action| Request::new(action, resource))
        .collect()
}

/// The same requests, each with the context key `key` set to `value`.
fn with(requests: Vec<Request>, key: &str, value: &str) -> Vec<Request> {
    requests
        .into_iter()
        .map(|request| request.with(key, value))
        .collect()
}

#[test]
fn what_plan_apply_and_destroy_call_is_allowed() {
    let dev = Dev::new();
    let boundary = dev.boundary();
    let role = dev.function_role();
    let lock_table = format!("arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/aimodelshare-locks");
    let lock_key = "aimodelshare-state/provisioner/dev/state.json";
    let bucket = "arn:aws:s3:::aimodelshare-state";
    let state = format!("{bucket}/provisioner/dev/state.json");
    let table = format!("arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/aimodelshare-dev-playground");
    let function = format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:aimodelshare-dev-api");
    let group =
        format!("arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/aimodelshare-dev-api");
    let layer = format!("arn:aws:lambda:{REGION}:{ACCOUNT}:layer:aimodelshare-dev-extra");
    let old_role = format!("arn:aws:iam::{ACCOUNT}:role/aimodelshare-dev-lambda");
    let needed = [
        // The state: bucket checks, the object, the lock.
        on(
            bucket,
            &[
                "s3:ListBucket",
                "s3:GetBucketVersioning",
                "s3:GetBucketPublicAccessBlock",
                "s3:ListBucketVersions",
            ],
        ),
        on(
            &state,
            &["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"],
        ),
        on(
            &format!("{state}.tflock"),
            &["s3:PutObject", "s3:DeleteObject"],
        ),
        on(&lock_table, &["dynamodb:DescribeTable"]),
        with(
            on(
                &lock_table,
                &[
                    "dynamodb:PutItem",
                    "dynamodb:GetItem",
                    "dynamodb:DeleteItem",
                ],
            ),
            "dynamodb:LeadingKeys",
            lock_key,
        ),
        // The function's role, created, changed and deleted with the boundary.
        on(&role, &["iam:GetRole"]),
        with(
            on(
                &role,
                &[
                    "iam:CreateRole",
                    "iam:PutRolePermissionsBoundary",
                    "iam:PutRolePolicy",
                ],
            ),
            "iam:PermissionsBoundary",
            &boundary,
        ),
        vec![
            Request::new("iam:AttachRolePolicy", &role)
                .with("iam:PermissionsBoundary", &boundary)
                .with(
                    "iam:PolicyARN",
                    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
                ),
        ],
        on(
            &role,
            &[
                "iam:GetRolePolicy",
                "iam:ListAttachedRolePolicies",
                "iam:ListRolePolicies",
                "iam:TagRole",
                "iam:UntagRole",
                "iam:UpdateRoleDescription",
                "iam:DetachRolePolicy",
                "iam:DeleteRolePolicy",
                "iam:DeleteRole",
            ],
        ),
        // An earlier version's role at `/` is found by name and removed.
        on(&old_role, &["iam:GetRole", "iam:DeleteRole"]),
        with(
            on(&role, &["iam:PassRole"]),
            "iam:PassedToService",
            "lambda.amazonaws.com",
        ),
        // The table.
        on(
            &table,
            &[
                "dynamodb:CreateTable",
                "dynamodb:DescribeTable",
                "dynamodb:UpdateContinuousBackups",
                "dynamodb:DescribeContinuousBackups",
                "dynamodb:TagResource",
                "dynamodb:ListTagsOfResource",
                "dynamodb:UpdateTable",
                "dynamodb:DeleteTable",
            ],
        ),
        // The log group, the layer, the function.
        on(
            &format!("arn:aws:logs:{REGION}:{ACCOUNT}:log-group:*"),
            &["logs:DescribeLogGroups"],
        ),
        on(
            &group,
            &[
                "logs:CreateLogGroup",
                "logs:PutRetentionPolicy",
                "logs:TagResource",
                "logs:DeleteLogGroup",
            ],
        ),
        on(&layer, &["lambda:PublishLayerVersion"]),
        on(
            &format!("{layer}:3"),
            &["lambda:GetLayerVersion", "lambda:DeleteLayerVersion"],
        ),
        on(
            &function,
            &[
                "lambda:CreateFunction",
                "lambda:GetFunction",
                "lambda:UpdateFunctionCode",
                "lambda:UpdateFunctionConfiguration",
                "lambda:TagResource",
                "lambda:GetPolicy",
            ],
        ),
        with(
            on(&function, &["lambda:AddPermission"]),
            "lambda:Principal",
            "apigateway.amazonaws.com",
        ),
        on(
            &function,
            &["lambda:RemovePermission", "lambda:DeleteFunction"],
        ),
    ];
    // The HTTP API, tagged as this stack's dev environment, and its parts.
    let tagged = |tag: &str, calls: &[(&str, &str)]| -> Vec<Request> {
        calls
            .iter()
            .map(|(method, path)| {
                Request::new(&format!("apigateway:{method}"), &api(path))
                    .with(&format!("aws:{tag}/provisioner:stack"), "aimodelshare")
                    .with(&format!("aws:{tag}/provisioner:environment"), "dev")
            })
            .collect()
    };
    let apis = [
        on(&api("/apis"), &["apigateway:GET"]),
        tagged("RequestTag", &[("POST", "/apis")]),
        tagged(
            "ResourceTag",
            &[
                ("GET", "/apis/a1"),
                ("PATCH", "/apis/a1"),
                ("POST", "/apis/a1/integrations"),
                ("POST", "/apis/a1/routes"),
                ("PATCH", "/apis/a1/stages/dev"),
                ("DELETE", "/apis/a1/cors"),
                ("POST", "/tags/arn%3Aaws%3Aapigateway"),
                ("DELETE", "/apis/a1"),
            ],
        ),
    ];
    for request in needed.into_iter().chain(apis).flatten() {
        dev.allowed("plan/apply/destroy need it", request);
    }
}

/// The monitoring kinds' calls, on the ARNs AWS documents for them: an alarm (regional), a
/// dashboard (global: no region), a topic; a subscription's own calls take no resource (`*`).
#[test]
fn what_the_monitoring_kinds_call_is_allowed() {
    let dev = Dev::new();
    let alarm = format!("arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:aimodelshare-dev-errors");
    let dashboard = format!("arn:aws:cloudwatch::{ACCOUNT}:dashboard/aimodelshare-dev-api");
    let topic = format!("arn:aws:sns:{REGION}:{ACCOUNT}:aimodelshare-dev-alerts");
    let needed = [
        on(
            &alarm,
            &[
                "cloudwatch:PutMetricAlarm",
                "cloudwatch:DescribeAlarms",
                "cloudwatch:ListTagsForResource",
                "cloudwatch:TagResource",
                "cloudwatch:UntagResource",
                "cloudwatch:DeleteAlarms",
            ],
        ),
        on(
            &dashboard,
            &[
                "cloudwatch:PutDashboard",
                "cloudwatch:GetDashboard",
                "cloudwatch:DeleteDashboards",
            ],
        ),
        on(
            &topic,
            &[
                "sns:CreateTopic",
                "sns:GetTopicAttributes",
                "sns:ListTagsForResource",
                "sns:TagResource",
                "sns:UntagResource",
                "sns:DeleteTopic",
                "sns:Subscribe",
                "sns:ListSubscriptionsByTopic",
            ],
        ),
        on("*", &["sns:GetSubscriptionAttributes", "sns:Unsubscribe"]),
        // The alarms' (and log groups') tags read together by a refresh.
        on("*", &["tag:GetResources"]),
    ];
    for request in needed.into_iter().flatten() {
        dev.allowed("the monitoring kinds need it", request);
    }
}
