//! The real `terraform` (1.11, AWS provider 5.100 from a filesystem mirror), run against the
//! emulator to make genuine Terraform state files for the migration tests.

use std::path::{Path, PathBuf};
use std::process::Command;

fn binary() -> PathBuf {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("terraform"))
            .find(|p| p.is_file())
    });
    found.unwrap_or_else(|| {
        panic!(
            "`terraform` is not on PATH: this test runs the real Terraform (1.11, AWS provider \
             5.100 from the filesystem mirror /opt/tf-plugins) to produce a genuine v4 state. \
             Install Terraform 1.11 and put it on PATH"
        )
    })
}

/// Runs `terraform ARGS` in `dir`; panics with its output when it fails.
pub fn run(dir: &Path, args: &[String]) {
    let mut command = Command::new(binary());
    command
        .args(args)
        .current_dir(dir)
        .env("TF_CLI_CONFIG_FILE", dir.join("terraform.rc"))
        .env("TF_IN_AUTOMATION", "1")
        .env("TF_INPUT", "0")
        .envs(testkit::aws_env());
    testkit::run_ok(&mut command, &format!("terraform {args:?}"));
}

/// Copies the configuration `main_tf` into `dir` and runs `terraform init` there, with the AWS
/// provider from the filesystem mirror (`TF_PLUGIN_MIRROR`, default `/opt/tf-plugins`).
pub fn init(dir: &Path, main_tf: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::copy(main_tf, dir.join("main.tf")).expect("copy main.tf");
    let mirror = std::env::var("TF_PLUGIN_MIRROR").unwrap_or_else(|_| "/opt/tf-plugins".into());
    assert!(
        Path::new(&mirror)
            .join("registry.terraform.io/hashicorp/aws")
            .is_dir(),
        "the Terraform AWS provider mirror {mirror}/registry.terraform.io/hashicorp/aws is \
         missing: create it with `terraform providers mirror {mirror}` (AWS provider 5.100) or \
         point TF_PLUGIN_MIRROR at one"
    );
    std::fs::write(
        dir.join("terraform.rc"),
        format!(
            "provider_installation {{\n  filesystem_mirror {{\n    path = \"{mirror}\"\n    \
             include = [\"registry.terraform.io/hashicorp/aws\"]\n  }}\n  direct {{\n    \
             exclude = [\"registry.terraform.io/hashicorp/aws\"]\n  }}\n}}\n"
        ),
    )
    .unwrap();
    run(dir, &["init".into(), "-no-color".into()]);
}

/// `terraform apply -auto-approve` with `vars` (`name=value`).
pub fn apply(dir: &Path, vars: &[String]) {
    let mut args = vec![
        "apply".to_string(),
        "-auto-approve".into(),
        "-no-color".into(),
    ];
    args.extend(vars.iter().map(|v| format!("-var={v}")));
    run(dir, &args);
}

/// Drops the provider binary `init` copied (large); the state file is all a test keeps.
pub fn forget_providers(dir: &Path) {
    std::fs::remove_dir_all(dir.join(".terraform")).ok();
}

/// Fills the table Terraform made with `items` items of the playground `titanic` (its
/// `_metadata` row and users), so a migration can be seen to keep every one.
pub async fn seed_table(dynamodb: &aws_sdk_dynamodb::Client, table: &str, items: usize) {
    use aws_sdk_dynamodb::types::AttributeValue;
    for i in 0..items {
        let username = if i == 0 {
            "_metadata".to_string()
        } else {
            format!("user{i:03}")
        };
        dynamodb
            .put_item()
            .table_name(table)
            .item("tableId", AttributeValue::S("titanic".into()))
            .item("username", AttributeValue::S(username))
            .item("submissionCount", AttributeValue::N(i.to_string()))
            .send()
            .await
            .unwrap();
    }
}

/// How many items the table holds (a consistent scan).
pub async fn item_count(dynamodb: &aws_sdk_dynamodb::Client, table: &str) -> usize {
    let scan = dynamodb.scan().table_name(table).consistent_read(true);
    scan.send().await.unwrap().items().len()
}
