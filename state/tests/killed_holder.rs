//! A lock left by a process killed with SIGKILL (what a crashed `apply` leaves), against every
//! backend kind: the remote locks stay and name the dead holder until `force-unlock` with the
//! right ID frees them; the local OS file lock is freed by the kernel.
//!
//! The holder is the `hold_lock` example, which `cargo test` builds with the tests.

use crate::common;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};

use common::{ENV, Fixture, Kind, fixture, lock_options};
use state::{BackendConfig, StateError};

fn hold_lock_binary() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let path = target.join("debug/examples/hold_lock");
    assert!(
        path.exists(),
        "{} is missing: run `cargo build -p state --examples` (plain `cargo test -p state` and \
         scripts/test build it)",
        path.display()
    );
    path
}

/// Starts `hold_lock` on the fixture's state and returns it with the lock ID it printed.
fn spawn_holder(f: &Fixture) -> (std::process::Child, String) {
    let args: Vec<String> = match &f.config {
        BackendConfig::S3 {
            bucket,
            lock_table,
            s3_lock,
            ..
        } => vec![
            "s3".into(),
            bucket.clone(),
            ENV.into(),
            lock_table.clone().unwrap_or_else(|| "-".into()),
            s3_lock.to_string(),
        ],
        BackendConfig::Local { dir, .. } => {
            vec!["local".into(), dir.display().to_string(), ENV.into()]
        }
    };
    let mut child = Command::new(hold_lock_binary())
        .args(&args)
        .envs(testkit::aws_env())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("hold_lock starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let id = line.trim().to_string();
    assert!(
        uuid::Uuid::parse_str(&id).is_ok(),
        "hold_lock printed {line:?}"
    );
    (child, id)
}

async fn lock_of_a_killed_process(kind: Kind) {
    let f = fixture(kind).await;
    let (mut child, id) = spawn_holder(&f);

    // While it lives: held, named by its ID.
    let error = f.backend.lock(lock_options("plan", 0)).await.unwrap_err();
    assert!(
        matches!(&error, StateError::Locked { info, .. } if info.id == id),
        "{error:?}"
    );

    child.kill().unwrap(); // SIGKILL: no chance to release anything.
    child.wait().unwrap();

    if kind == Kind::Local {
        // The kernel dropped the flock with the process: the lock is simply free.
        let guard = f.backend.lock(lock_options("plan", 0)).await.unwrap();
        guard.release().await.unwrap();
        return;
    }

    let error = f.backend.lock(lock_options("plan", 0)).await.unwrap_err();
    let StateError::Locked { info, .. } = &error else {
        panic!("expected Locked, got {error:?}");
    };
    assert_eq!(info.id, id);
    assert_eq!(info.operation, "apply");
    assert!(
        info.path
            .ends_with(&format!("provisioner/{ENV}/state.json"))
    );
    assert!(
        error
            .to_string()
            .contains(&format!("provisioner force-unlock --env {ENV} {id}")),
        "{error}"
    );

    let wrong = f
        .backend
        .force_unlock("00000000-0000-4000-8000-000000000000")
        .await
        .unwrap_err();
    assert!(
        matches!(wrong, StateError::LockIdMismatch { .. }),
        "{wrong:?}"
    );
    assert!(matches!(
        f.backend.lock(lock_options("plan", 0)).await,
        Err(StateError::Locked { .. })
    ));

    f.backend.force_unlock(&id).await.unwrap();
    let guard = f.backend.lock(lock_options("plan", 0)).await.unwrap();
    guard.release().await.unwrap();
}

async fn live_local_holder_cannot_be_forced(kind: Kind) {
    let f = fixture(kind).await;
    let (mut child, id) = spawn_holder(&f);
    let error = f.backend.force_unlock(&id).await.unwrap_err();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        matches!(&error, StateError::LockHeldByLiveProcess { info, .. } if info.id == id),
        "{error:?}"
    );
    assert!(error.to_string().contains("stop that process"), "{error}");
    assert!(
        error.to_string().contains(&format!("pid {}", child.id())),
        "{error}"
    );
}

common::suite!(lock_of_a_killed_process);

#[tokio::test]
async fn local_lock_of_a_live_process_is_not_forced() {
    live_local_holder_cannot_be_forced(Kind::Local).await;
}
