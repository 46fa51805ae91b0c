//! The AWS behaviours the emulator never shows, replayed from recorded responses with the SDK's
//! `StaticReplayClient`: a Lambda update conflicting with one in progress, a just-created role
//! that Lambda cannot assume yet, a permanent error that must not be retried, a stage
//! update (moto has no `UpdateStage`), and an e-mail subscription still pending confirmation
//! (moto confirms every subscription at once). Each test
//! counts the requests actually sent, so it proves the retry (or its absence), not just the
//! final result. No emulator is needed: the replay client answers every request.

use aws_smithy_http_client::test_util::{ReplayEvent, StaticReplayClient};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use provisioner::aws::AwsClients;
use provisioner::resource::{Desired, Fields, Observed, ResourceError, ResourceKind};
use serde_json::{Value, json};

const NAME: &str = "replayed-fn";
const ROLE: &str = "arn:aws:iam::123456789012:role/replayed";

/// The registered kind named `name`, as the engine sees it.
fn kind(name: &str) -> &'static dyn ResourceKind {
    provisioner::kinds::lookup(name).unwrap_or_else(|| panic!("no kind {name}"))
}

fn response(status: u16, error_type: Option<&str>, body: Value) -> HttpResponse {
    let status = StatusCode::try_from(status).expect("valid status");
    let mut response = HttpResponse::new(status, SdkBody::from(body.to_string()));
    response
        .headers_mut()
        .insert("content-type", "application/json");
    if let Some(error_type) = error_type {
        response
            .headers_mut()
            .insert("x-amzn-errortype", error_type.to_string());
    }
    response
}

fn event(response: HttpResponse) -> ReplayEvent {
    // The expected request is not compared; the tests check the actual requests themselves.
    ReplayEvent::new(HttpRequest::new(SdkBody::empty()), response)
}

/// A function configuration as Lambda returns it, settled (`Active`, `Successful`).
fn configuration(memory: i64) -> Value {
    json!({
        "FunctionName": NAME,
        "FunctionArn": format!("arn:aws:lambda:us-east-1:123456789012:function:{NAME}"),
        "Runtime": "provided.al2023",
        "Role": ROLE,
        "Handler": "bootstrap",
        "MemorySize": memory,
        "Timeout": 10,
        "CodeSha256": "abc=",
        "Architectures": ["arm64"],
        "Environment": {"Variables": {"A": "1"}},
        "Layers": [],
        "State": "Active",
        "LastUpdateStatus": "Successful"
    })
}

fn get_function(memory: i64) -> Value {
    json!({"Configuration": configuration(memory), "Tags": {}})
}

fn declared(memory: i64, zip_path: &str) -> Desired {
    let Value::Object(fields) = json!({
        "role_arn": ROLE,
        "runtime": "provided.al2023",
        "handler": "bootstrap",
        "architecture": "arm64",
        "memory_size": memory,
        "timeout": 10,
        "environment": {"A": "1"},
        "layers": [],
        "code_sha256": "abc=",
        "zip_path": zip_path,
    }) else {
        unreachable!("a JSON object literal")
    };
    Desired {
        address: "lambda_function.api".into(),
        kind: "lambda_function".into(),
        name: NAME.into(),
        fields,
        tags: Default::default(),
        depends_on: Vec::new(),
    }
}

fn dynamodb_response(status: u16, body: Value) -> HttpResponse {
    let status = StatusCode::try_from(status).expect("valid status");
    let mut response = HttpResponse::new(status, SdkBody::from(body.to_string()));
    response
        .headers_mut()
        .insert("content-type", "application/x-amz-json-1.0");
    response
}

async fn clients(replay: &StaticReplayClient) -> AwsClients {
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url("https://aws.us-east-1.amazonaws.com")
        .credentials_provider(aws_sdk_lambda::config::Credentials::new(
            "replay", "replay", None, None, "replay",
        ))
        .http_client(replay.clone())
        .load()
        .await;
    AwsClients::new(sdk)
}

/// `METHOD path` of every request the client actually sent.
fn sent(replay: &StaticReplayClient) -> Vec<String> {
    replay
        .actual_requests()
        .map(|r| {
            let path = r.uri().split_once(".com").map_or(r.uri(), |(_, p)| p);
            format!("{} {}", r.method(), path.split('?').next().unwrap_or(path))
        })
        .collect()
}

/// What the engine recorded before the update: the function as a read saw it, with `memory`
/// (every declared field but the zip's path, which is never read back).
fn current(memory: i64) -> Observed {
    let mut fields = declared(memory, "").fields;
    fields.remove("zip_path");
    Observed {
        id: NAME.into(),
        arn: Some(format!(
            "arn:aws:lambda:us-east-1:123456789012:function:{NAME}"
        )),
        fields,
        outputs: Fields::new(),
        tags: Some(Default::default()),
        tags_indexed: false,
    }
}

#[tokio::test]
async fn an_update_in_progress_conflict_is_retried_until_it_succeeds() {
    let replay = StaticReplayClient::new(vec![
        event(response(
            409,
            Some("ResourceConflictException"),
            json!({"Type": "User", "message": format!("The operation cannot be performed at this time. An update is in progress for resource: {NAME}")}),
        )),
        event(response(200, None, configuration(256))),
        event(response(200, None, configuration(256))),
        event(response(200, None, get_function(256))),
    ]);
    let aws = clients(&replay).await;
    let desired = declared(256, "/unused.zip");
    let changes = kind("lambda_function").diff(&desired, &current(128));
    let changes: Vec<_> = changes
        .into_iter()
        .filter(|c| c.field == "memory_size")
        .collect();
    assert_eq!(changes.len(), 1);

    let updated = kind("lambda_function")
        .update(&aws, &desired, &current(128), &changes)
        .await
        .expect("the conflict is retried");
    assert_eq!(updated.fields.get("memory_size"), Some(&json!(256)));
    let path = format!("/2015-03-31/functions/{NAME}");
    assert_eq!(
        sent(&replay),
        vec![
            format!("PUT {path}/configuration"),
            format!("PUT {path}/configuration"),
            format!("GET {path}/configuration"),
            format!("GET {path}"),
        ]
    );
}

#[tokio::test]
async fn create_is_retried_while_the_new_role_cannot_be_assumed_yet() {
    let zip = std::env::temp_dir().join(format!("replay-{}.zip", std::process::id()));
    std::fs::write(&zip, b"PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0").expect("write zip");
    let replay = StaticReplayClient::new(vec![
        event(response(
            400,
            Some("InvalidParameterValueException"),
            json!({"Type": "User", "message": "The role defined for the function cannot be assumed by Lambda."}),
        )),
        event(response(201, None, configuration(128))),
        event(response(200, None, configuration(128))),
        event(response(200, None, get_function(128))),
    ]);
    let aws = clients(&replay).await;
    let desired = declared(128, &zip.display().to_string());
    let created = kind("lambda_function")
        .create(&aws, &desired)
        .await
        .expect("retried create");
    assert!(kind("lambda_function").diff(&desired, &created).is_empty());
    let requests = sent(&replay);
    assert_eq!(requests.len(), 4, "{requests:?}");
    assert_eq!(requests[0], "POST /2015-03-31/functions");
    assert_eq!(requests[1], "POST /2015-03-31/functions");
    let _ = std::fs::remove_file(zip);
}

#[tokio::test]
async fn a_permanent_error_is_not_retried_and_keeps_the_aws_code_and_message() {
    let replay = StaticReplayClient::new(vec![event(response(
        403,
        Some("AccessDeniedException"),
        json!({"Type": "User", "Message": "User is not authorized to perform: lambda:GetFunction"}),
    ))]);
    let aws = clients(&replay).await;
    let error = kind("lambda_function")
        .read(&aws, NAME, &Fields::new())
        .await
        .expect_err("access denied is an error, never absent");
    match error {
        ResourceError::Aws {
            operation,
            code,
            message,
        } => {
            assert_eq!(operation, "GetFunction");
            assert_eq!(code.as_deref(), Some("AccessDeniedException"));
            assert!(message.contains("not authorized"), "{message}");
        }
        other => panic!("unexpected error {other:?}"),
    }
    assert_eq!(sent(&replay).len(), 1);
}

#[tokio::test]
async fn an_update_without_changes_sends_no_write_call() {
    let replay = StaticReplayClient::new(vec![event(response(200, None, get_function(128)))]);
    let aws = clients(&replay).await;
    let desired = declared(128, "/unused.zip");
    kind("lambda_function")
        .update(&aws, &desired, &current(128), &[])
        .await
        .expect("no-op update");
    assert_eq!(
        sent(&replay),
        vec![format!("GET /2015-03-31/functions/{NAME}")]
    );
}

/// The DynamoDB target (`X-Amz-Target` operation) of every request sent.
fn targets(replay: &StaticReplayClient) -> Vec<String> {
    replay
        .actual_requests()
        .map(|r| {
            r.headers()
                .get("x-amz-target")
                .unwrap_or_default()
                .trim_start_matches("DynamoDB_20120810.")
                .to_string()
        })
        .collect()
}

#[tokio::test]
async fn pitr_right_after_create_is_retried_until_backups_are_ready() {
    let table = json!({
        "TableName": "replayed",
        "TableArn": "arn:aws:dynamodb:us-east-1:123456789012:table/replayed",
        "TableStatus": "ACTIVE",
        "KeySchema": [{"AttributeName": "tableId", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "tableId", "AttributeType": "S"}],
        "BillingModeSummary": {"BillingMode": "PAY_PER_REQUEST"},
        "DeletionProtectionEnabled": false
    });
    let replay = StaticReplayClient::new(vec![
        event(dynamodb_response(200, json!({"TableDescription": table}))),
        event(dynamodb_response(200, json!({"Table": table}))),
        event(dynamodb_response(
            400,
            json!({
                "__type": "com.amazonaws.dynamodb.v20120810#ContinuousBackupsUnavailableException",
                "message": "Backups are being enabled for the table: replayed. Please retry later"
            }),
        )),
        event(dynamodb_response(
            200,
            json!({"ContinuousBackupsDescription": {"ContinuousBackupsStatus": "ENABLED"}}),
        )),
        event(dynamodb_response(200, json!({"Table": table}))),
        event(dynamodb_response(
            200,
            json!({"ContinuousBackupsDescription": {
                "ContinuousBackupsStatus": "ENABLED",
                "PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": "ENABLED"}
            }}),
        )),
        event(dynamodb_response(200, json!({"Tags": []}))),
    ]);
    let aws = clients(&replay).await;
    let Value::Object(fields) = json!({
        "billing_mode": "PAY_PER_REQUEST",
        "hash_key": "tableId",
        "range_key": null,
        "attribute_definitions": [{"name": "tableId", "type": "S"}],
        "global_secondary_indexes": [],
        "point_in_time_recovery": true,
        "deletion_protection": false
    }) else {
        unreachable!("a JSON object literal")
    };
    let desired = Desired {
        address: "dynamodb_table.playground".into(),
        kind: "dynamodb_table".into(),
        name: "replayed".into(),
        fields,
        tags: Default::default(),
        depends_on: Vec::new(),
    };
    let created = kind("dynamodb_table")
        .create(&aws, &desired)
        .await
        .expect("PITR retried");
    assert!(
        kind("dynamodb_table").diff(&desired, &created).is_empty(),
        "{created:#?}"
    );
    assert_eq!(
        targets(&replay),
        vec![
            "CreateTable",
            "DescribeTable",
            "UpdateContinuousBackups",
            "UpdateContinuousBackups",
            "DescribeTable",
            "DescribeContinuousBackups",
            "ListTagsOfResource",
        ]
    );
}

#[tokio::test]
async fn a_stage_whose_auto_deploy_drifted_is_patched_in_place() {
    let stage = |auto_deploy: bool| {
        response(
            200,
            None,
            json!({"stageName": "dev", "autoDeploy": auto_deploy, "createdDate": "2026-01-01T00:00:00Z"}),
        )
    };
    let replay = StaticReplayClient::new(vec![event(stage(true)), event(stage(true))]);
    let aws = clients(&replay).await;
    let Value::Object(fields) = json!({"api_id": "a1b2c3", "auto_deploy": true}) else {
        unreachable!("a JSON object literal")
    };
    let desired = Desired {
        address: "apigw_stage.default".into(),
        kind: "apigw_stage".into(),
        name: "dev".into(),
        fields: fields.clone(),
        tags: Default::default(),
        depends_on: Vec::new(),
    };
    let mut drifted = fields;
    drifted.insert("auto_deploy".into(), json!(false));
    let current = Observed {
        id: "dev".into(),
        arn: None,
        fields: drifted,
        outputs: Fields::new(),
        tags: None,
        tags_indexed: false,
    };
    let changes = provisioner::kinds::lookup("apigw_stage")
        .unwrap()
        .diff(&desired, &current);
    assert_eq!(
        changes.iter().map(|c| c.field.as_str()).collect::<Vec<_>>(),
        ["auto_deploy"]
    );
    assert!(!changes[0].forces_replacement, "an in-place update");

    let updated = provisioner::kinds::lookup("apigw_stage")
        .unwrap()
        .update(&aws, &desired, &current, &changes)
        .await
        .expect("the stage is patched");
    assert_eq!(updated.fields.get("auto_deploy"), Some(&json!(true)));
    assert_eq!(
        sent(&replay),
        [
            "PATCH /v2/apis/a1b2c3/stages/dev",
            "GET /v2/apis/a1b2c3/stages/dev"
        ]
    );
    let patch = replay.actual_requests().next().expect("the PATCH was sent");
    let body: Value = serde_json::from_slice(patch.body().bytes().expect("a buffered body"))
        .expect("a JSON body");
    assert_eq!(body["autoDeploy"], json!(true), "{body}");
}

/// An SNS (query protocol) answer: `status` with the XML `body`.
fn sns_response(status: u16, body: &str) -> HttpResponse {
    let status = StatusCode::try_from(status).expect("valid status");
    let mut response = HttpResponse::new(status, SdkBody::from(body.to_string()));
    response.headers_mut().insert("content-type", "text/xml");
    response
}

/// An e-mail subscription nobody confirmed yet (the emulator confirms every one at once): create
/// asks for its ARN, which reads as pending, and delete takes AWS's refusal to unsubscribe it
/// as done (AWS deletes it 48 hours later by itself).
#[tokio::test]
async fn a_pending_email_subscription_has_an_arn_and_its_refused_unsubscribe_is_gone() {
    let topic = "arn:aws:sns:us-east-1:123456789012:pg-dev-alerts";
    let arn = format!("{topic}:0f6c1d2e-3b4a-4c5d-8e9f-0a1b2c3d4e5f");
    let ns = "xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\"";
    let entry =
        |key: &str, value: &str| format!("<entry><key>{key}</key><value>{value}</value></entry>");
    let attributes = [
        entry("TopicArn", topic),
        entry("Protocol", "email"),
        entry("Endpoint", "oncall@example.com"),
        entry("SubscriptionArn", &arn),
        entry("PendingConfirmation", "true"),
    ]
    .concat();
    let replay = StaticReplayClient::new(vec![
        event(sns_response(
            200,
            &format!(
                "<SubscribeResponse {ns}><SubscribeResult><SubscriptionArn>{arn}</SubscriptionArn>\
             </SubscribeResult></SubscribeResponse>"
            ),
        )),
        event(sns_response(
            200,
            &format!(
                "<GetSubscriptionAttributesResponse {ns}><GetSubscriptionAttributesResult>\
             <Attributes>{attributes}</Attributes></GetSubscriptionAttributesResult>\
             </GetSubscriptionAttributesResponse>"
            ),
        )),
        event(sns_response(
            400,
            &format!(
                "<ErrorResponse {ns}><Error><Type>Sender</Type><Code>InvalidParameter</Code>\
             <Message>Invalid parameter: Cannot unsubscribe a subscription that is pending \
             confirmation</Message></Error><RequestId>r</RequestId></ErrorResponse>"
            ),
        )),
    ]);
    let aws = clients(&replay).await;
    let Value::Object(fields) =
        json!({"topic_arn": topic, "protocol": "email", "endpoint": "oncall@example.com"})
    else {
        unreachable!("a JSON object literal")
    };
    let desired = Desired {
        address: "sns_topic_subscription.oncall".into(),
        kind: "sns_topic_subscription".into(),
        name: "oncall".into(),
        fields,
        tags: Default::default(),
        depends_on: Vec::new(),
    };
    let subscriptions = kind("sns_topic_subscription");
    let created = subscriptions
        .create(&aws, &desired)
        .await
        .expect("subscribed");
    assert_eq!(created.id, arn);
    assert_eq!(
        created.outputs.get("pending_confirmation"),
        Some(&json!(true))
    );
    assert!(
        subscriptions.diff(&desired, &created).is_empty(),
        "{created:#?}"
    );
    subscriptions
        .delete(&aws, &arn, &Fields::new())
        .await
        .expect("a pending subscription counts as gone");
    let subscribe = replay.actual_requests().next().expect("Subscribe was sent");
    let form = std::str::from_utf8(subscribe.body().bytes().expect("a buffered body"))
        .expect("a form body")
        .to_string();
    assert!(form.contains("ReturnSubscriptionArn=true"), "{form}");
    assert_eq!(replay.actual_requests().count(), 3);
}
