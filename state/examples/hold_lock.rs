//! Takes an environment's state lock, prints its ID, and holds it until killed.
//!
//! The `killed_holder` test runs this and kills it with SIGKILL, which is what a crashed
//! `provisioner apply` leaves behind. Usage:
//!
//! ```text
//! hold_lock s3 BUCKET ENV LOCK_TABLE|- S3_LOCK(true|false)
//! hold_lock local DIR ENV
//! ```
//! AWS settings come from the environment (`AWS_ENDPOINT_URL`, `AWS_REGION`, ...).

use std::io::Write;

use state::{Backend, BackendConfig, LockOptions};

fn usage() -> String {
    "usage: hold_lock s3 BUCKET ENV LOCK_TABLE|- true|false  |  hold_lock local DIR ENV".to_string()
}

fn config_from_args(args: &[String]) -> Result<BackendConfig, String> {
    match args {
        [kind, bucket, env, table, s3_lock] if kind == "s3" => Ok(BackendConfig::S3 {
            bucket: bucket.clone(),
            prefix: "provisioner".to_string(),
            environment: env.clone(),
            lock_table: (table != "-").then(|| table.clone()),
            s3_lock: s3_lock == "true",
        }),
        [kind, dir, env] if kind == "local" => Ok(BackendConfig::Local {
            dir: dir.into(),
            environment: env.clone(),
        }),
        _ => Err(usage()),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let config = config_from_args(&args)?;
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let backend = Backend::new(config, &sdk);
    let guard = backend
        .lock(LockOptions {
            operation: "apply".to_string(),
            timeout: std::time::Duration::from_secs(30),
        })
        .await?;
    let mut stdout = std::io::stdout();
    writeln!(stdout, "{}", guard.id())?;
    stdout.flush()?;
    loop {
        tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
    }
}
