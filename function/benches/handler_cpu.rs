//! The handler's own CPU per request: everything the function does for a request except the
//! DynamoDB call, claims handling included.
//!
//! Each request is an API Gateway v2 event (JSON, with `requestContext.authorizer.jwt.claims`)
//! decoded by `lambda_http` as on Lambda, with `AUTH_ENABLED=true`, served by the router
//! (CORS, stage rewrite, extractors, the identity and its rule, validation, the store's request
//! building and row parsing, the JSON answer, read to its last byte). The SDK's HTTP client is
//! a stub that answers at once with a canned DynamoDB response (whole rows as the function
//! writes them, cut to the request's `ProjectionExpression` as DynamoDB cuts them), so no
//! network or emulator time is counted, and an interceptor meters the CPU spent inside each SDK operation (first hook to
//! last). The SDK's work outside those hooks (fluent builder, runtime plugins, building its
//! output and freeing it) is measured on the operation sent alone, a GetItem for the
//! single-item requests and the listing's own Query (50 items) for a listing, and counted per
//! operation. Both are subtracted from the whole request; what is left is the handler's own.
//!
//! CPU time is the thread's (`clock_gettime(CLOCK_THREAD_CPUTIME_ID)`), on one current-thread
//! runtime, so other processes on the machine do not count for their own CPU; they still slow
//! this thread's (cache and memory bandwidth taken, the other core's frequency), and only ever
//! make it slower. Two figures of the handler's own, over 400 rounds of 25 requests: the
//! round with the median figure, which carries that disturbance, and the least of the rounds
//! (the handler's work in the round it took least, less the least the SDK was measured to spend
//! around its window): every round is the undisturbed cost plus what the machine added, so the
//! least of them is the closest to that cost and never below it. Rounds are short (a few ms)
//! so that some fall between the scheduler's switches to a neighbour: with 9 rounds of 2,000
//! requests every round spanned many switches, and beside a build even the least of them
//! carried the neighbour's cost (up to 35 µs for a listing whose undisturbed cost is about 20).
//! The requests take their rounds in turn, each followed by a round of its SDK operation alone,
//! so a stretch when the whole machine runs slow (seen here: every figure of one run half as
//! high again) touches a few rounds of each, not all the rounds of one.
//!
//! The bench runs the deployed binary's configuration as far as a bench can: mimalloc, the
//! Lambda binary's allocator (src/main.rs; glibc's malloc before, which made every allocation
//! dearer than on Lambda, and counted it), and, with `--profile lambda`, the Lambda profile's
//! fat LTO in one codegen unit at opt-level "s". Only the target differs: the host's glibc
//! instead of static musl (whose own allocator mimalloc replaces anyway). The first line printed
//! names the profile the binary was built with.
//!
//!   cargo bench -p function --bench handler_cpu --profile lambda
//!   cargo bench -p function --bench handler_cpu        # the `bench` profile: thin LTO, quicker

use std::cell::Cell;
use std::sync::Mutex;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_dynamodb::types::AttributeValue;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::config_bag::ConfigBag;
use axum::body::{Body, to_bytes};
use function::app::{AppState, app};
use function::config::{ClaimNames, Config};
use function::store::Store;
use serde_json::{Value, json};
use tower::ServiceExt;

/// The Lambda binary's allocator (src/main.rs): what each allocation costs there.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const ISSUER: &str = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Example";
const ROUNDS: usize = 400;
const REQUESTS: usize = 25;

/// The run's size, 400 rounds of 25 requests unless `HANDLER_CPU_ROUNDS` and
/// `HANDLER_CPU_REQUESTS` say otherwise, and the requests whose name contains
/// `HANDLER_CPU_ONLY` (all by default): a short run for a profiler, e.g.
/// `HANDLER_CPU_ROUNDS=1 HANDLER_CPU_REQUESTS=100 HANDLER_CPU_ONLY=limit valgrind
/// --tool=callgrind --collect-atstart=no --toggle-collect='handler_cpu::serve::*' <binary>`
/// counts the instructions of 201 listing requests (the check, 100 warm-up, 100 measured) and
/// nothing else (docs/benchmarks.md: an unstripped build of the `lambda` profile).
#[derive(Debug, Clone)]
struct RunSize {
    rounds: usize,
    requests: usize,
    only: Option<String>,
}

impl RunSize {
    fn from_env() -> Self {
        let number = |name: &str, default: usize| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.parse::<usize>().ok())
                .filter(|n| *n > 0)
                .unwrap_or(default)
        };
        Self {
            rounds: number("HANDLER_CPU_ROUNDS", ROUNDS),
            requests: number("HANDLER_CPU_REQUESTS", REQUESTS),
            only: std::env::var("HANDLER_CPU_ONLY").ok(),
        }
    }

    /// Warm-up requests before the measured rounds.
    fn warm_up(&self) -> usize {
        (self.rounds * self.requests).min(200)
    }
}

/// Answers every DynamoDB call at once with a canned body chosen by the operation.
#[derive(Debug, Clone)]
struct Canned;

/// A playground's row as the function writes it, its owner recorded.
fn metadata_row(id: &str) -> Value {
    json!({
        "tableId": {"S": id}, "username": {"S": "_metadata"}, "displayName": {"S": "Playground"},
        "createdAt": {"S": "2026-01-01T00:00:00.000000Z"}, "isArchived": {"BOOL": false},
        "userCount": {"N": "50"}, "ownerIssuer": {"S": ISSUER}, "ownerSubject": {"S": "alice"}
    })
}

fn user_row(i: usize) -> Value {
    json!({
        "tableId": {"S": "pg0"}, "username": {"S": format!("user{i}")},
        "submissionCount": {"N": (1000 - i).to_string()}, "totalCount": {"N": "2000"},
        "lastUpdated": {"S": "2026-01-01T00:00:00.000000Z"}
    })
}

/// The canned answer to a request: made once per operation, index and projection, then
/// reused (the stub answers inside the SDK's metered window, but is kept cheap all the same).
fn canned_body(target: &str, request: &str) -> &'static str {
    static BODIES: Mutex<Vec<(String, &'static str)>> = Mutex::new(Vec::new());
    let projection = projection_expression(request);
    let key = format!(
        "{target} {} {}",
        request.contains("byCreatedAt"),
        projection.unwrap_or("")
    );
    let mut bodies = BODIES.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, body)) = bodies.iter().find(|(k, _)| *k == key) {
        return body;
    }
    let body: &'static str = canned(target, request, projection).leak();
    bodies.push((key, body));
    body
}

/// The request's `ProjectionExpression`, if it has one (a plain list of names, the only kind
/// the function sends).
fn projection_expression(request: &str) -> Option<&str> {
    const FIELD: &str = r#""ProjectionExpression":""#;
    let rest = &request[request.find(FIELD)? + FIELD.len()..];
    rest.split('"').next()
}

/// `row` with only the attributes `projection` names, as DynamoDB answers a projected read:
/// what the SDK then parses and the handler frees is what it would be on AWS.
fn project(row: Value, projection: Option<&str>) -> Value {
    let Some(projection) = projection else {
        return row;
    };
    let names: Vec<&str> = projection.split(',').map(str::trim).collect();
    match row {
        Value::Object(map) => map
            .into_iter()
            .filter(|(name, _)| names.contains(&name.as_str()))
            .collect(),
        other => other,
    }
}

fn canned(target: &str, request: &str, projection: Option<&str>) -> String {
    match target {
        "DynamoDB_20120810.GetItem" => {
            json!({ "Item": project(metadata_row("pg0"), projection) }).to_string()
        }
        "DynamoDB_20120810.Query" if request.contains("byCreatedAt") => {
            let items: Vec<Value> = (0..50)
                .map(|i| project(metadata_row(&format!("pg{i}")), projection))
                .collect();
            json!({ "Count": 50, "Items": items }).to_string()
        }
        "DynamoDB_20120810.Query" => {
            let items: Vec<Value> = (0..50).map(|i| project(user_row(i), projection)).collect();
            json!({ "Count": 50, "Items": items }).to_string()
        }
        _ => "{}".to_string(),
    }
}

impl HttpConnector for Canned {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let target = request
            .headers()
            .get("x-amz-target")
            .unwrap_or_default()
            .to_string();
        let sent = std::str::from_utf8(request.body().bytes().unwrap_or_default()).unwrap_or("");
        if target == "DynamoDB_20120810.Query" {
            let projection = projection_expression(sent).unwrap_or_default().to_string();
            LAST_QUERY.set(Some((sent.contains("byCreatedAt"), projection)));
        }
        let body = canned_body(&target, sent);
        let mut response = HttpResponse::new(200.try_into().unwrap(), SdkBody::from(body));
        response
            .headers_mut()
            .insert("content-type", "application/x-amz-json-1.0");
        HttpConnectorFuture::ready(Ok(response))
    }
}

impl HttpClient for Canned {
    fn http_connector(
        &self,
        _: &HttpConnectorSettings,
        _: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(self.clone())
    }
}

thread_local! {
    /// CPU the thread spent inside DynamoDB operations since the round began.
    static SDK_CPU: Cell<Duration> = const { Cell::new(Duration::ZERO) };
    /// SDK operations since the round began.
    static SDK_CALLS: Cell<u64> = const { Cell::new(0) };
    /// When the operation in flight began, in thread CPU time.
    static SDK_STARTED: Cell<Option<Duration>> = const { Cell::new(None) };
    /// The last Query the stub answered: on the index `byCreatedAt`, and its projection.
    static LAST_QUERY: Cell<Option<(bool, String)>> = const { Cell::new(None) };
}

/// Counts the CPU of each SDK operation from its first interceptor hook to its last
/// (serialising, signing, the stub's answer, parsing, the retry machinery): what the request
/// spends "in the SDK call". The builder before it and the output after it are measured apart
/// ([`SdkAlone`]).
#[derive(Debug)]
struct SdkMeter;

impl Intercept for SdkMeter {
    fn name(&self) -> &'static str {
        "SdkMeter"
    }

    fn read_before_execution(
        &self,
        _: &BeforeSerializationInterceptorContextRef<'_>,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        SDK_CALLS.set(SDK_CALLS.get() + 1);
        SDK_STARTED.set(Some(thread_cpu()));
        Ok(())
    }

    fn read_after_execution(
        &self,
        _: &FinalizerInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(started) = SDK_STARTED.take() {
            SDK_CPU.set(SDK_CPU.get() + (thread_cpu() - started));
        }
        Ok(())
    }
}

fn client() -> Client {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("AKID", "SECRET", None, None, "bench"))
        .http_client(Canned)
        .interceptor(SdkMeter)
        .build();
    Client::from_conf(config)
}

/// An API Gateway v2 event for `method path` with `body`, from `sub` (an admin if asked).
fn event(method: &str, path: &str, query: &str, body: Option<Value>, sub: &str) -> String {
    json!({
        "version": "2.0", "routeKey": "$default", "rawPath": format!("/dev{path}"),
        "rawQueryString": query,
        "headers": {"content-type": "application/json", "host": "abc.execute-api.example"},
        "requestContext": {
            "accountId": "123456789012", "apiId": "abc", "domainName": "abc.example",
            "requestId": "r", "routeKey": "$default", "stage": "dev", "time": "t",
            "timeEpoch": 0,
            "http": {"method": method, "path": format!("/dev{path}"), "protocol": "HTTP/1.1",
                     "sourceIp": "203.0.113.7"},
            "authorizer": {"jwt": {"claims": {
                "iss": ISSUER, "sub": sub, "aud": "client", "exp": "1895712400",
                "cognito:groups": "[editors]", "cognito:username": sub
            }, "scopes": null}}
        },
        "body": body.map(|b| b.to_string()),
        "isBase64Encoded": false
    })
    .to_string()
}

/// The calling thread's CPU time so far (`CLOCK_THREAD_CPUTIME_ID`: nanoseconds, where
/// `/proc/thread-self/schedstat` may only advance by scheduler ticks).
fn thread_cpu() -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid, writable timespec; the clock id is a constant Linux knows.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let config = Config {
        auth_enabled: true,
        claims: ClaimNames {
            username: "cognito:username".into(),
            admin_group: Some("admin".into()),
            ..ClaimNames::default()
        },
        ..Config::for_table("bench")
    };
    let size = RunSize::from_env();
    let dynamo = client();
    let router = app(AppState::new(Store::new(dynamo.clone(), "bench"), config));

    let scenarios: Vec<(&str, String, u16)> = vec![
        (
            "GET /health (no call)",
            event("GET", "/health", "", None, "alice"),
            200,
        ),
        (
            "GET /tables/{id} (GetItem)",
            event("GET", "/tables/pg0", "", None, "alice"),
            200,
        ),
        (
            "PATCH /tables/{id} as owner (UpdateItem)",
            event(
                "PATCH",
                "/tables/pg0",
                "",
                Some(json!({"displayName": "Renamed", "isArchived": true})),
                "alice",
            ),
            200,
        ),
        (
            "PUT /tables/{id}/users/{name} as that user (UpdateItem)",
            event(
                "PUT",
                "/tables/pg0/users/alice",
                "",
                Some(json!({"submissionCount": 3, "totalCount": 5})),
                "alice",
            ),
            200,
        ),
        (
            "POST /tables with owner (PutItem)",
            event(
                "POST",
                "/tables",
                "",
                Some(json!({"tableId": "new", "displayName": "New"})),
                "alice",
            ),
            201,
        ),
        (
            "GET /tables?limit=50 (Query, 50 items)",
            event("GET", "/tables", "limit=50", None, "alice"),
            200,
        ),
        (
            "GET /tables/{id}/users?limit=50 (Query, 50 items)",
            event("GET", "/tables/pg0/users", "limit=50", None, "alice"),
            200,
        ),
    ];

    println!("{}\n", build_profile());
    println!(
        "| request | whole request (µs CPU) | in the SDK call (µs CPU) | of which around the SDK's \
         window: builder, output, freeing it (µs CPU) | the handler's own (µs CPU) | the \
         handler's own, least of the rounds (µs CPU) |"
    );
    println!("|---|---|---|---|---|---|");
    let scenarios = scenarios
        .into_iter()
        .filter(|(name, _, _)| size.only.as_deref().is_none_or(|only| name.contains(only)));
    let mut cases = Vec::new();
    for (name, raw, expected) in scenarios {
        // Check once that the request is answered as expected (a 401 or 500 would measure
        // the wrong path), and learn which SDK operation it sends.
        LAST_QUERY.set(None);
        SDK_CALLS.set(0);
        let status = serve(&router, &raw).await;
        assert_eq!(status, expected, "{name}");
        let alone = match (LAST_QUERY.take(), SDK_CALLS.get()) {
            (_, 0) => None,
            (Some((by_created_at, projection)), _) => Some(SdkAlone::Query {
                by_created_at,
                projection,
            }),
            (None, _) => Some(SdkAlone::GetItem),
        };
        for _ in 0..size.warm_up() {
            serve(&router, &raw).await;
            if let Some(alone) = &alone {
                alone.send(&dynamo).await;
            }
        }
        cases.push(Case {
            name,
            raw,
            alone,
            rounds: Vec::with_capacity(size.rounds),
            around: Vec::with_capacity(size.rounds),
        });
    }
    // The rounds of every request in turn, so that each samples the whole run: a stretch when
    // the machine runs slow (a neighbour, the host) slows a few rounds of each, not all of one.
    for _ in 0..size.rounds {
        for case in &mut cases {
            case.rounds
                .push(handler_round(&router, &case.raw, size.requests).await);
            if let Some(alone) = &case.alone {
                case.around
                    .push(around_round(&dynamo, alone, size.requests).await);
            }
        }
    }
    for mut case in cases {
        let outside = Around::of(&mut case.around);
        let median = Round::median(&mut case.rounds, outside.median);
        let least = Round::least(&case.rounds, outside.least);
        let sdk = median.sdk(outside.median);
        println!(
            "| {} | {:.1} | {sdk:.1} | {:.1} | {:.1} | {:.1} |",
            case.name,
            median.whole,
            outside.median,
            median.handler(outside.median),
            least,
        );
    }
}

/// One request of the bench, and its rounds so far.
struct Case {
    name: &'static str,
    /// The API Gateway event.
    raw: String,
    /// Its SDK operation sent alone, to measure the SDK's work around its window; `None` for a
    /// request that sends none.
    alone: Option<SdkAlone>,
    rounds: Vec<Round>,
    /// The SDK's CPU around its window per operation, per round of `alone`.
    around: Vec<f64>,
}

/// One measured round of `requests` times the request `raw`.
async fn handler_round(router: &axum::Router, raw: &str, requests: usize) -> Round {
    SDK_CPU.set(Duration::ZERO);
    SDK_CALLS.set(0);
    let before = thread_cpu();
    for _ in 0..requests {
        serve(router, raw).await;
    }
    let whole = thread_cpu() - before;
    let per = |d: Duration| d.as_secs_f64() * 1e6 / requests as f64;
    Round {
        whole: per(whole),
        window: per(SDK_CPU.get()),
        calls: SDK_CALLS.get() as f64 / requests as f64,
    }
}

/// One measured round's figures, per request, in µs of thread CPU.
#[derive(Debug, Clone, Copy)]
struct Round {
    /// The whole request.
    whole: f64,
    /// Inside the SDK's metered window.
    window: f64,
    /// SDK operations sent.
    calls: f64,
}

impl Round {
    /// The SDK's share: its window and, per operation, its work around the window.
    fn sdk(&self, around: f64) -> f64 {
        self.window + self.calls * around
    }

    fn handler(&self, around: f64) -> f64 {
        self.whole - self.sdk(around)
    }

    /// The round with the median handler figure.
    fn median(rounds: &mut [Round], around: f64) -> Round {
        rounds.sort_by(|a, b| a.handler(around).total_cmp(&b.handler(around)));
        rounds[rounds.len() / 2]
    }

    /// The handler's cost undisturbed: its work (the whole request less the SDK's window,
    /// measured in the same round) in the round it took least, less the least the SDK was
    /// measured to spend around its window. Other work on the machine only ever adds to a
    /// CPU-bound loop's time (cache and frequency lost to a neighbour), so the least round is
    /// the one it disturbed least; subtracting the SDK's least, not its median, errs towards a
    /// higher figure.
    fn least(rounds: &[Round], around: f64) -> f64 {
        let own = rounds
            .iter()
            .map(|round| round.whole - round.window)
            .fold(f64::INFINITY, f64::min);
        let calls = rounds.first().map_or(0.0, |round| round.calls);
        own - calls * around
    }
}

/// Which build this is: cargo puts a bench binary in `target/<profile dir>/deps/` (`release`
/// for the `bench` profile).
fn build_profile() -> String {
    let exe = std::env::current_exe().unwrap_or_default();
    let profile = exe
        .parent()
        .filter(|deps| deps.ends_with("deps"))
        .and_then(|deps| deps.parent()?.file_name())
        .map_or_else(
            || "unknown".into(),
            |dir| dir.to_string_lossy().into_owned(),
        );
    let profile = if profile == "release" {
        "bench (thin LTO)".to_string()
    } else {
        profile
    };
    format!("allocator: mimalloc; profile: {profile}")
}

/// A request's SDK operation sent alone: its whole `send()` and the drop of its output, less
/// its metered window, is the SDK's CPU around that window (the fluent builder, the
/// orchestrator applying its runtime plugins before the first hook, the output after the last,
/// and freeing that output).
enum SdkAlone {
    /// The single-item requests' operation, one item answered.
    GetItem,
    /// The Query a listing just sent (the same canned page of 50 items, projected alike), so
    /// that the SDK's output of 50 items (built after the window, freed by whoever holds it)
    /// is counted as the SDK's, as GetItem's one item always was.
    Query {
        by_created_at: bool,
        projection: String,
    },
}

impl SdkAlone {
    async fn send(&self, client: &Client) {
        match self {
            SdkAlone::GetItem => {
                let key = std::collections::HashMap::from([
                    ("tableId".to_string(), AttributeValue::S("pg0".into())),
                    (
                        "username".to_string(),
                        AttributeValue::S("_metadata".into()),
                    ),
                ]);
                client
                    .get_item()
                    .table_name("bench")
                    .set_key(Some(key))
                    .consistent_read(true)
                    .send()
                    .await
                    .expect("the stub answers");
            }
            SdkAlone::Query {
                by_created_at,
                projection,
            } => {
                let query = client
                    .query()
                    .table_name("bench")
                    .key_condition_expression("tableId = :t")
                    .expression_attribute_values(":t", AttributeValue::S("pg0".into()))
                    .projection_expression(projection);
                let query = if *by_created_at {
                    query.index_name("byCreatedAt")
                } else {
                    query
                };
                let page = query.send().await.expect("the stub answers");
                assert_eq!(page.items().len(), 50, "the canned page");
            }
        }
    }
}

/// One round of `alone` sent `requests` times: its CPU outside the SDK's metered window, per
/// operation, in µs.
async fn around_round(client: &Client, alone: &SdkAlone, requests: usize) -> f64 {
    SDK_CPU.set(Duration::ZERO);
    let before = thread_cpu();
    for _ in 0..requests {
        alone.send(client).await;
    }
    let outside = (thread_cpu() - before).saturating_sub(SDK_CPU.get());
    outside.as_secs_f64() * 1e6 / requests as f64
}

/// The SDK's CPU around its metered window per operation, in µs: the median and the least of
/// the rounds (0 for a request that sends no operation).
#[derive(Debug, Clone, Copy)]
struct Around {
    median: f64,
    least: f64,
}

impl Around {
    fn of(rounds: &mut [f64]) -> Self {
        if rounds.is_empty() {
            return Self {
                median: 0.0,
                least: 0.0,
            };
        }
        rounds.sort_by(f64::total_cmp);
        Self {
            median: rounds[rounds.len() / 2],
            least: rounds[0],
        }
    }
}

/// One request as Lambda hands it over: the event decoded by `lambda_http`, served by the
/// router, its body read to the end. Returns the status.
async fn serve(router: &axum::Router, raw: &str) -> u16 {
    let request = lambda_http::request::from_str(raw).expect("a valid event");
    let request = request.map(|body| Body::from(body.to_vec()));
    let response = router.clone().oneshot(request).await.expect("infallible");
    let status = response.status().as_u16();
    let _ = to_bytes(response.into_body(), usize::MAX).await;
    status
}
