//! `provisioner migrate --env ENV --from-terraform-state (FILE | s3://bucket/key)`: adopt the
//! original Terraform stack's resources and show the plan that remains. A dry run unless
//! `--write`; never creates, changes or deletes anything in AWS.

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use clap::Args;

use provisioner::migrate::terraform::{self, Mapping};
use provisioner::migrate::terraform_lock::{TerraformLock, workspace_key};
use provisioner::pipeline;
use provisioner::plan::Action;
use provisioner::stack::BackendSettings;

use super::Global;
use super::import::{Adoption, adoption};

#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// The environment: the name of an `[env.NAME]` section of the stack file.
    #[arg(long, value_name = "ENV")]
    pub env: String,
    /// The Terraform state: a local file (`terraform state pull > tf.json`) or
    /// `s3://bucket/key` (e.g. s3://my-tf-state/aimodelshare/infra/terraform.tfstate).
    #[arg(long, value_name = "FILE|S3_URL")]
    pub from_terraform_state: String,
    /// Terraform workspace of an s3:// state (non-default ones live under `env:/<ws>/`).
    #[arg(long, default_value = "default", value_name = "WORKSPACE")]
    pub workspace: String,
    /// Terraform's DynamoDB lock table for an s3:// state (default: the stack's lock_table).
    #[arg(long, value_name = "TABLE")]
    pub terraform_lock_table: Option<String>,
    /// Write the adopted state (default: dry run, nothing is written).
    #[arg(long)]
    pub write: bool,
    #[command(flatten)]
    pub flags: super::flags::RunFlags,
}

/// `s3://bucket/key` → (bucket, key).
fn parse_s3_url(url: &str) -> Result<Option<(String, String)>> {
    let Some(rest) = url.strip_prefix("s3://") else {
        return Ok(None);
    };
    match rest.split_once('/') {
        Some((bucket, key)) if !bucket.is_empty() && !key.is_empty() => {
            Ok(Some((bucket.to_string(), key.to_string())))
        }
        _ => bail!("'{url}' is not an S3 URL of an object: write s3://BUCKET/KEY"),
    }
}

async fn read_s3(ctx: &Adoption, bucket: &str, key: &str) -> Result<Vec<u8>> {
    let s3 = state::s3::s3_client(&ctx.session.engine.aws.sdk);
    let target = format!("s3://{bucket}/{key}");
    let what = ("GetObject", target.as_str());
    let object = state::s3::get_object(&s3, bucket, key, None, what).await;
    let context = || format!("reading the Terraform state {target}");
    match object.with_context(context)? {
        Some(object) => Ok(object.bytes),
        None => bail!("{}: there is no such object", context()),
    }
}

pub async fn run(global: &Global, args: &MigrateArgs) -> Result<ExitCode> {
    let ctx = adoption(global, &args.env).await?;
    let source = &args.from_terraform_state;
    let s3_source = parse_s3_url(source)?;
    let mut terraform_lock = None;
    let (source_name, bytes) = match &s3_source {
        Some((bucket, key)) => {
            let key = workspace_key(key, &args.workspace);
            let lock_table =
                args.terraform_lock_table
                    .clone()
                    .or(match &ctx.session.resolved.backend {
                        BackendSettings::S3 { lock_table, .. } => lock_table.clone(),
                        BackendSettings::Local { .. } => None,
                    });
            match lock_table {
                Some(table) => {
                    let lock = TerraformLock::acquire(
                        aws_sdk_dynamodb::Client::new(&ctx.session.engine.aws.sdk),
                        &table,
                        bucket,
                        &key,
                    )
                    .await?;
                    errln!(
                        "holding Terraform's lock on {bucket}/{key} in {table} (ID {})",
                        lock.info.id
                    );
                    terraform_lock = Some(lock);
                }
                None => errln!(
                    "warning: no Terraform lock table known (pass --terraform-lock-table): make \
                     sure no terraform run is in progress"
                ),
            }
            let url = format!("s3://{bucket}/{key}");
            let bytes = read_s3(&ctx, bucket, &key).await;
            (url, bytes)
        }
        None => (
            source.clone(),
            std::fs::read(source).with_context(|| {
                format!("reading the Terraform state file {source} (or pass s3://bucket/key)")
            }),
        ),
    };
    let result = match bytes {
        Ok(bytes) => migrate_from(global, args, &ctx, &source_name, &bytes).await,
        Err(e) => Err(e),
    };
    if let Some(lock) = terraform_lock {
        lock.release().await.context("releasing Terraform's lock")?;
    }
    result
}

async fn migrate_from(
    global: &Global,
    args: &MigrateArgs,
    ctx: &Adoption,
    source_name: &str,
    bytes: &[u8],
) -> Result<ExitCode> {
    let tf = terraform::parse(source_name, bytes)?;
    let mappings = terraform::map_resources(&tf, &ctx.desired);
    outln!(
        "Terraform state {source_name} (Terraform {}, serial {}): {} resource instance(s).\n",
        tf.terraform_version,
        tf.serial,
        mappings.len()
    );
    print_mappings(&mappings);

    let migrated = pipeline::migrate(&ctx.session, &ctx.desired, &mappings, args.write)
        .await
        .context("adopting the Terraform stack")?;
    outln!("\nAdopted {} resource(s).", migrated.adopted);
    print_names(&migrated.plan, &mappings);
    outln!(
        "\nWhat remains to do (`provisioner apply --env {}` after --write):\n",
        args.env
    );
    let color = global.color_on(std::io::stdout().is_terminal());
    out!("{}", migrated.plan.render(color));
    if migrated.written {
        outln!(
            "\nWrote the {} state to {}. Next: `provisioner plan --env {}`, then apply. \
             Stop using Terraform for this environment (keep its state file as a backup).",
            args.env,
            ctx.session.backend.location(),
            args.env
        );
    } else {
        outln!(
            "\nDry run: nothing was written. Run again with --write to record the adopted \
             resources in the state."
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Says what happens to Terraform's names and to what the stack does not declare: a name that
/// differs from the stack's is moved to it by replacing the object, the new one created before
/// the old one is deleted (the live function switches over in between); objects the stack does
/// not declare are removed once what replaces them is in place.
fn print_names(plan: &provisioner::plan::Plan, mappings: &[Mapping]) {
    let renamed: Vec<String> = plan
        .changes
        .iter()
        .filter(|c| c.action == Action::Replace)
        .filter_map(|c| {
            let name = c.fields.iter().find(|f| f.field == "name")?;
            Some(format!(
                "  {}: {} -> {}{}",
                c.address,
                provisioner::plan::show(name.old.as_ref()),
                provisioner::plan::show(name.new.as_ref()),
                if c.create_before_destroy {
                    " (the new one is created first; the old one is deleted once nothing uses it)"
                } else {
                    " (the old one is deleted first)"
                }
            ))
        })
        .collect();
    if renamed.is_empty() {
        outln!("\nNames: every adopted object keeps its name, which the stack declares as well.");
    } else {
        outln!(
            "\nNames: these Terraform names differ from the stack's; apply moves them to the \
             stack's names (to keep a Terraform name instead, declare it in the stack file):"
        );
        for line in renamed {
            outln!("{line}");
        }
    }
    let removed: Vec<&str> = mappings
        .iter()
        .filter(|m| m.is_removal())
        .map(|m| m.terraform_address.as_str())
        .collect();
    if !removed.is_empty() {
        outln!(
            "\nNot declared by the stack, adopted to be removed once what replaces it is in \
             place (the stack's own policy; its permission on the alias `live`): {}",
            removed.join(", ")
        );
    }
}

fn print_mappings(mappings: &[Mapping]) {
    let width = mappings
        .iter()
        .map(|m| m.terraform_address.len())
        .max()
        .unwrap_or(0);
    for m in mappings {
        match (&m.address, &m.note) {
            (Some(address), _) => outln!(
                "  {:<width$}  ->  {address} ({})",
                m.terraform_address,
                m.id.as_deref().unwrap_or("")
            ),
            (None, note) => outln!(
                "  {:<width$}  --  not adopted: {}",
                m.terraform_address,
                note.as_deref().unwrap_or("")
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_urls_split_into_bucket_and_key() {
        assert_eq!(
            parse_s3_url("s3://b/aimodelshare/infra/terraform.tfstate").unwrap(),
            Some((
                "b".to_string(),
                "aimodelshare/infra/terraform.tfstate".to_string()
            ))
        );
        assert_eq!(parse_s3_url("./terraform.tfstate").unwrap(), None);
        assert!(parse_s3_url("s3://bucket-only").is_err());
        assert!(parse_s3_url("s3:///key").is_err());
    }
}
