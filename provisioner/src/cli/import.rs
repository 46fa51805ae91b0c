//! `provisioner import --env ENV ADDRESS ID`: adopt one existing resource into the state.
//! Also the shared set-up of the adopting commands (`import`, `migrate`): the stack, the engine
//! and the declared resources, without building the function (adoption only reads).

use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use provisioner::package::ZipsFor;
use provisioner::pipeline::{self, Session};
use provisioner::resource::Desired;

use super::Global;

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The environment: the name of an `[env.NAME]` section of the stack file.
    #[arg(long, value_name = "ENV")]
    pub env: String,
    /// The stack's address for it, as `provisioner plan` shows (e.g. dynamodb_table.playground).
    pub address: String,
    /// Its physical id (each kind's is listed below).
    pub id: String,
    #[command(flatten)]
    pub flags: super::flags::RunFlags,
}

/// One environment to adopt into, with its declaration (the function is never built).
pub struct Adoption {
    pub session: Session,
    pub desired: Vec<Desired>,
}

/// Opens the environment and prepares its state backend.
pub async fn adoption(global: &Global, environment: &str) -> Result<Adoption> {
    let session = super::commands::session(global, environment).await?;
    let desired = super::commands::declared(&session, ZipsFor::Adoption)?;
    state::prepare_backend(&session.resolved.backend_config(), &session.engine.aws.sdk).await?;
    Ok(Adoption { session, desired })
}

/// `import --help`'s list of kinds and the id each takes, from the registry of kinds.
pub fn ids_help() -> String {
    let mut text = String::from("The id each kind takes:\n");
    for kind in provisioner::kinds::all() {
        let about = kind.about();
        text.push_str(&format!(
            "  {:<28} {} (Terraform: {})\n",
            kind.kind(),
            about.import_id,
            about.terraform_type
        ));
    }
    text
}

pub async fn run(global: &Global, args: &ImportArgs) -> Result<ExitCode> {
    let adoption = adoption(global, &args.env).await?;
    let observed = pipeline::import(
        &adoption.session,
        &adoption.desired,
        &args.address,
        &args.id,
    )
    .await?;
    outln!(
        "Imported {} (id {}{}) into the {} state.\nNothing in AWS was changed. Run \
         `provisioner plan --env {}` to see how it differs from the stack.",
        args.address,
        observed.id,
        observed
            .arn
            .as_deref()
            .map_or(String::new(), |arn| format!(", {arn}")),
        args.env,
        args.env
    );
    Ok(ExitCode::SUCCESS)
}
