//! Unit tests of `terraform`.

use super::*;

const BASIC: &str = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole";
const ROLE_ARN: &str = "arn:aws:iam::1:role/pg-dev-lambda-role";
const FN_ARN: &str = "arn:aws:lambda:us-east-1:1:function:pg-dev-api";
const POLICY_ARN: &str = "arn:aws:iam::1:policy/pg-dev-ddb-rw";

fn resource(kind: &str, name: &str, attributes: Value) -> Value {
    serde_json::json!({"mode": "managed", "type": kind, "name": name, "provider": "p",
        "instances": [{"attributes": attributes}]})
}

/// The original configuration's resources (shape of infra/main.tf at 24c4efb), plus an
/// unrelated role and table in the same state.
fn original() -> Vec<Value> {
    use serde_json::json;
    vec![
        resource(
            "aws_dynamodb_table",
            "playground",
            json!({"name": "PlaygroundScores"}),
        ),
        resource("aws_dynamodb_table", "other", json!({"name": "Unrelated"})),
        resource(
            "aws_iam_role",
            "other_role",
            json!({"name": "pg-dev-other", "arn": "arn:aws:iam::1:role/pg-dev-other"}),
        ),
        resource(
            "aws_iam_role",
            "lambda_exec_role",
            json!({"name": "pg-dev-lambda-role", "arn": ROLE_ARN}),
        ),
        resource(
            "aws_iam_role_policy_attachment",
            "attach_ddb_rw",
            json!({"role": "pg-dev-lambda-role", "policy_arn": POLICY_ARN}),
        ),
        resource(
            "aws_iam_role_policy_attachment",
            "lambda_logs",
            json!({"role": "pg-dev-lambda-role", "policy_arn": BASIC}),
        ),
        resource(
            "aws_iam_policy",
            "ddb_rw",
            json!({"name": "pg-dev-ddb-rw", "arn": POLICY_ARN}),
        ),
        resource(
            "aws_lambda_function",
            "api",
            json!({"function_name": "pg-dev-api", "arn": FN_ARN,
            "role": ROLE_ARN, "layers": [],
            "environment": [{"variables": {"TABLE_NAME": "PlaygroundScores"}}]}),
        ),
        resource("aws_apigatewayv2_api", "http_api", json!({"id": "a1"})),
        resource(
            "aws_apigatewayv2_integration",
            "lambda_proxy",
            json!({"id": "i1", "api_id": "a1",
            "integration_uri": format!("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{FN_ARN}/invocations")}),
        ),
        resource(
            "aws_apigatewayv2_route",
            "route_list_tables",
            json!({"id": "r1", "api_id": "a1", "route_key": "GET /tables"}),
        ),
        resource(
            "aws_apigatewayv2_route",
            "odd",
            json!({"id": "r2", "api_id": "a1", "route_key": "GET /odd"}),
        ),
        resource(
            "aws_apigatewayv2_stage",
            "stage",
            json!({"name": "dev", "api_id": "a1"}),
        ),
        resource(
            "aws_lambda_permission",
            "allow_invoke",
            json!({"statement_id": "AllowInvokeFromHttpApi",
            "function_name": "pg-dev-api", "principal": "apigateway.amazonaws.com"}),
        ),
        json!({"mode": "data", "type": "archive_file", "name": "lambda_zip", "provider": "p",
            "instances": [{"attributes": {"output_path": "x"}}]}),
    ]
}

fn state(resources: Vec<Value>) -> TerraformState {
    let text = serde_json::json!({"version": 4, "terraform_version": "1.11.4", "serial": 7,
        "lineage": "abc", "resources": resources});
    parse("sample", text.to_string().as_bytes()).unwrap()
}

fn declared() -> Vec<Desired> {
    [
        ("iam_role.lambda", "pg-dev-lambda"),
        ("iam_role_policy_attachment.basic_execution", "x"),
        ("iam_role_policy.dynamodb", "pg-dev-dynamodb"),
        ("dynamodb_table.playground", "PlaygroundScores"),
        ("lambda_function.api", "pg-dev-api"),
        ("apigw_api.http", "pg-dev-http-api"),
        ("apigw_integration.lambda", "x"),
        ("apigw_route.get_tables", "GET /tables"),
        ("apigw_stage.main", "dev"),
        ("lambda_permission.apigw", "AllowApiGatewayInvoke"),
    ]
    .iter()
    .map(|(address, name)| Desired {
        address: address.to_string(),
        kind: address.split('.').next().unwrap().to_string(),
        name: name.to_string(),
        fields: Default::default(),
        tags: Default::default(),
        depends_on: vec![],
    })
    .collect()
}

fn by_terraform(mappings: &[Mapping]) -> std::collections::BTreeMap<&str, &Mapping> {
    mappings
        .iter()
        .map(|m| (m.terraform_address.as_str(), m))
        .collect()
}

fn address_of<'a>(m: &std::collections::BTreeMap<&str, &'a Mapping>, tf: &str) -> Option<&'a str> {
    m[tf].address.as_deref()
}

#[test]
fn the_original_maps_by_identity_whatever_the_order() {
    let mut resources = original();
    for round in 0..2 {
        let mappings = map_resources(&state(resources.clone()), &declared());
        assert_eq!(mappings.len(), 14, "data sources are skipped: {mappings:?}");
        let m = by_terraform(&mappings);
        assert_eq!(
            address_of(&m, "aws_iam_role.lambda_exec_role"),
            Some("iam_role.lambda"),
            "round {round}"
        );
        assert_eq!(
            m["aws_iam_role.lambda_exec_role"].id.as_deref(),
            Some("pg-dev-lambda-role")
        );
        assert_eq!(address_of(&m, "aws_iam_role.other_role"), None);
        assert_eq!(
            address_of(&m, "aws_iam_role_policy_attachment.lambda_logs"),
            Some("iam_role_policy_attachment.basic_execution"),
            "the basic execution attachment maps by its policy ARN"
        );
        let ddb = m["aws_iam_role_policy_attachment.attach_ddb_rw"];
        assert_eq!(
            ddb.address.as_deref(),
            Some("iam_role_policy_attachment.attach_ddb_rw")
        );
        assert_eq!(
            ddb.id.as_deref(),
            Some(format!("pg-dev-lambda-role/{POLICY_ARN}").as_str())
        );
        assert!(ddb.is_removal());
        assert_eq!(ddb.depends_on, ["iam_role.lambda", "iam_policy.ddb_rw"]);
        let policy = m["aws_iam_policy.ddb_rw"];
        assert_eq!(policy.address.as_deref(), Some("iam_policy.ddb_rw"));
        assert_eq!(policy.id.as_deref(), Some(POLICY_ARN));
        assert!(policy.is_removal());
        assert_eq!(
            address_of(&m, "aws_dynamodb_table.playground"),
            Some("dynamodb_table.playground")
        );
        assert_eq!(address_of(&m, "aws_dynamodb_table.other"), None);
        assert_eq!(
            address_of(&m, "aws_apigatewayv2_route.route_list_tables"),
            Some("apigw_route.get_tables")
        );
        assert!(
            m["aws_apigatewayv2_route.odd"]
                .note
                .as_ref()
                .unwrap()
                .contains("GET /odd")
        );
        assert_eq!(
            address_of(&m, "aws_apigatewayv2_integration.lambda_proxy"),
            Some("apigw_integration.lambda")
        );
        assert_eq!(
            address_of(&m, "aws_apigatewayv2_stage.stage"),
            Some("apigw_stage.main")
        );
        // The original's permission is on the function, the stack's on the alias: taken over
        // to be removed once the integration invokes the alias, read by its function.
        let permission = m["aws_lambda_permission.allow_invoke"];
        assert_eq!(
            permission.address.as_deref(),
            Some("lambda_permission.allow_invoke")
        );
        assert_eq!(permission.id.as_deref(), Some("AllowInvokeFromHttpApi"));
        assert!(permission.is_removal());
        assert_eq!(permission.depends_on, ["lambda_function.api"]);
        assert!(permission.recorded["function_name"].is_string());
        resources.reverse();
    }
}

#[test]
fn two_candidates_for_one_address_adopt_neither() {
    let mut resources = original();
    resources.push(resource(
        "aws_apigatewayv2_stage",
        "second",
        serde_json::json!({"name": "dev", "api_id": "a1"}),
    ));
    let mappings = map_resources(&state(resources), &declared());
    let m = by_terraform(&mappings);
    for tf in [
        "aws_apigatewayv2_stage.stage",
        "aws_apigatewayv2_stage.second",
    ] {
        assert_eq!(m[tf].address, None, "{tf}");
        assert!(
            m[tf].note.as_ref().unwrap().contains("none was adopted"),
            "{tf}"
        );
    }
}

#[test]
fn an_undeclared_layer_is_left_unmanaged() {
    let mut resources = original();
    let layer = "arn:aws:lambda:us-east-1:1:layer:l:3";
    resources.push(resource(
        "aws_lambda_layer_version",
        "extra",
        serde_json::json!({"arn": layer}),
    ));
    resources[7]["instances"][0]["attributes"]["layers"] = serde_json::json!([layer]);
    let mappings = map_resources(&state(resources), &declared());
    let m = by_terraform(&mappings);
    assert!(
        m["aws_lambda_layer_version.extra"]
            .note
            .as_ref()
            .unwrap()
            .contains("layer_zip")
    );
}

#[test]
fn other_formats_are_refused_with_a_way_forward() {
    let e = parse("old.tfstate", br#"{"version": 3}"#).unwrap_err();
    assert!(e.to_string().contains("version 3"));
    let e = parse("x.json", b"not json").unwrap_err();
    assert!(e.to_string().contains("terraform state pull"));
}
