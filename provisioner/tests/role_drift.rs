//! The function's role is never changed in place where that would need rights the deploy role
//! must not hold: a trust policy changed outside the tool shows as a replacement of the role
//! (`-/+`, forced by `assume_role_policy`), and one apply re-creates it with the declared trust,
//! under its path, with its boundary and with both of its policies.

use crate::common;

use common::bootstrap::decode;
use common::{Fixture, trust_policy};
use serde_json::json;

#[tokio::test(flavor = "multi_thread")]
async fn a_drifted_trust_policy_is_repaired_by_replacing_the_role() {
    let (f, aws) = Fixture::new("").applied().await;
    let anyone = trust_policy(json!({"AWS": "arn:aws:iam::999999999999:root"}));
    aws.iam
        .update_assume_role_policy()
        .role_name(f.role_name())
        .policy_document(anyone.to_string())
        .send()
        .await
        .unwrap();

    f.plan_shows(&["-/+ iam_role.lambda", "assume_role_policy"]);

    f.apply();
    let role = f.role_name();
    let got = aws.role(&role).await;
    let trust = decode(got.assume_role_policy_document().unwrap());
    assert_eq!(
        trust["Statement"][0]["Principal"]["Service"],
        "lambda.amazonaws.com"
    );
    assert_eq!(got.path(), format!("/{}/dev/", f.prefix));
    assert!(
        got.permissions_boundary()
            .and_then(|b| b.permissions_boundary_arn())
            .is_some_and(
                |arn| arn.ends_with(&format!(":policy/{}-dev-function-boundary", f.prefix))
            )
    );
    assert_eq!(aws.attached_policy_names(&role).await.len(), 1);
    assert_eq!(
        aws.inline_policy_names(&role).await,
        [format!("{}-dev-dynamodb", f.prefix)]
    );

    let (code, plan) = f.plan();
    assert_eq!(code, 0, "one apply converges: {plan}");
    f.destroy();
}
