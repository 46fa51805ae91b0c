//! `[auth]`, `allow_table_delete` and the load limits applied to the emulator: what API Gateway
//! and Lambda hold afterwards, the empty plan that follows, and turning them off again (the
//! authorizer deleted only after no route uses it, the limits removed, not left behind).

use crate::common;

use std::collections::{BTreeMap, HashMap};

use aws_sdk_apigatewayv2::operation::get_stage::GetStageOutput;
use aws_sdk_apigatewayv2::types::Authorizer;
use common::{Aws, Fixture};

const SECURED: &str = "[env.dev.auth]\nenabled = true\nissuer = \"https://issuer.example.com\"\n\
audience = [\"playground-app\"]\nadmin_group = \"admins\"\n\
[env.dev.api]\nallow_table_delete = true\nthrottle_rate_limit = 50.0\nthrottle_burst_limit = 100\n\
write_throttle_rate_limit = 5.0\nwrite_throttle_burst_limit = 10\n\
[env.dev.lambda]\nreserved_concurrency = 7\n";

/// The API's authorizers.
async fn authorizers(aws: &Aws, api: &str) -> Vec<Authorizer> {
    let listed = aws
        .apigw
        .get_authorizers()
        .api_id(api)
        .send()
        .await
        .unwrap();
    listed.items().to_vec()
}

/// The stack's one authorizer: its issuer and its id.
async fn the_authorizer(aws: &Aws, api: &str) -> (String, String) {
    let all = authorizers(aws, api).await;
    let [authorizer] = all.as_slice() else {
        panic!("one authorizer: {all:?}");
    };
    let issuer = authorizer.jwt_configuration().and_then(|j| j.issuer());
    let id = authorizer.authorizer_id().unwrap();
    (issuer.unwrap_or_default().to_string(), id.to_string())
}

/// The `dev` stage as API Gateway holds it.
async fn stage(aws: &Aws, api: &str) -> GetStageOutput {
    let call = aws.apigw.get_stage().api_id(api).stage_name("dev");
    call.send().await.unwrap()
}

/// The function's reserved concurrency and environment.
async fn function(aws: &Aws, f: &Fixture) -> (Option<i32>, HashMap<String, String>) {
    let call = aws.lambda.get_function().function_name(f.function_name());
    let function = call.send().await.unwrap();
    let reserved = function
        .concurrency()
        .and_then(|c| c.reserved_concurrent_executions());
    let configuration = function.configuration().unwrap();
    let variables = configuration.environment().and_then(|e| e.variables());
    (reserved, variables.cloned().unwrap_or_default())
}

/// Each deployed route key with its authorization type and authorizer id.
async fn route_guards(aws: &Aws, api: &str) -> BTreeMap<String, (String, Option<String>)> {
    let routes = aws.apigw.get_routes().api_id(api).send().await.unwrap();
    routes
        .items()
        .iter()
        .map(|r| {
            let kind = r.authorization_type().map_or("NONE", |t| t.as_str());
            let authorizer = r.authorizer_id().filter(|a| !a.is_empty());
            (
                r.route_key().unwrap().to_string(),
                (kind.to_string(), authorizer.map(str::to_string)),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn auth_and_limits_are_applied_and_removed_cleanly() {
    // On the backend deploys use: S3 state under its DynamoDB lock.
    let (f, aws) = Fixture::on_s3("").applied().await;
    let api = aws.api_ids(&f.api_name()).await.remove(0);
    assert!(
        !aws.route_keys(&api)
            .await
            .contains(&"DELETE /tables/{tableId}".to_string()),
        "the delete route is not deployed by default"
    );

    f.write_stack(SECURED);
    f.plan_shows(&[
        "+ apigw_authorizer.jwt",
        "+ apigw_route.delete_table",
        "~ apigw_route.post_tables",
        "~ apigw_stage.main",
        "~ lambda_function.api",
    ]);
    f.apply();

    let (issuer, id) = the_authorizer(&aws, &api).await;
    assert_eq!(issuer, "https://issuer.example.com");
    let all = authorizers(&aws, &api).await;
    let audience = all[0].jwt_configuration().map(|j| j.audience().to_vec());
    assert_eq!(audience, Some(vec!["playground-app".to_string()]));
    let guards = route_guards(&aws, &api).await;
    let guarded = ("JWT".to_string(), Some(id));
    let open = ("NONE".to_string(), None);
    let writes = [
        "POST /tables",
        "PATCH /tables/{tableId}",
        "PUT /tables/{tableId}/users/{username}",
        "DELETE /tables/{tableId}",
    ];
    let reads = [
        "GET /tables",
        "GET /tables/{tableId}",
        "GET /health",
        "GET /openapi.json",
    ];
    let expected = writes.map(|key| (key, &guarded)).into_iter();
    for (key, guard) in expected.chain(reads.map(|key| (key, &open))) {
        assert_eq!(&guards[key], guard, "{key}");
    }

    let stage_now = stage(&aws, &api).await;
    let default = stage_now.default_route_settings().unwrap();
    assert_eq!(default.throttling_rate_limit(), Some(50.0));
    assert_eq!(default.throttling_burst_limit(), Some(100));
    let per_route = stage_now.route_settings().unwrap();
    assert_eq!(per_route.len(), 4, "{per_route:?}");
    assert_eq!(per_route["POST /tables"].throttling_burst_limit(), Some(10));

    let (reserved, variables) = function(&aws, &f).await;
    assert_eq!(reserved, Some(7));
    assert_eq!(variables["AUTH_ENABLED"], "true");
    assert_eq!(variables["AUTH_ADMIN_GROUP"], "admins");
    assert_eq!(f.plan().0, 0, "converged");

    // Off again: every route open, the authorizer and the limits gone, nothing left over.
    f.write_stack("");
    f.plan_shows(&["- apigw_authorizer.jwt", "- apigw_route.delete_table"]);
    f.apply();
    assert!(authorizers(&aws, &api).await.is_empty());
    assert!(route_guards(&aws, &api).await.values().all(|g| *g == open));
    let stage_now = stage(&aws, &api).await;
    let per_route = stage_now.route_settings();
    assert!(per_route.is_none_or(|r| r.is_empty()), "{stage_now:?}");
    let (reserved, variables) = function(&aws, &f).await;
    assert_eq!(reserved, None);
    assert!(!variables.contains_key("AUTH_ENABLED"), "{variables:?}");
    assert_eq!(f.plan().0, 0, "converged");

    aws.destroy_to_nothing(&f).await;
}

/// An authorizer whose create was not recorded (a crash right after CreateAuthorizer) is found
/// by name and adopted, not made twice.
#[tokio::test(flavor = "multi_thread")]
async fn a_lost_authorizer_is_adopted_not_duplicated() {
    let (f, aws) = Fixture::new("").applied().await;
    let api = aws.api_ids(&f.api_name()).await.remove(0);
    aws.apigw
        .create_authorizer()
        .api_id(&api)
        .name(format!("{}-jwt", f.api_name()))
        .authorizer_type(aws_sdk_apigatewayv2::types::AuthorizerType::Jwt)
        .identity_source("$request.header.Authorization")
        .jwt_configuration(
            aws_sdk_apigatewayv2::types::JwtConfiguration::builder()
                .issuer("https://old.example.com")
                .audience("playground-app")
                .build(),
        )
        .send()
        .await
        .unwrap();

    f.write_stack(SECURED);
    f.apply();
    let (issuer, _) = the_authorizer(&aws, &api).await;
    let declared = "https://issuer.example.com";
    assert_eq!(issuer, declared, "brought to the declaration");
    assert_eq!(f.plan().0, 0, "converged");

    aws.destroy_to_nothing(&f).await;
}
