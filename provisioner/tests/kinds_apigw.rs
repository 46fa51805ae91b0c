//! The API Gateway v2 kinds against the emulator: API, integration, route, stage.

use crate::kinds_support;

use kinds_support::{
    assert_absent, assert_converged, clients, delete_parent, delete_twice, desired,
    found_again_then_life_cycle, kind, life_cycle, output, tags,
};
use provisioner::aws::AwsClients;
use provisioner::resource::Fields;
use serde_json::{Value, json};

fn http_api(name: &str) -> provisioner::resource::Desired {
    desired(
        "apigw_api",
        name,
        json!({
            "protocol_type": "HTTP",
            "cors": {
                // Deliberately unsorted: the kind sorts before comparing.
                "allow_origins": ["*"],
                "allow_methods": ["PUT", "GET", "POST", "PATCH", "OPTIONS"],
                "allow_headers": ["Content-Type", "Authorization"],
                "max_age": 300
            }
        }),
        tags(&[]),
    )
}

async fn an_api(aws: &AwsClients) -> String {
    kind("apigw_api")
        .create(aws, &http_api(&testkit::unique_name("kinds-api")))
        .await
        .expect("create api")
        .id
}

fn function_arn(name: &str) -> String {
    format!("arn:aws:lambda:us-east-1:123456789012:function:{name}")
}

#[tokio::test]
async fn apigw_api_life_cycle() {
    let aws = clients().await;
    let name = testkit::unique_name("kinds-api");
    let after = life_cycle(
        &aws,
        http_api(&name),
        |d| {
            d.fields.insert(
                "cors".into(),
                json!({
                    "allow_origins": ["https://example.com"],
                    "allow_methods": ["GET", "OPTIONS"],
                    "allow_headers": ["Content-Type"],
                    "max_age": 600
                }),
            );
            d.tags.insert("owner".into(), "kinds".into());
        },
        &["cors", "tags"],
    )
    .await;
    let id = output(&after, "id").unwrap_or_default();
    let execution_arn = output(&after, "execution_arn");
    assert!(
        execution_arn
            .is_some_and(|a| a.starts_with("arn:aws:execute-api:us-east-1:") && a.ends_with(id)),
        "{after:#?}"
    );
}

#[tokio::test]
async fn apigw_api_is_found_again_by_name_and_our_tags_only() {
    let aws = clients().await;
    let name = testkit::unique_name("kinds-api");
    let declared = http_api(&name);
    // A same-named API that is not ours (no stack tags) must never be adopted.
    let foreign = aws
        .apigw
        .create_api()
        .name(&name)
        .protocol_type(aws_sdk_apigatewayv2::types::ProtocolType::Http)
        .send()
        .await
        .expect("foreign api");
    assert!(
        kind("apigw_api")
            .find_existing(&aws, &declared)
            .await
            .expect("find")
            .is_none()
    );

    let created = kind("apigw_api")
        .create(&aws, &declared)
        .await
        .expect("create");
    let found = kind("apigw_api")
        .find_existing(&aws, &declared)
        .await
        .expect("find")
        .expect("found");
    assert_eq!(found.id, created.id);
    assert_ne!(Some(found.id.as_str()), foreign.api_id());
    kind("apigw_api")
        .delete(&aws, &created.id, &Fields::new())
        .await
        .expect("delete");
    kind("apigw_api")
        .delete(&aws, foreign.api_id().unwrap_or_default(), &Fields::new())
        .await
        .expect("delete foreign");
}

/// An API child of `kind_name` (named `name`, with `fields` given the API's id) in a new API:
/// found again by its declaration, then its life cycle with `field` changed to `value`; the API
/// is deleted after.
async fn api_child_life_cycle(
    kind_name: &str,
    name: &str,
    fields: impl FnOnce(&str) -> Value,
    field: &str,
    value: Value,
) {
    let aws = clients().await;
    let api_id = an_api(&aws).await;
    let declared = desired(kind_name, name, fields(&api_id), tags(&[]));
    found_again_then_life_cycle(kind(kind_name), &aws, declared, field, value).await;
    delete_parent("apigw_api", &aws, &api_id).await;
}

#[tokio::test]
async fn apigw_integration_life_cycle_and_find_existing() {
    api_child_life_cycle(
        "apigw_integration",
        "lambda",
        |api_id| {
            json!({
                "api_id": api_id,
                "integration_type": "AWS_PROXY",
                "integration_uri": function_arn("kinds-fn"),
                "payload_format_version": "2.0",
                "timeout_ms": 29000
            })
        },
        "timeout_ms",
        json!(10000),
    )
    .await;
}

#[tokio::test]
async fn apigw_route_life_cycle_and_find_existing() {
    api_child_life_cycle(
        "apigw_route",
        "post_tables",
        |api_id| json!({"api_id": api_id, "route_key": "POST /tables", "target": "integrations/abc123"}),
        "route_key",
        json!("GET /tables"),
    )
    .await;
}

#[tokio::test]
async fn apigw_stage_create_read_delete() {
    let aws = clients().await;
    let api_id = an_api(&aws).await;
    let stage = kind("apigw_stage");
    let declared = desired(
        "apigw_stage",
        "dev",
        json!({"api_id": api_id, "auto_deploy": true}),
        tags(&[]),
    );
    let created = stage.create(&aws, &declared).await.expect("create");
    assert_eq!(created.id, "dev");
    let read = assert_converged(stage, &aws, &declared, "dev").await;
    let url = output(&read, "invoke_url").unwrap_or_default();
    assert!(
        url.starts_with(&format!("https://{api_id}.execute-api.")) && url.ends_with("/dev"),
        "{url}"
    );
    // UpdateStage is not implemented by the emulator (see the module docs), so only the diff is
    // checked here.
    let mut changed = declared.clone();
    changed.fields.insert("auto_deploy".into(), json!(false));
    let diff = stage.diff(&changed, &read);
    assert_eq!(diff.len(), 1);
    assert!(!diff[0].forces_replacement);

    delete_twice(stage, &aws, "dev", &declared.fields).await;
    delete_parent("apigw_api", &aws, &api_id).await;
}

#[tokio::test]
async fn apigw_children_of_a_deleted_api_read_as_absent() {
    let aws = clients().await;
    let api_id = an_api(&aws).await;
    delete_parent("apigw_api", &aws, &api_id).await;
    assert_absent(kind("apigw_api"), &aws, &api_id, &Fields::new()).await;
    let recorded: Fields = json!({"api_id": api_id})
        .as_object()
        .cloned()
        .unwrap_or_default();
    assert_absent(kind("apigw_route"), &aws, "nope", &recorded).await;
    assert_absent(kind("apigw_integration"), &aws, "nope", &recorded).await;
    assert_absent(kind("apigw_stage"), &aws, "dev", &recorded).await;
}

/// A refresh reads an API's routes from one listing: each route found as `read` finds it, one
/// deleted outside the provisioner absent, and the routes of a deleted API absent too, each
/// answer in the order asked.
#[tokio::test]
async fn apigw_routes_are_read_together_from_their_api_listing() {
    let aws = clients().await;
    let route = kind("apigw_route");
    let api_id = an_api(&aws).await;
    let mut made = Vec::new();
    for key in ["GET /a", "POST /a", "GET /b/{id}"] {
        let fields = json!({"api_id": api_id, "route_key": key, "target": "integrations/abc123"});
        let declared = desired("apigw_route", "r", fields, tags(&[]));
        made.push(route.create(&aws, &declared).await.expect("create route"));
    }
    let recorded = |observed: &provisioner::resource::Observed| observed.fields.clone();
    let gone = made.pop().expect("three routes");
    route
        .delete(&aws, &gone.id, &recorded(&gone))
        .await
        .expect("delete one route");
    let asked: Vec<(String, Fields)> = [&made[1], &gone, &made[0]]
        .iter()
        .map(|o| (o.id.clone(), recorded(o)))
        .collect();
    let answers = route.read_many(&aws, &asked).await;
    let found: Vec<Option<String>> = answers
        .into_iter()
        .map(|answer| answer.expect("a listing read").map(|o| o.id))
        .collect();
    assert_eq!(
        found,
        [Some(made[1].id.clone()), None, Some(made[0].id.clone())]
    );
    for (observed, (id, fields)) in made.iter().rev().zip(asked.iter().step_by(2)) {
        let one = route
            .read(&aws, id, fields)
            .await
            .expect("read")
            .expect("found");
        assert_eq!(&one, observed, "the listing and `read` see {id} alike");
    }

    delete_parent("apigw_api", &aws, &api_id).await;
    let answers = route.read_many(&aws, &asked).await;
    assert!(
        answers.iter().all(|answer| matches!(answer, Ok(None))),
        "routes of a deleted API are absent: {answers:?}"
    );
}
