//! The declaration a run works from, which may still be hashing its code zips while the run
//! takes the lock, reads the state and sends the refresh.
//!
//! Lambda compares code by the SHA-256 of the zip, so every plan hashes the prebuilt function
//! package (and the layer): megabytes, some milliseconds per 4 MB, which used to come before the
//! first AWS call. None of that is needed until the refresh has answered (the refresh reads what
//! the state records), so the hash runs on a blocking thread beside the network and a run waits
//! for it only where it is first needed. A function built from source is built before the run
//! starts, as always: a build takes minutes and must not hold the lock.

use std::sync::Mutex;

use tokio::sync::OnceCell;
use tokio::task::JoinHandle;

use super::PipelineError;
use crate::package::PackageError;
use crate::resource::Desired;

/// The work computing a declaration on a blocking thread.
type Computing = JoinHandle<Result<Vec<Desired>, PackageError>>;

/// The declared resources, ready or still being computed on a blocking thread.
pub struct Declared {
    ready: OnceCell<Vec<Desired>>,
    /// Taken by the first [`Declared::get`].
    pending: Mutex<Option<Computing>>,
}

impl Declared {
    /// A declaration already computed.
    pub fn ready(desired: Vec<Desired>) -> Self {
        Self {
            ready: OnceCell::new_with(Some(desired)),
            pending: Mutex::new(None),
        }
    }

    /// Starts `work` on a blocking thread now; [`Declared::get`] waits for it.
    pub fn in_background(
        work: impl FnOnce() -> Result<Vec<Desired>, PackageError> + Send + 'static,
    ) -> Self {
        Self {
            ready: OnceCell::new(),
            pending: Mutex::new(Some(tokio::task::spawn_blocking(work))),
        }
    }

    /// The declared resources, once computed. Its error (a zip that cannot be read) is reported
    /// by the first caller; a later caller gets a short error saying so.
    pub async fn get(&self) -> Result<&[Desired], PipelineError> {
        let desired = self.ready.get_or_try_init(|| async {
            let pending = self.pending.lock().map(|mut p| p.take()).ok().flatten();
            let Some(pending) = pending else {
                return Err(PipelineError::Refused(
                    "the stack's declaration could not be computed (see the error above)".into(),
                ));
            };
            match pending.await {
                Ok(computed) => Ok(computed?),
                Err(joined) if joined.is_panic() => std::panic::resume_unwind(joined.into_panic()),
                Err(_) => Err(PipelineError::Refused(
                    "computing the stack's declaration was cancelled".into(),
                )),
            }
        });
        Ok(desired.await?.as_slice())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one() -> Vec<Desired> {
        serde_json::from_value(serde_json::json!([{
            "address": "dynamodb_table.main", "kind": "dynamodb_table", "name": "t",
            "fields": {}, "tags": {}, "depends_on": []
        }]))
        .expect("a Desired")
    }

    #[tokio::test]
    async fn background_work_is_awaited_once_and_shared_by_every_caller() {
        let declared = Declared::in_background(|| Ok(one()));
        let first = declared.get().await.expect("computed").to_vec();
        let again = declared.get().await.expect("kept");
        assert_eq!(first, again);
        assert_eq!(again[0].address, "dynamodb_table.main");
    }

    #[tokio::test]
    async fn the_zips_error_reaches_the_first_caller_and_later_ones_are_refused() {
        let declared = Declared::in_background(|| {
            Err(PackageError::Io {
                path: "/nowhere/function.zip".into(),
                source: std::io::Error::from(std::io::ErrorKind::NotFound),
            })
        });
        let first = declared.get().await.expect_err("the zip is missing");
        assert!(
            first.to_string().contains("/nowhere/function.zip"),
            "{first}"
        );
        let later = declared.get().await.expect_err("no declaration");
        assert!(later.to_string().contains("see the error above"), "{later}");
    }

    #[tokio::test]
    async fn a_ready_declaration_is_given_back_as_is() {
        let declared = Declared::ready(one());
        assert_eq!(declared.get().await.expect("ready").len(), 1);
    }
}
