//! Kills after AWS answered a call the provisioner never heard: a proxy in front of the emulator
//! passes the call on, holds AWS's answer back, and the process is killed then (seven create
//! calls). The next apply must adopt what AWS made: with the engine's adoption switched off as a
//! check, all seven failed (duplicates, name conflicts). Also a state write whose answer is lost
//! on the way back (the `s3_*_state_write_answer_lost` tests): the SDK's retry of that write is
//! refused by S3's condition, and the run must recognise its own write instead of stopping with
//! "someone else wrote the state" (which a build before the fix did at once, with nothing else
//! running).

use crate::common;

use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::kill::{APPLY, destroys_to_nothing, recovers};
use common::proxy::{CreateCall, HoldingProxy};
use common::{Aws, Fixture};

/// Runs a first apply through a [`HoldingProxy`] and SIGKILLs it once AWS has answered `call`.
fn kill_once_aws_did(f: &Fixture, call: CreateCall) {
    let proxy = HoldingProxy::start(call);
    let mut child = f
        .command(&APPLY)
        .env("AWS_ENDPOINT_URL", proxy.url())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start provisioner");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if proxy.held.try_recv().is_ok() {
            child.kill().expect("SIGKILL");
            break;
        }
        if let Some(status) = child.try_wait().expect("try_wait") {
            panic!("the apply ended ({status:?}) without calling {call:?}");
        }
        assert!(Instant::now() < deadline, "no {call:?} within a minute");
        std::thread::sleep(Duration::from_millis(5));
    }
    let status = child.wait().expect("wait");
    assert_eq!(status.signal(), Some(9), "{status:?}");
    eprintln!("killed once AWS answered {call:?}");
}

/// AWS did `call`, the provisioner was killed before it heard: the next apply adopts.
async fn aws_created(call: CreateCall) {
    let f = Fixture::new("");
    let aws = Aws::new().await;
    kill_once_aws_did(&f, call);
    let point = format!("{call:?} answered, not heard");
    recovers(&f, &aws, &point).await;
}

/// Destroy right after such a kill: the API is in AWS, only a pending create is in the state.
#[tokio::test(flavor = "multi_thread")]
async fn destroy_after_aws_created_the_api_unheard_deletes_it() {
    let f = Fixture::new("");
    let aws = Aws::new().await;
    kill_once_aws_did(&f, CreateCall::CreateApi);
    assert_eq!(
        aws.api_ids(&f.api_name()).await.len(),
        1,
        "AWS made the API"
    );
    destroys_to_nothing(&f, &aws, "CreateApi answered, not heard").await;
}

common::scenario_tests!(
    aws_created;
    aws_created_the_role_unheard => CreateCall::CreateRole,
    aws_created_the_table_unheard => CreateCall::CreateTable,
    aws_created_the_function_unheard => CreateCall::CreateFunction,
    aws_created_the_api_unheard => CreateCall::CreateApi,
    aws_created_the_integration_unheard => CreateCall::CreateIntegration,
    aws_created_a_route_unheard => CreateCall::CreateRoute,
    aws_created_the_permission_unheard => CreateCall::AddPermission,
);

/// A state write whose answer is lost: S3 stored it, the connection closed before the answer
/// reached the provisioner, the SDK sent the write again and S3 refused the repeat (its
/// condition names the version the first attempt replaced). That is the run's own write, not
/// someone else's, so the apply goes on and converges. (A build without the fix stops there
/// with "someone else wrote the state ... nothing was written", finding 4's message, with
/// nothing else running.)
async fn state_write_answer_lost(nth: usize) {
    let f = Fixture::on_s3("");
    let aws = Aws::new().await;
    let proxy = HoldingProxy::start_with(CreateCall::PutState, nth, true);
    let output = f
        .command(&APPLY)
        .env("AWS_ENDPOINT_URL", proxy.url())
        .output()
        .expect("run provisioner");
    let stderr = String::from_utf8_lossy(&output.stderr);
    eprintln!("--- apply through the proxy\n{stderr}");
    assert!(
        proxy.held.try_recv().is_ok(),
        "the apply made fewer than {nth} state writes"
    );
    drop(proxy);
    assert!(
        !stderr.contains("someone else wrote"),
        "state write #{nth}: its own write taken for someone else's"
    );
    assert!(output.status.success(), "the apply failed: {stderr}");
    let point = format!("state write #{nth} answered, not heard");
    assert_eq!(aws.inventory(&f).await, Aws::one_stack(), "{point}");
    assert_eq!(f.plan().0, 0, "the plan after {point} is not empty");
    destroys_to_nothing(&f, &aws, &point).await;
}

common::scenario_tests!(
    state_write_answer_lost;
    s3_first_state_write_answer_lost => 1,
    s3_tenth_state_write_answer_lost => 10,
);
