//! One module per AWS resource kind, and the registry the engine looks kinds up in.
//!
//! The stack (`desired.rs`) declares these kinds, addresses and fields; each module owns the
//! AWS calls and the normalisation of what AWS reports into exactly these shapes. A field value
//! `{"$ref": "<address>.<output>"}` in a declaration is resolved by the engine before a kind
//! sees it (at plan time an unresolved one prints as `(known after apply)`).
//!
//! The table of kinds (addresses, ids, declared fields, what forces a replacement, Terraform
//! types and import ids) is read off this registry into docs/provisioner.md
//! ([`markdown_table`]; a test keeps it current).
//!
//! "Not compared" fields (like `zip_path`) are carried for create/update only: a kind lists
//! them in [`About::not_compared`](typed::About::not_compared) and never records them.
//!
//! The engine finds a kind by name through [`lookup`] (or walks [`all`]) and never names one.
//! Each kind file follows terraform-provider-aws' order: CRUD, `find_*` (not-found becomes
//! `None`), waits, retry predicates. A kind is written as a [`typed::Kind`] (see there) and
//! registered as `&Typed::<K>::NEW`. Helpers keep the kinds uniform: [`errors`] maps every SDK
//! error into [`ResourceError::Aws`](crate::resource::ResourceError) with AWS's code and message
//! (and decides not-found), [`tags`] brings tags to the declared ones with each service's
//! calls, and [`fields`] parses what AWS reports that needs it (percent-encoded policies) and
//! reads a parent's id from a recorded object.

pub mod about;
pub mod apigw_api;
pub mod apigw_authorizer;
pub mod apigw_integration;
pub mod apigw_pages;
pub mod apigw_route;
pub mod apigw_stage;
pub mod cloudwatch_dashboard;
pub mod cloudwatch_metric_alarm;
pub mod dynamodb_table;
pub mod early_read;
pub mod errors;
pub mod fields;
pub mod iam_policy;
pub mod iam_role;
pub mod iam_role_policy;
pub mod iam_role_policy_attachment;
pub mod lambda_alias;
pub mod lambda_function;
pub mod lambda_layer_version;
pub mod lambda_permission;
pub mod lambda_rollout;
pub mod lambda_versions;
pub mod log_group;
pub mod sns_topic;
pub mod sns_topic_subscription;
pub mod spec_fields;
pub mod tag_index;
pub mod tags;
pub mod typed;

use crate::resource::ResourceKind;
use typed::Typed;

/// Every kind the provisioner knows, in the order of the table above.
static ALL: &[&dyn ResourceKind] = &[
    &Typed::<iam_role::IamRole>::NEW,
    &Typed::<iam_role_policy_attachment::IamRolePolicyAttachment>::NEW,
    &Typed::<iam_role_policy::IamRolePolicy>::NEW,
    &Typed::<dynamodb_table::DynamodbTable>::NEW,
    &Typed::<log_group::LogGroup>::NEW,
    &Typed::<lambda_layer_version::LambdaLayerVersion>::NEW,
    &Typed::<lambda_function::LambdaFunction>::NEW,
    &Typed::<lambda_alias::LambdaAlias>::NEW,
    &Typed::<apigw_api::ApigwApi>::NEW,
    &Typed::<apigw_integration::ApigwIntegration>::NEW,
    &Typed::<apigw_authorizer::ApigwAuthorizer>::NEW,
    &Typed::<apigw_route::ApigwRoute>::NEW,
    &Typed::<apigw_stage::ApigwStage>::NEW,
    &Typed::<lambda_permission::LambdaPermission>::NEW,
    &Typed::<iam_policy::IamPolicy>::NEW,
    &Typed::<sns_topic::SnsTopic>::NEW,
    &Typed::<sns_topic_subscription::SnsTopicSubscription>::NEW,
    &Typed::<cloudwatch_metric_alarm::CloudwatchMetricAlarm>::NEW,
    &Typed::<cloudwatch_dashboard::CloudwatchDashboard>::NEW,
];

/// Every kind the provisioner knows.
pub fn all() -> &'static [&'static dyn ResourceKind] {
    ALL
}

/// The kinds as a Markdown table, read off the registry (docs/provisioner.md holds it): each
/// kind's addresses in `desired`, its id, declared fields, what forces a replacement, and what
/// `migrate` and `import` know of it.
pub fn markdown_table(desired: &[crate::resource::Desired]) -> String {
    let code = |items: &[&str]| {
        items
            .iter()
            .map(|i| format!("`{i}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut table = String::from(
        "| kind | addresses | id | declared fields | forces replacement | Terraform type | `import` id |\n\
         |---|---|---|---|---|---|---|\n",
    );
    for kind in ALL {
        let addresses: Vec<&str> = desired
            .iter()
            .filter(|d| d.kind == kind.kind())
            .map(|d| d.address.as_str())
            .collect();
        let addresses = if addresses.is_empty() {
            "not declared (only `migrate` records one, for the plan to delete)".to_string()
        } else {
            code(&addresses)
        };
        let (id, mut forcing) = if kind.aws_assigns_id() {
            ("assigned by AWS", Vec::new())
        } else {
            ("declared", vec!["name"])
        };
        forcing.extend(kind.replace_on());
        let about = kind.about();
        table.push_str(&format!(
            "| `{}` | {addresses} | {id} | {} | {} | `{}` | {} |\n",
            kind.kind(),
            code(kind.declared_fields()),
            code(&forcing),
            about.terraform_type,
            about.import_id,
        ));
    }
    table
}

/// The kind named `kind` (as in addresses: `lambda_function`), if there is one.
pub fn lookup(kind: &str) -> Option<&'static dyn ResourceKind> {
    ALL.iter().copied().find(|k| k.kind() == kind)
}

/// The `dev` environment of a default stack file in account `123456789012`, for the tests of
/// the kinds' deploy statements.
#[cfg(test)]
pub(crate) fn dev_env() -> crate::bootstrap::policies::EnvScope {
    let path = std::path::Path::new("stack.toml");
    let stack =
        crate::stack::Stack::parse(path, "[env.dev]\n".to_string()).and_then(|s| s.resolve("dev"));
    match stack {
        Ok(stack) => crate::bootstrap::policies::EnvScope::of(&stack, "deploy-dev".into()),
        Err(e) => panic!("the default stack resolves: {e}"),
    }
}

/// [`dev_env`], and `K`'s deploy statements on it.
#[cfg(test)]
pub(crate) fn dev_statements<K: typed::Kind>()
-> (crate::bootstrap::policies::EnvScope, Vec<serde_json::Value>) {
    let env = dev_env();
    let scope = crate::bootstrap::policies::DeployScope {
        account_id: "123456789012",
        env: &env,
    };
    let statements = K::deploy_statements(&scope);
    (env, statements)
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::bootstrap::evaluate::{Request, evaluate};
    use crate::bootstrap::policies::{DeployScope, PolicyInputs, deploy_policy};

    fn strings(value: Option<&Value>) -> Vec<String> {
        match value {
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Every call an `Allow` statement lets through: each action on each resource (a `*`
    /// standing for one name of the environment), with the values its conditions ask for.
    fn requests(statement: &Value) -> Vec<Request> {
        let mut context = Vec::new();
        if let Some(Value::Object(operators)) = statement.get("Condition") {
            for keys in operators.values().filter_map(Value::as_object) {
                for (key, values) in keys {
                    for value in strings(Some(values)) {
                        context.push((key.clone(), value));
                    }
                }
            }
        }
        let mut out = Vec::new();
        for action in strings(statement.get("Action")) {
            for resource in strings(statement.get("Resource")) {
                let mut request = Request::new(&action, &resource.replace('*', "x"));
                for (key, value) in &context {
                    request = request.with(key, value);
                }
                out.push(request);
            }
        }
        out
    }

    /// The deploy policy is made of the kinds' statements: each call a kind asks for is granted
    /// (no deny of the policy gets in its way, the removal of a policy `migrate` adopted
    /// included), and every Sid is unique.
    #[test]
    fn the_deploy_policy_grants_what_every_kind_asks_for() {
        let env = dev_env();
        let scope = DeployScope {
            account_id: "123456789012",
            env: &env,
        };
        let inputs = PolicyInputs {
            account_id: "123456789012".into(),
            repository: "owner/repo".into(),
            environments: vec![env.clone()],
            state_bucket: "state".into(),
            lock_table: Some("locks".into()),
            lock_table_region: "us-east-1".into(),
        };
        let deploy = deploy_policy(&inputs, &env);
        let mut sids: Vec<&str> = deploy["Statement"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s["Sid"].as_str())
            .collect();
        let count = sids.len();
        sids.sort_unstable();
        sids.dedup();
        assert_eq!(sids.len(), count, "Sids are unique in one policy: {sids:?}");
        let mut checked = 0;
        for kind in all() {
            for statement in kind.deploy_statements(&scope) {
                for request in requests(&statement) {
                    assert!(
                        evaluate(std::slice::from_ref(&deploy), &request).is_allowed(),
                        "{}: {} is not granted: {request:?}",
                        kind.kind(),
                        statement["Sid"]
                    );
                    checked += 1;
                }
            }
        }
        assert!(checked > 50, "{checked}");
        let boundary = format!("arn:aws:iam::123456789012:policy/{}", env.boundary_name);
        let delete = Request::new("iam:DeletePolicy", &boundary);
        assert!(
            !evaluate(std::slice::from_ref(&deploy), &delete).is_allowed(),
            "the boundary itself stays out of reach"
        );
    }

    /// docs/provisioner.md's kind table is the registry's (`UPDATE_DOCS=1` rewrites it).
    #[test]
    fn the_docs_table_of_kinds_is_read_off_the_registry() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/provisioner.md");
        let doc = std::fs::read_to_string(&path).unwrap();
        let stack = crate::stack::Stack::parse(
            std::path::Path::new("stack.toml"),
            // Every optional part on, so the table lists every address a stack can declare.
            "[api]\nallow_table_delete = true\n[auth]\nenabled = true\n\
             issuer = \"https://issuer.example.com\"\naudience = [\"app\"]\n[env.dev]\n"
                .to_string(),
        )
        .and_then(|s| s.resolve("dev"))
        .unwrap();
        let artifact = |p: &str| crate::desired::Artifact {
            path: p.into(),
            sha256: String::new(),
        };
        let artifacts = crate::desired::Artifacts {
            function: artifact("function.zip"),
            layer: Some(artifact("layer.zip")),
        };
        let table = markdown_table(&crate::desired::desired_resources(&stack, &artifacts));
        let (start, end) = ("<!-- kinds -->\n", "<!-- /kinds -->");
        let from = doc.find(start).unwrap() + start.len();
        let to = doc.find(end).unwrap();
        if std::env::var("UPDATE_DOCS").is_ok_and(|v| v == "1") {
            std::fs::write(&path, format!("{}{table}{}", &doc[..from], &doc[to..])).unwrap();
        } else {
            assert_eq!(
                doc[from..to],
                table,
                "docs/provisioner.md's kind table is stale: run UPDATE_DOCS=1 cargo test -p \
                 provisioner --lib the_docs_table_of_kinds"
            );
        }
    }

    #[test]
    fn every_kind_is_found_by_its_own_name_and_names_are_unique() {
        for kind in all() {
            assert_eq!(lookup(kind.kind()).map(|k| k.kind()), Some(kind.kind()));
        }
        let mut names: Vec<_> = all().iter().map(|k| k.kind()).collect();
        let count = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), count, "duplicate kind names");
        assert!(lookup("no_such_kind").is_none());
    }

    #[test]
    fn every_kind_of_the_table_is_registered() {
        for (n, kind) in [
            "iam_role",
            "iam_role_policy_attachment",
            "iam_role_policy",
            "dynamodb_table",
            "log_group",
            "lambda_layer_version",
            "lambda_function",
            "lambda_alias",
            "apigw_api",
            "apigw_integration",
            "apigw_authorizer",
            "apigw_route",
            "apigw_stage",
            "lambda_permission",
            "iam_policy",
        ]
        .iter()
        .enumerate()
        {
            assert!(lookup(kind).is_some(), "{kind} is not registered");
            assert_eq!(all()[n].kind(), *kind, "the registry's order");
        }
    }
}
