//! SIGKILL at ten points of an apply (nine across a first apply, one during an in-place
//! update), each in a fresh stack: the kill must land while the apply runs, the next apply then
//! converges with exactly one of everything (counted by listing each service), the plan after
//! it is empty, and destroy leaves nothing behind. Also a destroy killed half way, and a destroy
//! right after a killed first apply.
//!
//! The ten points are the apply's progress lines on stderr (`<address>: creating...` is printed
//! once the step's pending operation is in the state, right before its AWS calls;
//! `<address>: created after ...` once the result is in the state). The kill lands as that step
//! starts or ends, while independent steps may be in flight, so whether AWS then holds an object
//! the state does not know is up to timing. The `aws_created_*` tests make that window certain
//! for seven create calls: a proxy in front of the emulator passes the call on, holds AWS's
//! answer back, and the process is killed then. The next apply must adopt what AWS made: with
//! the engine's adoption switched off as a check, all seven failed (duplicates, name conflicts).
//!
//! The same on the S3 backend with its DynamoDB lock, where a killed run leaves its lock behind:
//! a destroy killed at nine points spread over its run (from right after it took the lock to its
//! last deletes), a first apply killed at three points, and an apply that renames objects
//! (create-before-destroy replacements, the old objects deposed in the state) killed at two. Each
//! is followed by what an operator does: the next apply is refused naming the lock, the
//! `provisioner force-unlock --env dev ID` its error prints frees it, and that apply is run
//! again; it must converge (no "someone else wrote the state"), then the plan is empty and
//! destroy leaves nothing. Also a renaming apply killed and then reverted, and a state write
//! whose answer is lost on the way back (the `s3_*_state_write_answer_lost` tests, through the
//! proxy below): the SDK's retry of that write is refused by S3's condition, and the run must
//! recognise its own write instead of stopping with "someone else wrote the state" (which a
//! build before the fix did at once, with nothing else running).
//!
//! Each point is its own test, so they run in parallel and a failure names its point.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use common::{Aws, Fixture};

const APPLY: [&str; 4] = ["apply", "--env", "dev", "--auto-approve"];
const DESTROY: [&str; 4] = ["destroy", "--env", "dev", "--auto-approve"];

/// Runs `args`, SIGKILLs it as soon as a stderr line contains `trigger`, and asserts that it
/// was the kill that ended the run (not the run finishing before the trigger or the signal).
fn kill_when(f: &Fixture, args: &[&str], trigger: &str) {
    let mut child = f
        .command(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start provisioner");
    let stderr = child.stderr.take().expect("piped stderr");
    let mut seen = false;
    for line in BufReader::new(stderr).lines() {
        let Ok(line) = line else { break };
        eprintln!("[child] {line}");
        if line.contains(trigger) {
            // Child::kill sends SIGKILL on Unix.
            child.kill().expect("SIGKILL");
            seen = true;
            break;
        }
    }
    let status = child.wait().expect("wait");
    eprintln!("killed at {trigger:?}: seen={seen}, status={status:?}");
    assert!(seen, "`provisioner {args:?}` never printed {trigger:?}");
    assert_eq!(
        status.signal(),
        Some(9),
        "`provisioner {args:?}` ended before the SIGKILL at {trigger:?} ({status:?})"
    );
}

/// After a killed apply: apply again, then one of everything and an empty plan.
async fn reapply_converges(f: &Fixture, aws: &Aws, point: &str) {
    f.apply();
    assert_eq!(
        aws.inventory(f).await,
        Aws::one_stack(),
        "duplicates or gaps after the re-apply that followed a kill at {point:?}"
    );
    assert_eq!(
        f.plan().0,
        0,
        "the plan after re-applying (kill at {point:?}) is not empty"
    );
}

/// Destroy leaves nothing of the stack in any service.
async fn destroys_to_nothing(f: &Fixture, aws: &Aws, point: &str) {
    f.destroy();
    assert_eq!(
        aws.leftovers(f).await,
        Vec::<String>::new(),
        "left behind after a kill at {point:?}"
    );
}

/// A first apply of a fresh stack killed at `point`.
async fn first_apply_killed_at(point: &str) {
    let f = Fixture::new("");
    let aws = Aws::new().await;
    kill_when(&f, &APPLY, point);
    reapply_converges(&f, &aws, point).await;
    destroys_to_nothing(&f, &aws, point).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn killed_while_creating_the_role() {
    first_apply_killed_at("iam_role.lambda: creating").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn killed_while_creating_the_table() {
    first_apply_killed_at("dynamodb_table.playground: creating").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn killed_after_creating_the_log_group() {
    first_apply_killed_at("log_group.lambda: created").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn killed_after_creating_the_role_policy() {
    first_apply_killed_at("iam_role_policy.dynamodb: created").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn killed_while_creating_the_function() {
    first_apply_killed_at("lambda_function.api: creating").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn killed_after_creating_the_api() {
    first_apply_killed_at("apigw_api.http: created").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn killed_while_creating_the_integration() {
    first_apply_killed_at("apigw_integration.lambda: creating").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn killed_while_creating_a_route() {
    first_apply_killed_at("apigw_route.put_user: creating").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn killed_while_creating_the_permission() {
    first_apply_killed_at("lambda_permission.apigw: creating").await;
}

/// The tenth point: an in-place update (memory changed in the stack file) killed mid-step.
#[tokio::test(flavor = "multi_thread")]
async fn killed_while_updating_the_function() {
    let point = "lambda_function.api: updating";
    let f = Fixture::new("");
    let aws = Aws::new().await;
    f.apply();
    f.write_stack("[env.dev.lambda]\nmemory_mb = 512\n");
    kill_when(&f, &APPLY, point);

    reapply_converges(&f, &aws, point).await;
    let config = aws.function_configuration(&f.function_name()).await;
    assert_eq!(config.memory_size(), Some(512), "the update was completed");
    destroys_to_nothing(&f, &aws, point).await;
}

/// A destroy killed half way, then a destroy that finishes: nothing left.
#[tokio::test(flavor = "multi_thread")]
async fn killed_destroy_then_destroy_leaves_nothing() {
    let f = Fixture::new("");
    let aws = Aws::new().await;
    f.apply();
    kill_when(&f, &DESTROY, "destroyed after");
    f.destroy();
    assert_eq!(aws.leftovers(&f).await, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread")]
async fn destroy_after_a_killed_first_apply_finds_what_the_state_lost() {
    let f = Fixture::new("");
    let aws = Aws::new().await;
    // Killed while the function is being created: the state may not know it yet.
    kill_when(&f, &APPLY, "lambda_function.api: creating");
    f.destroy();
    assert_eq!(aws.leftovers(&f).await, Vec::<String>::new());
}

/// A destroy of a whole stack whose state is in S3, locked in DynamoDB, killed at `point`:
/// the lock stays. The next apply is refused and names it; after force-unlock that apply
/// converges, the plan is empty, destroy leaves nothing.
async fn s3_destroy_killed_at(point: &str) {
    let f = Fixture::on_s3("");
    let aws = Aws::new().await;
    f.apply();
    kill_when(&f, &VERBOSE_DESTROY, point);
    f.force_unlock_after_kill(&APPLY, "dev");
    reapply_converges(&f, &aws, point).await;
    destroys_to_nothing(&f, &aws, point).await;
}

/// Destroy with `-v`, so "state locked" is printed once the lock is held, before any read.
const VERBOSE_DESTROY: [&str; 5] = ["-v", "destroy", "--env", "dev", "--auto-approve"];

#[tokio::test(flavor = "multi_thread")]
async fn s3_destroy_killed_once_it_holds_the_lock() {
    s3_destroy_killed_at("state locked").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn s3_destroy_killed_while_destroying_a_route() {
    s3_destroy_killed_at("apigw_route.get_users: destroying").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn s3_destroy_killed_after_destroying_the_stage() {
    s3_destroy_killed_at("apigw_stage.main: destroyed").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn s3_destroy_killed_after_destroying_the_integration() {
    s3_destroy_killed_at("apigw_integration.lambda: destroyed").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn s3_destroy_killed_while_destroying_the_function() {
    s3_destroy_killed_at("lambda_function.api: destroying").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn s3_destroy_killed_after_destroying_the_function() {
    s3_destroy_killed_at("lambda_function.api: destroyed").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn s3_destroy_killed_after_destroying_the_role_policy() {
    s3_destroy_killed_at("iam_role_policy.dynamodb: destroyed").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn s3_destroy_killed_while_destroying_the_role() {
    s3_destroy_killed_at("iam_role.lambda: destroying").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn s3_destroy_killed_while_destroying_the_table() {
    s3_destroy_killed_at("dynamodb_table.playground: destroying").await;
}

/// A first apply on the S3 backend killed at `point`, then force-unlock and the same checks.
async fn s3_first_apply_killed_at(point: &str) {
    let f = Fixture::on_s3("");
    let aws = Aws::new().await;
    kill_when(&f, &APPLY, point);
    f.force_unlock_after_kill(&APPLY, "dev");
    reapply_converges(&f, &aws, point).await;
    destroys_to_nothing(&f, &aws, point).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn s3_first_apply_killed_while_creating_the_role() {
    s3_first_apply_killed_at("iam_role.lambda: creating").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn s3_first_apply_killed_while_creating_the_function() {
    s3_first_apply_killed_at("lambda_function.api: creating").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn s3_first_apply_killed_after_creating_the_integration() {
    s3_first_apply_killed_at("apigw_integration.lambda: created").await;
}

/// An apply that renames the stack's objects (a new name prefix under the same `[stack] name`,
/// the table's name kept), killed at `point` while old and new objects both exist. After
/// force-unlock, the next apply finishes the rename: one role, function, log group, each under
/// its new name, the old ones deleted; then an empty plan and a destroy to nothing.
async fn s3_rename_killed_at(point: &str) {
    let f = Fixture::on_s3("");
    let aws = Aws::new().await;
    f.apply();
    let (old, new) = (f.prefix.clone(), format!("{}r", f.prefix));
    f.write_stack(&format!(
        "[env.dev.stack]\nname_prefix = \"{new}\"\nname = \"{old}\"\n\n\
         [env.dev.table]\nname = \"{}\"\n",
        f.table_name()
    ));
    kill_when(&f, &APPLY, point);
    f.force_unlock_after_kill(&APPLY, "dev");
    f.apply();

    let counts = [
        aws.role_count(&old).await,
        aws.function_count(&old).await,
        aws.log_group_count(&format!("/aws/lambda/{old}")).await,
        aws.table_count(&old).await,
        aws.api_ids(&format!("{new}-dev-http-api")).await.len(),
    ];
    assert_eq!(
        counts, [1; 5],
        "role, function, log group, table, API after {point:?}"
    );
    assert!(aws.role_exists(&format!("{new}-dev-lambda")).await);
    assert!(aws.function_exists(&format!("{new}-dev-api")).await);
    let policy = aws
        .lambda
        .get_policy()
        .function_name(format!("{new}-dev-api"))
        .send()
        .await
        .expect("the new function has its invoke permission");
    assert!(
        policy
            .policy()
            .is_some_and(|p| p.contains("AllowApiGatewayInvoke"))
    );
    assert_eq!(
        aws.permission_count(&f).await,
        0,
        "the old function's permission (or the function) is left"
    );
    assert_eq!(f.plan().0, 0, "the plan after the re-apply is not empty");
    f.destroy();
    assert_eq!(aws.leftovers(&f).await, Vec::<String>::new());
    let left = [
        aws.role_count(&old).await,
        aws.function_count(&old).await,
        aws.log_group_count(&format!("/aws/lambda/{old}")).await,
        aws.table_count(&old).await,
    ];
    assert_eq!(left, [0; 4], "left behind after a kill at {point:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn s3_rename_killed_once_the_new_function_exists() {
    s3_rename_killed_at("lambda_function.api: replaced").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn s3_rename_killed_while_deleting_the_old_permission() {
    s3_rename_killed_at("lambda_permission.apigw#deposed-0: destroying").await;
}

/// A renaming apply killed once the new role exists (the old one deposed in the state, still
/// in AWS), then the operator reverts the stack file to the old names and applies again: the
/// old objects are declared again, so they must stay (or come back) and be what the function
/// uses, the new ones go, and one apply converges.
#[tokio::test(flavor = "multi_thread")]
async fn s3_rename_killed_then_reverted_keeps_the_old_objects() {
    let point = "iam_role.lambda: replaced";
    let f = Fixture::on_s3("");
    let aws = Aws::new().await;
    f.apply();
    let (old, new) = (f.prefix.clone(), format!("{}r", f.prefix));
    f.write_stack(&format!(
        "[env.dev.stack]\nname_prefix = \"{new}\"\nname = \"{old}\"\n\n\
         [env.dev.table]\nname = \"{}\"\n",
        f.table_name()
    ));
    kill_when(&f, &APPLY, point);
    f.write_stack("");
    f.force_unlock_after_kill(&APPLY, "dev");
    f.apply();

    let role = f.role_name();
    assert!(
        aws.role_exists(&role).await,
        "the declared role {role} was deleted by the apply that declared it"
    );
    let config = aws.function_configuration(&f.function_name()).await;
    assert!(
        config
            .role()
            .is_some_and(|r| r.ends_with(&format!("/{role}"))),
        "{config:?}"
    );
    assert_eq!(aws.inventory(&f).await, Aws::one_stack());
    assert!(!aws.role_exists(&format!("{new}-dev-lambda")).await);
    let (code, plan) = f.plan();
    assert_eq!(
        code, 0,
        "one apply after the revert does not converge: {plan}"
    );
    destroys_to_nothing(&f, &aws, point).await;
}

/// A create call, as it looks on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CreateCall {
    CreateRole,
    CreateTable,
    CreateFunction,
    CreateApi,
    CreateIntegration,
    CreateRoute,
    AddPermission,
    /// Not a create: a write of the state object (S3 PutObject of `.../state.json`).
    PutState,
}

/// One HTTP request the proxy saw.
struct Request {
    method: String,
    path: String,
    target: Option<String>,
    body: Vec<u8>,
}

impl CreateCall {
    fn matches(self, r: &Request) -> bool {
        let post = r.method == "POST";
        let under = |prefix: &str, suffix: &str| {
            post && r.path.starts_with(prefix) && r.path.ends_with(suffix)
        };
        match self {
            // IAM's query protocol: the operation is a form field of the body.
            Self::CreateRole => post && r.body.starts_with(b"Action=CreateRole&"),
            Self::CreateTable => r.target.as_deref() == Some("DynamoDB_20120810.CreateTable"),
            Self::CreateFunction => post && r.path == "/2015-03-31/functions",
            Self::AddPermission => under("/2015-03-31/functions/", "/policy"),
            Self::CreateApi => post && r.path == "/v2/apis",
            Self::CreateIntegration => under("/v2/apis/", "/integrations"),
            Self::CreateRoute => under("/v2/apis/", "/routes"),
            Self::PutState => r.method == "PUT" && r.path.ends_with("/state.json"),
        }
    }
}

/// A TCP proxy in front of the emulator that passes everything on, except that it holds back
/// AWS's answer to the first (or `nth`) request matching its [`CreateCall`] and reports it
/// instead; with `drop_connection` it then closes the client's connection, as a network that
/// lost the answer would, instead of leaving the client waiting.
struct HoldingProxy {
    port: u16,
    held: mpsc::Receiver<()>,
    stop: Arc<AtomicBool>,
}

impl HoldingProxy {
    fn start(call: CreateCall) -> Self {
        Self::start_with(call, 1, false)
    }

    fn start_with(call: CreateCall, nth: usize, drop_connection: bool) -> Self {
        let upstream = testkit::endpoint()
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_string();
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        let port = listener.local_addr().expect("proxy address").port();
        let (report, held) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(AtomicUsize::new(0));
        let stopped = Arc::clone(&stop);
        std::thread::spawn(move || {
            for client in listener.incoming() {
                if stopped.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = client else { continue };
                let upstream = TcpStream::connect(&upstream).expect("reach the emulator");
                let (report, seen) = (report.clone(), Arc::clone(&seen));
                std::thread::spawn(move || {
                    let held = Held {
                        call,
                        nth,
                        seen: &seen,
                        drop_connection,
                    };
                    relay(client, upstream, &held, &report);
                });
            }
        });
        Self { port, held, stop }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for HoldingProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so it sees `stop`.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// Which answer a [`HoldingProxy`] holds back: that of the `nth` request matching `call`
/// (counted in `seen` over every connection), and whether the connection is closed then.
struct Held<'a> {
    call: CreateCall,
    nth: usize,
    seen: &'a AtomicUsize,
    drop_connection: bool,
}

/// Requests from `client` go to `upstream` one at a time (the SDK's HTTP/1.1 client never
/// pipelines), answers come back as bytes; once the held call went upstream, its answer is
/// swallowed and reported (and the connection to the client closed, if asked).
fn relay(client: TcpStream, upstream: TcpStream, held: &Held<'_>, report: &mpsc::Sender<()>) {
    let holding = Arc::new(AtomicBool::new(false));
    let (mut from_upstream, mut to_client) = (
        upstream.try_clone().expect("clone"),
        client.try_clone().expect("clone"),
    );
    let (answers_holding, report) = (Arc::clone(&holding), report.clone());
    let drop_connection = held.drop_connection;
    std::thread::spawn(move || {
        let mut buffer = [0u8; 16 * 1024];
        while let Ok(n) = from_upstream.read(&mut buffer) {
            if n == 0 {
                break;
            }
            if answers_holding.load(Ordering::SeqCst) {
                // AWS has done it; the provisioner will never know.
                let _ = report.send(());
                if drop_connection {
                    let _ = to_client.shutdown(Shutdown::Both);
                }
                return;
            }
            if to_client.write_all(&buffer[..n]).is_err() {
                break;
            }
        }
        let _ = to_client.shutdown(Shutdown::Both);
    });
    let mut reader = BufReader::new(client);
    let mut upstream = upstream;
    while let Some((head, request)) = read_request(&mut reader) {
        if held.call.matches(&request) && held.seen.fetch_add(1, Ordering::SeqCst) + 1 == held.nth {
            holding.store(true, Ordering::SeqCst);
        }
        if upstream.write_all(&head).is_err() || upstream.write_all(&request.body).is_err() {
            break;
        }
    }
    let _ = upstream.shutdown(Shutdown::Both);
}

/// One request: its head as sent, and what it is. `None` at the end of the connection.
fn read_request(reader: &mut BufReader<TcpStream>) -> Option<(Vec<u8>, Request)> {
    let mut head = Vec::new();
    let (mut method, mut path, mut target, mut length) = (String::new(), String::new(), None, 0);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        head.extend_from_slice(line.as_bytes());
        let text = line.trim_end();
        if text.is_empty() {
            break;
        }
        if method.is_empty() {
            let mut parts = text.split(' ');
            method = parts.next().unwrap_or_default().to_string();
            let uri = parts.next().unwrap_or_default();
            path = uri.split('?').next().unwrap_or_default().to_string();
        } else if let Some((name, value)) = text.split_once(':') {
            let value = value.trim();
            match name.to_ascii_lowercase().as_str() {
                "content-length" => length = value.parse().expect("a content length"),
                "x-amz-target" => target = Some(value.to_string()),
                "transfer-encoding" => panic!("the proxy does not relay chunked requests"),
                _ => {}
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some((
        head,
        Request {
            method,
            path,
            target,
            body,
        },
    ))
}

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
    reapply_converges(&f, &aws, &point).await;
    destroys_to_nothing(&f, &aws, &point).await;
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

#[tokio::test(flavor = "multi_thread")]
async fn aws_created_the_role_unheard() {
    aws_created(CreateCall::CreateRole).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn aws_created_the_table_unheard() {
    aws_created(CreateCall::CreateTable).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn aws_created_the_function_unheard() {
    aws_created(CreateCall::CreateFunction).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn aws_created_the_api_unheard() {
    aws_created(CreateCall::CreateApi).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn aws_created_the_integration_unheard() {
    aws_created(CreateCall::CreateIntegration).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn aws_created_a_route_unheard() {
    aws_created(CreateCall::CreateRoute).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn aws_created_the_permission_unheard() {
    aws_created(CreateCall::AddPermission).await;
}

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

#[tokio::test(flavor = "multi_thread")]
async fn s3_first_state_write_answer_lost() {
    state_write_answer_lost(1).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn s3_tenth_state_write_answer_lost() {
    state_write_answer_lost(10).await;
}
