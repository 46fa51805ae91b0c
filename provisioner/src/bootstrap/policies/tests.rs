//! Unit tests of `policies`.

use super::*;

/// A sample stack: dev with the default table, prod with its own.
pub(crate) fn inputs() -> PolicyInputs {
    let env = |name: &str, table: &str| EnvScope {
        environment: name.into(),
        stack_name: "aimodelshare".into(),
        name_base: format!("aimodelshare-{name}"),
        region: "us-east-1".into(),
        table_name: table.into(),
        function_name: format!("aimodelshare-{name}-api"),
        function_role_name: format!("aimodelshare-{name}-lambda"),
        role_path: format!("/aimodelshare/{name}/"),
        boundary_name: format!("aimodelshare-{name}-function-boundary"),
        state_key: format!("provisioner/{name}/state.json"),
        deploy_role_name: format!("aimodelshare-github-deploy-{name}"),
        tags: BTreeMap::new(),
    };
    PolicyInputs {
        account_id: "123456789012".into(),
        repository: "octo/playground".into(),
        environments: vec![
            env("dev", "aimodelshare-dev-playground"),
            env("prod", "PlaygroundScores"),
        ],
        state_bucket: "aimodelshare-state".into(),
        lock_table: Some("aimodelshare-locks".into()),
        lock_table_region: "us-east-1".into(),
    }
}

fn all_strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| all_strings(v, out)),
        Value::Object(map) => map.values().for_each(|v| all_strings(v, out)),
        _ => {}
    }
}

#[test]
fn each_trust_policy_accepts_exactly_its_environment() {
    let inputs = inputs();
    let prod = &inputs.environments[1];
    let policy = trust_policy(&inputs, prod, &oidc_provider_arn("123456789012"));
    let statement = &policy["Statement"][0];
    assert_eq!(statement["Action"], "sts:AssumeRoleWithWebIdentity");
    let equals = &statement["Condition"]["StringEquals"];
    assert_eq!(
        equals["token.actions.githubusercontent.com:aud"],
        "sts.amazonaws.com"
    );
    assert_eq!(
        equals["token.actions.githubusercontent.com:sub"],
        "repo:octo/playground:environment:prod"
    );
    let mut strings = Vec::new();
    all_strings(&policy, &mut strings);
    assert!(
        !strings
            .iter()
            .any(|s| s.contains('*') || s.contains("ref:")),
        "{strings:?}"
    );
}

#[test]
fn the_deploy_policy_names_only_its_own_environment() {
    let inputs = inputs();
    let dev = &inputs.environments[0];
    let text = deploy_policy(&inputs, dev).to_string();
    assert!(
        !text.contains("prod") && !text.contains("PlaygroundScores"),
        "{text}"
    );
    assert!(text.contains("aimodelshare-state/provisioner/dev/state.json"));
    for action in [
        "s3:PutBucketVersioning",
        "s3:DeleteObjectVersion",
        "s3:PutBucketPublicAccessBlock",
    ] {
        assert!(!text.contains(action), "{action}");
    }
    let policy = deploy_policy(&inputs, dev);
    for statement in policy["Statement"].as_array().unwrap() {
        if statement["Effect"] == "Allow" {
            let mut actions = Vec::new();
            all_strings(&statement["Action"], &mut actions);
            assert!(
                !actions
                    .iter()
                    .any(|a| a.contains('*') || a == "iam:UpdateAssumeRolePolicy"),
                "{statement}"
            );
        }
    }
}

#[test]
fn the_policies_fit_iams_size_limits() {
    let inputs = inputs();
    for env in &inputs.environments {
        let size = |v: Value| v.to_string().chars().filter(|c| !c.is_whitespace()).count();
        assert!(
            size(deploy_policy(&inputs, env)) < 10_240,
            "inline policy limit"
        );
        assert!(
            size(boundary_policy(&inputs, env)) < 6_144,
            "managed policy limit"
        );
    }
}

#[test]
fn no_lock_table_means_no_lock_statements() {
    let mut i = inputs();
    i.lock_table = None;
    let policy = deploy_policy(&i, &i.environments[0]);
    assert!(!policy.to_string().contains("StateLockItem"));
}

/// The inputs with one more environment, named as bootstrap names them.
fn with_environment(environment: &str, table: &str) -> PolicyInputs {
    let mut all = inputs();
    let mut env = all.environments[0].clone();
    env.environment = environment.into();
    env.name_base = format!("aimodelshare-{environment}");
    env.table_name = table.into();
    env.deploy_role_name = format!("aimodelshare-github-deploy-{environment}");
    all.environments.push(env);
    all
}

#[test]
fn colliding_names_are_refused() {
    assert_eq!(check_names(&inputs()), Ok(()));

    // An environment named `github` owns `aimodelshare-github-*`: the deploy roles too.
    let github = with_environment("github", "t-github");
    let error = check_names(&github).unwrap_err();
    assert!(error.contains("aimodelshare-github-"), "{error}");

    // dev's names `aimodelshare-dev-*` would cover an environment `dev-2`.
    let nested = with_environment("dev-2", "t2");
    assert!(check_names(&nested).unwrap_err().contains("share names"));

    // A role name inside an environment's names, one role for two, a bad name.
    for (role, why) in [
        ("aimodelshare-prod-lambda", "starts with"),
        ("aimodelshare-github-deploy-prod", "share the deploy role"),
        ("bad/name", "not a valid IAM role name"),
    ] {
        let mut i = inputs();
        i.environments[0].deploy_role_name = role.into();
        let error = check_names(&i).unwrap_err();
        assert!(error.contains(why), "{role}: {error}");
    }

    let mut shared_table = inputs();
    shared_table.environments[1].table_name = "aimodelshare-dev-playground".into();
    assert!(
        check_names(&shared_table)
            .unwrap_err()
            .contains("same table")
    );
}

#[test]
fn the_bucket_policy_merge_keeps_other_statements_and_is_idempotent() {
    let merged = merge_bucket_policy(None, "b").unwrap();
    assert_eq!(merged["Statement"].as_array().unwrap().len(), 1);
    assert_eq!(
        merged["Statement"][0]["Condition"]["Bool"]["aws:SecureTransport"],
        "false"
    );
    assert!(
        merge_bucket_policy(Some(&merged), "b").is_none(),
        "no change twice"
    );

    let other = json!({"Version": "2012-10-17", "Statement": {"Sid": "Other", "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::1:root"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}});
    let merged = merge_bucket_policy(Some(&other), "b").unwrap();
    let sids: Vec<&str> = merged["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["Sid"].as_str().unwrap())
        .collect();
    assert_eq!(sids, ["Other", DENY_INSECURE_TRANSPORT_SID]);

    // AWS's rewriting (reordered lists) is not a change.
    let mut rewritten = merge_bucket_policy(None, "b").unwrap();
    rewritten["Statement"][0]["Resource"] = json!(["arn:aws:s3:::b/*", "arn:aws:s3:::b"]);
    assert!(merge_bucket_policy(Some(&rewritten), "b").is_none());
}
