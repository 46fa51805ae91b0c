//! Test fixtures: one fresh backend per test, of each kind, with raw access to what it stores
//! (to corrupt it the way a hand edit or a truncated upload would).

#![allow(dead_code)]

use std::path::PathBuf;

use state::{Backend, BackendConfig, LockOptions, StateDocument, StateError, WriteToken};

/// The environment every fixture uses.
pub const ENV: &str = "dev";

/// The backend kinds the suite runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// S3 state, DynamoDB lock (Terraform's classic set-up).
    S3DynamoDb,
    /// S3 state, S3 `.tflock` object lock only (Terraform 1.10+ `use_lockfile`).
    S3Object,
    /// S3 state, both locks at once.
    S3Both,
    /// Local files, OS file lock.
    Local,
}

/// Where the raw bytes of the current state live.
pub enum Raw {
    S3 {
        client: aws_sdk_s3::Client,
        bucket: String,
        key: String,
    },
    Local {
        path: PathBuf,
    },
}

/// A fresh backend with its own bucket/table or directory.
pub struct Fixture {
    pub kind: Kind,
    pub config: BackendConfig,
    pub backend: Backend,
    pub raw: Raw,
    dir: Option<PathBuf>,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// A fresh fixture of `kind`; S3 kinds get a new bucket (and lock table) made by
/// `state::ensure_backend_resources`, so that helper is exercised by every S3 test.
pub async fn fixture(kind: Kind) -> Fixture {
    let sdk = testkit::sdk_config().await;
    let (config, raw, dir) = match kind {
        Kind::Local => {
            let dir = std::env::temp_dir().join(testkit::unique_name("state-test"));
            let config = BackendConfig::Local {
                dir: dir.clone(),
                environment: ENV.to_string(),
            };
            let path = dir.join(".provisioner").join(format!("{ENV}.json"));
            (config, Raw::Local { path }, Some(dir))
        }
        _ => {
            let bucket = testkit::unique_name("state-test");
            let lock_table = matches!(kind, Kind::S3DynamoDb | Kind::S3Both)
                .then(|| testkit::unique_name("state-locks"));
            let config = BackendConfig::S3 {
                bucket: bucket.clone(),
                prefix: "provisioner".to_string(),
                environment: ENV.to_string(),
                lock_table,
                s3_lock: matches!(kind, Kind::S3Object | Kind::S3Both),
            };
            let raw = Raw::S3 {
                client: testkit::s3_client().await,
                bucket,
                key: format!("provisioner/{ENV}/state.json"),
            };
            (config, raw, None)
        }
    };
    state::ensure_backend_resources(&config, &sdk)
        .await
        .expect("backend resources can be created");
    let backend = Backend::new(config.clone(), &sdk);
    Fixture {
        kind,
        config,
        backend,
        raw,
        dir,
    }
}

impl Fixture {
    /// The raw bytes of the current state, if any.
    pub async fn raw_get(&self) -> Option<Vec<u8>> {
        match &self.raw {
            Raw::S3 {
                client,
                bucket,
                key,
            } => match client.get_object().bucket(bucket).key(key).send().await {
                Ok(out) => Some(out.body.collect().await.unwrap().into_bytes().to_vec()),
                Err(e) => {
                    let not_found = e.as_service_error().is_some_and(|s| s.is_no_such_key());
                    assert!(not_found, "raw GetObject failed: {e:?}");
                    None
                }
            },
            Raw::Local { path } => std::fs::read(path).ok(),
        }
    }

    /// Asserts that the stored bytes are still `before`: a refused write overwrote nothing.
    pub async fn assert_stored(&self, before: &[u8]) {
        let now = self.raw_get().await.expect("the state is still there");
        assert_eq!(now.as_slice(), before, "nothing was overwritten");
    }

    /// Replaces the current state's bytes behind the backend's back (a hand edit).
    pub async fn raw_put(&self, bytes: Vec<u8>) {
        match &self.raw {
            Raw::S3 {
                client,
                bucket,
                key,
            } => {
                client
                    .put_object()
                    .bucket(bucket)
                    .key(key)
                    .body(bytes.into())
                    .send()
                    .await
                    .unwrap();
            }
            Raw::Local { path } => std::fs::write(path, bytes).unwrap(),
        }
    }

    /// A second backend on the same state, as another process would build it.
    pub async fn another_backend(&self) -> Backend {
        Backend::new(self.config.clone(), &testkit::sdk_config().await)
    }
}

/// A new document for the fixtures' stack and environment.
pub fn new_document() -> StateDocument {
    StateDocument::new("playground", ENV)
}

/// Lock options for `operation` with a timeout in milliseconds.
pub fn lock_options(operation: &str, timeout_ms: u64) -> LockOptions {
    LockOptions {
        operation: operation.to_string(),
        timeout: std::time::Duration::from_millis(timeout_ms),
    }
}

impl Fixture {
    /// Writes `document` over what the backend holds now (the first write of a test); returns
    /// the token of what it wrote.
    pub async fn write_over_current(&self, document: &mut StateDocument) -> WriteToken {
        let token = self.backend.read().await.unwrap().token;
        self.backend.write(document, &token).await.unwrap()
    }
}

/// Asserts that `backend` cannot take the lock now: someone else holds it.
pub async fn assert_locked(backend: &Backend) {
    let attempt = backend.lock(lock_options("plan", 0)).await;
    assert!(
        matches!(attempt, Err(StateError::Locked { .. })),
        "the lock should be held, got {attempt:?}"
    );
}

/// Takes the lock at once (it must be free) and releases it.
pub async fn lock_and_release(backend: &Backend) {
    backend
        .lock(lock_options("plan", 0))
        .await
        .unwrap()
        .release()
        .await
        .unwrap();
}

/// Makes one `#[tokio::test]` per scenario and backend kind, in a module per kind
/// (`s3_dynamodb_lock::SCENARIO`, ...). A scenario is an `async fn(Kind)` of the calling file.
#[allow(unused_macros)]
macro_rules! suite {
    ($($test:ident),+ $(,)?) => {
        $crate::common::suite!(@kind s3_dynamodb_lock, S3DynamoDb; $($test),+);
        $crate::common::suite!(@kind s3_object_lock, S3Object; $($test),+);
        $crate::common::suite!(@kind s3_both_locks, S3Both; $($test),+);
        $crate::common::suite!(@kind local, Local; $($test),+);
    };
    (@kind $kind_mod:ident, $kind:ident; $($test:ident),+) => {
        mod $kind_mod {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $test() {
                    super::$test($crate::common::Kind::$kind).await;
                }
            )+
        }
    };
}
#[allow(unused_imports)]
pub(crate) use suite;
