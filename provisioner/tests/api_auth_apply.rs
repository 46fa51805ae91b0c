//! `[auth]`, `allow_table_delete` and the load limits applied to the emulator: what API Gateway
//! and Lambda hold afterwards, the empty plan that follows, and turning them off again (the
//! authorizer deleted only after no route uses it, the limits removed, not left behind).

mod common;

use std::collections::BTreeMap;

use common::{Aws, Fixture};

const SECURED: &str = "[env.dev.auth]\nenabled = true\nissuer = \"https://issuer.example.com\"\n\
audience = [\"playground-app\"]\nadmin_group = \"admins\"\n\
[env.dev.api]\nallow_table_delete = true\nthrottle_rate_limit = 50.0\nthrottle_burst_limit = 100\n\
write_throttle_rate_limit = 5.0\nwrite_throttle_burst_limit = 10\n\
[env.dev.lambda]\nreserved_concurrency = 7\n";

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
    let f = Fixture::new("");
    let aws = Aws::new().await;
    f.apply();
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

    let authorizers = aws
        .apigw
        .get_authorizers()
        .api_id(&api)
        .send()
        .await
        .unwrap();
    let [authorizer] = authorizers.items() else {
        panic!("one authorizer: {authorizers:?}");
    };
    let jwt = authorizer.jwt_configuration().unwrap();
    assert_eq!(jwt.issuer(), Some("https://issuer.example.com"));
    assert_eq!(jwt.audience(), ["playground-app"]);
    let id = authorizer.authorizer_id().unwrap().to_string();
    let guards = route_guards(&aws, &api).await;
    let guarded = ("JWT".to_string(), Some(id.clone()));
    let open = ("NONE".to_string(), None);
    for key in [
        "POST /tables",
        "PATCH /tables/{tableId}",
        "PUT /tables/{tableId}/users/{username}",
        "DELETE /tables/{tableId}",
    ] {
        assert_eq!(guards[key], guarded, "{key}");
    }
    for key in [
        "GET /tables",
        "GET /tables/{tableId}",
        "GET /health",
        "GET /openapi.json",
    ] {
        assert_eq!(guards[key], open, "{key}");
    }

    let stage = aws
        .apigw
        .get_stage()
        .api_id(&api)
        .stage_name("dev")
        .send()
        .await
        .unwrap();
    let default = stage.default_route_settings().unwrap();
    assert_eq!(default.throttling_rate_limit(), Some(50.0));
    assert_eq!(default.throttling_burst_limit(), Some(100));
    let per_route = stage.route_settings().unwrap();
    assert_eq!(per_route.len(), 4, "{per_route:?}");
    assert_eq!(per_route["POST /tables"].throttling_burst_limit(), Some(10));

    let function = aws
        .lambda
        .get_function()
        .function_name(f.function_name())
        .send()
        .await
        .unwrap();
    let reserved = function
        .concurrency()
        .and_then(|c| c.reserved_concurrent_executions());
    assert_eq!(reserved, Some(7));
    let variables = function
        .configuration()
        .unwrap()
        .environment()
        .unwrap()
        .variables()
        .unwrap();
    assert_eq!(variables["AUTH_ENABLED"], "true");
    assert_eq!(variables["AUTH_ADMIN_GROUP"], "admins");
    assert_eq!(f.plan().0, 0, "converged");

    // Off again: every route open, the authorizer and the limits gone, nothing left over.
    f.write_stack("");
    f.plan_shows(&["- apigw_authorizer.jwt", "- apigw_route.delete_table"]);
    f.apply();
    let authorizers = aws
        .apigw
        .get_authorizers()
        .api_id(&api)
        .send()
        .await
        .unwrap();
    assert!(authorizers.items().is_empty(), "{authorizers:?}");
    assert!(route_guards(&aws, &api).await.values().all(|g| *g == open));
    let stage = aws
        .apigw
        .get_stage()
        .api_id(&api)
        .stage_name("dev")
        .send()
        .await
        .unwrap();
    assert!(
        stage.route_settings().is_none_or(|r| r.is_empty()),
        "{stage:?}"
    );
    let function = aws
        .lambda
        .get_function()
        .function_name(f.function_name())
        .send()
        .await
        .unwrap();
    assert_eq!(
        function
            .concurrency()
            .and_then(|c| c.reserved_concurrent_executions()),
        None
    );
    assert_eq!(f.plan().0, 0, "converged");

    aws.destroy_to_nothing(&f).await;
}

/// An authorizer whose create was not recorded (a crash right after CreateAuthorizer) is found
/// by name and adopted, not made twice.
#[tokio::test(flavor = "multi_thread")]
async fn a_lost_authorizer_is_adopted_not_duplicated() {
    let f = Fixture::new("");
    let aws = Aws::new().await;
    f.apply();
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
    let authorizers = aws
        .apigw
        .get_authorizers()
        .api_id(&api)
        .send()
        .await
        .unwrap();
    let [authorizer] = authorizers.items() else {
        panic!("one authorizer: {authorizers:?}");
    };
    let issuer = authorizer.jwt_configuration().and_then(|j| j.issuer());
    assert_eq!(
        issuer,
        Some("https://issuer.example.com"),
        "brought to the declaration"
    );
    assert_eq!(f.plan().0, 0, "converged");

    aws.destroy_to_nothing(&f).await;
}
