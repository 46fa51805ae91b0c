//! The sample stack of the policy tests (dev, stage, prod; state in S3 with a lock table),
//! its generated policies and the IAM evaluator's verdict on requests made as dev's deploy
//! role. No AWS is involved.

use std::path::Path;

use provisioner::bootstrap::evaluate::{Decision, Request, evaluate};
use provisioner::bootstrap::policies::{
    EnvScope, PolicyInputs, boundary_arn, deploy_policy, function_role_arn,
};
use provisioner::stack::Stack;
use serde_json::Value;

pub const ACCOUNT: &str = "123456789012";
pub const REGION: &str = "us-east-1";
pub const SUB: &str = "token.actions.githubusercontent.com:sub";
pub const AUD: &str = "token.actions.githubusercontent.com:aud";

pub fn sample() -> PolicyInputs {
    let stack = Stack::parse(
        Path::new("stack.toml"),
        "[stack]\nname_prefix = \"aimodelshare\"\n\n[backend]\ntype = \"s3\"\n\
         bucket = \"aimodelshare-state\"\nlock_table = \"aimodelshare-locks\"\n\n\
         [env.dev]\n\n[env.stage]\n\n[env.prod.table]\nname = \"PlaygroundScores\"\n"
            .to_string(),
    )
    .expect("the sample stack parses");
    let environments = ["dev", "stage", "prod"]
        .iter()
        .map(|name| {
            let resolved = stack.resolve(name).expect("resolves");
            EnvScope::of(&resolved, format!("aimodelshare-github-deploy-{name}"))
        })
        .collect();
    PolicyInputs {
        account_id: ACCOUNT.into(),
        repository: "octo/playground".into(),
        environments,
        state_bucket: "aimodelshare-state".into(),
        lock_table: Some("aimodelshare-locks".into()),
        lock_table_region: REGION.into(),
    }
}

/// The sample's dev environment and its deploy role's policy.
pub struct Dev {
    pub inputs: PolicyInputs,
    pub policy: Vec<Value>,
}

impl Dev {
    pub fn new() -> Self {
        let inputs = sample();
        let policy = vec![deploy_policy(&inputs, &inputs.environments[0])];
        Self { inputs, policy }
    }

    pub fn env(&self) -> &EnvScope {
        &self.inputs.environments[0]
    }

    pub fn prod(&self) -> &EnvScope {
        &self.inputs.environments[2]
    }

    pub fn boundary(&self) -> String {
        boundary_arn(&self.inputs, self.env())
    }

    pub fn function_role(&self) -> String {
        function_role_arn(&self.inputs, self.env())
    }

    pub fn role_under_path(&self, name: &str) -> String {
        format!("arn:aws:iam::{ACCOUNT}:role/aimodelshare/dev/{name}")
    }

    pub fn decide(&self, request: &Request) -> Decision {
        evaluate(&self.policy, request)
    }

    #[track_caller]
    pub fn denied(&self, why: &str, request: Request) {
        let decision = self.decide(&request);
        assert!(!decision.is_allowed(), "{why}: {request:?} is {decision:?}");
    }

    #[track_caller]
    pub fn allowed(&self, why: &str, request: Request) {
        let decision = self.decide(&request);
        assert_eq!(decision, Decision::Allow, "{why}: {request:?}");
    }
}

/// An API Gateway resource ARN of the sample's region.
pub fn api(path: &str) -> String {
    format!("arn:aws:apigateway:{REGION}::{path}")
}
