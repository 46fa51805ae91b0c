//! What the fixture's stack declares, read from the stack itself: the tests' counts of resources
//! and routes follow the API contract (one route per entry) and the optional layer, so adding a
//! route to the contract changes no literal in any test.

use std::path::{Path, PathBuf};

use provisioner::desired::{self, Artifact, Artifacts};
use provisioner::stack::Stack;

use super::Fixture;

/// The routes a stack with the default settings deploys (the fixture's): the contract's, less
/// those only some settings deploy.
pub fn default_routes() -> Vec<&'static desired::contract::Route> {
    let stack = Stack::parse(Path::new("stack.toml"), "[env.dev]\n".to_string())
        .expect("a minimal stack parses")
        .resolve("dev")
        .expect("a minimal stack resolves");
    desired::routes(&stack.api)
}

/// The API's route keys, sorted: those the provisioner deploys for the fixture's stack.
pub fn contract_route_keys() -> Vec<String> {
    let mut keys: Vec<String> = default_routes().iter().map(|r| r.key()).collect();
    keys.sort();
    keys
}

impl Fixture {
    /// How many resources the fixture's stack declares, as `plan` reads its stack file.
    pub fn resource_count(&self) -> usize {
        let resolved = Stack::load(&self.stack_path())
            .expect("the fixture's stack file parses")
            .resolve("dev")
            .expect("the fixture's stack resolves");
        let artifact = |name: &str| Artifact {
            path: PathBuf::from(name),
            sha256: String::new(),
        };
        let artifacts = Artifacts {
            function: artifact("function.zip"),
            layer: resolved
                .lambda
                .layer_zip
                .as_ref()
                .map(|_| artifact("layer.zip")),
        };
        desired::desired_resources(&resolved, &artifacts).len()
    }
}
