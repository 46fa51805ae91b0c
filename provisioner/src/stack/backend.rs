//! `[backend]` resolved for one environment: an S3 bucket (with its lock table) or a local
//! directory, checked before any AWS call so a typo is a stack-file error, not an S3 one.

use super::raw::{BackendKind, EnvOverrides};
use super::resolve::{BackendSettings, pick};
use super::{Stack, StackError};

pub(super) fn resolve_backend(
    stack: &Stack,
    over: &EnvOverrides,
) -> Result<BackendSettings, StackError> {
    let raw = &stack.raw().backend;
    let over = &over.backend;
    let bucket = pick(&over.bucket, &raw.bucket);
    let kind_given = pick(&over.kind, &raw.kind).copied();
    let kind = kind_given.unwrap_or(if bucket.is_some() {
        BackendKind::S3
    } else {
        BackendKind::Local
    });
    match kind {
        BackendKind::S3 => {
            let Some(bucket) = bucket else {
                return Err(stack.error_at(
                    None,
                    "[backend] type = \"s3\" needs a bucket",
                    Some("add bucket = \"<your state bucket>\" under [backend] (or use type = \"local\")".into()),
                ));
            };
            let name = bucket.get_ref();
            if !(3..=63).contains(&name.len())
                || !name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '.'))
            {
                return Err(stack.error_at(
                    Some(bucket.span()),
                    format!("bucket '{name}' is not a valid S3 bucket name"),
                    Some("use 3 to 63 lowercase letters, digits, '-' or '.'".into()),
                ));
            }
            let prefix = pick(&over.prefix, &raw.prefix)
                .map_or("provisioner", |s| s.get_ref().as_str())
                .trim_matches('/')
                .to_string();
            let lock_table = pick(&over.lock_table, &raw.lock_table).map(|s| s.get_ref().clone());
            Ok(BackendSettings::S3 {
                bucket: name.clone(),
                prefix,
                lock_table,
                s3_lock: *pick(&over.s3_lock, &raw.s3_lock).unwrap_or(&false),
            })
        }
        BackendKind::Local => {
            if let Some(bucket) = bucket {
                return Err(stack.error_at(
                    Some(bucket.span()),
                    "a bucket is set but [backend] type is \"local\"",
                    Some("remove `bucket`, or set type = \"s3\"".into()),
                ));
            }
            let dir = pick(&over.dir, &raw.dir).map_or(".", |s| s.get_ref().as_str());
            Ok(BackendSettings::Local {
                dir: dir.to_string(),
            })
        }
    }
}
