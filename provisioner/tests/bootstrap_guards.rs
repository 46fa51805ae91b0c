//! What `provisioner bootstrap` and apply refuse: bad input (with what to do instead), roles
//! bootstrap did not make (never taken over; an earlier bootstrap's shared role is reported),
//! and a state bucket whose versioning or public access block is off (apply changes nothing on
//! it; bootstrap puts the settings back).

use crate::common;

use common::bootstrap::{Account, PRINT_POLICY, decode, versioning_enabled};
use common::kill::{APPLY, DESTROY};
use common::{refused, trust_policy};
use serde_json::json;

/// Runs `bootstrap ARGS`, asserts that it is refused and that its error says `expected`.
#[track_caller]
fn refused_saying(a: &Account, args: &[&str], expected: &str) {
    let stderr = refused(a.bootstrap_run(args), args);
    assert!(stderr.contains(expected), "{args:?}: {stderr}");
}

#[test]
fn bad_input_is_refused_with_what_to_do() {
    let a = Account::new();
    refused_saying(&a, &["--repo", "octo/*"], "owner/name");
    refused_saying(&a, &[], "--repo");

    // One role name for three environments, a role name inside an environment's names.
    refused_saying(
        &a,
        &[&PRINT_POLICY[..], &["--role-name", "deployer"]].concat(),
        "{env}",
    );
    let inside = format!("{}-prod-{{env}}", a.prefix);
    refused_saying(
        &a,
        &[&PRINT_POLICY[..], &["--role-name", &inside]].concat(),
        &format!("{}-prod-", a.prefix),
    );

    // An environment named `github` would own the deploy roles' names.
    let text = std::fs::read_to_string(a.stack()).unwrap();
    std::fs::write(a.stack(), format!("{text}\n[env.github]\n")).unwrap();
    refused_saying(&a, &PRINT_POLICY, "environment 'github'");

    std::fs::write(a.stack(), "[backend]\ntype = \"local\"\n\n[env.dev]\n").unwrap();
    refused_saying(&a, &["--repo", "octo/pg"], "--bucket");
}

/// `--role-name` naming a role bootstrap did not make (an administrator's, say) is refused and
/// that role is left exactly as it was, instead of being made to trust GitHub.
#[tokio::test(flavor = "multi_thread")]
async fn a_role_bootstrap_did_not_make_is_never_taken_over() {
    let a = Account::new();
    let iam = testkit::iam_client().await;
    let admin = format!("{}-admin", a.prefix);
    let trust = trust_policy(json!({"AWS": "arn:aws:iam::123456789012:root"}));
    iam.create_role()
        .role_name(&admin)
        .assume_role_policy_document(trust.to_string())
        .send()
        .await
        .unwrap();
    refused_saying(
        &a,
        &[
            "--repo",
            "octo/playground",
            "--env",
            "dev",
            "--role-name",
            &admin,
        ],
        "is not the deploy role",
    );
    let role = iam.get_role().role_name(&admin).send().await.unwrap();
    assert_eq!(
        decode(role.role().unwrap().assume_role_policy_document().unwrap()),
        trust
    );
    assert!(
        iam.get_role_policy()
            .role_name(&admin)
            .policy_name("provisioner-deploy")
            .send()
            .await
            .is_err(),
        "no deploy policy was put on it"
    );
}

/// The one role an earlier bootstrap made for every environment is reported, with the
/// commands that delete it.
#[tokio::test(flavor = "multi_thread")]
async fn the_shared_role_of_an_earlier_bootstrap_is_reported() {
    let a = Account::new();
    let iam = testkit::iam_client().await;
    let shared = format!("{}-github-deploy", a.prefix);
    iam.create_role()
        .role_name(&shared)
        .assume_role_policy_document(json!({"Version": "2012-10-17", "Statement": []}).to_string())
        .tags(
            aws_sdk_iam::types::Tag::builder()
                .key("provisioner:stack")
                .value(&a.prefix)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let out = a.bootstrap(&[]);
    assert!(out.contains("WARNING"), "{out}");
    assert!(
        out.contains(&format!("aws iam delete-role --role-name {shared}")),
        "{out}"
    );
}

/// Apply only reads the state bucket's settings: with versioning suspended (or the public
/// access block gone) it refuses and leaves the bucket as it is; bootstrap puts them back.
#[tokio::test(flavor = "multi_thread")]
async fn apply_refuses_a_bucket_whose_history_is_not_safe() {
    let a = Account::new();
    a.bootstrap(&["--env", "dev"]);
    let s3 = testkit::s3_client().await;
    testkit::suspend_versioning(&s3, &a.bucket).await;
    let stderr = refused(a.deploy_run(&APPLY), &APPLY);
    assert!(stderr.contains("versioning is off"), "{stderr}");
    // The suggested command names the stack file this run used, so it runs as printed.
    assert!(
        stderr.contains("`provisioner --stack ")
            && stderr.contains(" bootstrap` with administrator"),
        "{stderr}"
    );
    assert!(
        !versioning_enabled(&a.bucket),
        "apply did not turn versioning back on"
    );

    a.bootstrap(&["--env", "dev"]);
    assert!(versioning_enabled(&a.bucket));
    s3.delete_public_access_block()
        .bucket(&a.bucket)
        .send()
        .await
        .unwrap();
    let stderr = refused(a.deploy_run(&APPLY), &APPLY);
    assert!(
        stderr.contains("public access is not all blocked"),
        "{stderr}"
    );
    let block = s3.get_public_access_block().bucket(&a.bucket).send().await;
    assert!(
        block.is_err(),
        "apply did not put the public access block back"
    );

    a.bootstrap(&["--env", "dev"]);
    let applied = a.deploy_run(&APPLY);
    assert!(applied.status.success(), "apply runs on a safe bucket");
    let destroyed = a.deploy_run(&DESTROY);
    assert!(destroyed.status.success());
}
