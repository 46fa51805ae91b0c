//! Proxies in front of the emulator. [`ObservingProxy`]: it passes every request on, and after each
//! request that changes something (anything but a read) has been answered by AWS, and before
//! the answer reaches the provisioner, it calls a check. The provisioner cannot take its next
//! step before the check has looked at AWS, so a check sees every intermediate state of an
//! apply, one AWS write at a time. [`HoldingProxy`]: passes everything on but holds back AWS's
//! answer to one chosen call, so a test can kill the provisioner after AWS did something it
//! never heard of.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};

/// One HTTP request as the proxy saw it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    /// `X-Amz-Target` (JSON protocols: DynamoDB, CloudWatch Logs).
    pub target: Option<String>,
    pub body: Vec<u8>,
}

impl Request {
    /// The operation's name as far as the wire shows it: the target's or the query protocol's
    /// action, else the method and path.
    pub fn name(&self) -> String {
        if let Some(target) = &self.target {
            return target.clone();
        }
        let body = String::from_utf8_lossy(&self.body);
        if let Some(action) = body
            .strip_prefix("Action=")
            .map(|rest| rest.split('&').next().unwrap_or_default())
        {
            return action.to_string();
        }
        format!("{} {}", self.method, self.path)
    }

    /// True for a request that only reads.
    pub fn is_read(&self) -> bool {
        if matches!(self.method.as_str(), "GET" | "HEAD") {
            return true;
        }
        let name = self.name();
        let operation = name.rsplit(['.', ' ']).next().unwrap_or_default();
        ["Get", "Describe", "List", "Query", "Scan"]
            .iter()
            .any(|read| operation.starts_with(read))
    }
}

/// A proxy's accept loop on a port of its own: each client connection is handed to `serve`
/// (on the loop's thread) until the value is dropped.
struct Listening {
    port: u16,
    stop: Arc<AtomicBool>,
}

impl Listening {
    fn start(mut serve: impl FnMut(TcpStream) + Send + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        let port = listener.local_addr().expect("proxy address").port();
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        std::thread::spawn(move || {
            for client in listener.incoming() {
                if stopped.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = client else { continue };
                serve(client);
            }
        });
        Self { port, stop }
    }

    /// The endpoint to give the provisioner (`AWS_ENDPOINT_URL`).
    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Listening {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so it sees `stop`.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// The emulator's `host:port`, where the proxies pass requests on.
fn upstream() -> String {
    testkit::endpoint()
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string()
}

/// The proxy; stops accepting when dropped.
pub struct ObservingProxy {
    listening: Listening,
}

impl ObservingProxy {
    /// Starts the proxy; `after_write` runs on the proxy's thread after each changing request
    /// was answered, before the answer is passed on.
    pub fn start(after_write: impl Fn(&Request) + Send + Sync + 'static) -> Self {
        let upstream = upstream();
        let after_write = Arc::new(after_write);
        let listening = Listening::start(move |client| {
            let (upstream, after_write) = (upstream.clone(), Arc::clone(&after_write));
            std::thread::spawn(move || serve(client, &upstream, &*after_write));
        });
        Self { listening }
    }

    /// The endpoint to give the provisioner (`AWS_ENDPOINT_URL`).
    pub fn url(&self) -> String {
        self.listening.url()
    }
}

/// The client's request goes to the emulator on a connection of its own (the emulator closes
/// every connection after its answer, and so does the proxy); the whole answer is read, the
/// check runs for a write, then the answer is passed on.
fn serve(client: TcpStream, upstream: &str, after_write: &(dyn Fn(&Request) + Send + Sync)) {
    let mut to_client = client.try_clone().expect("clone");
    let mut reader = BufReader::new(client);
    if let Some((head, request)) = read_request(&mut reader)
        && let Some(answer) = relay(upstream, &head, &request)
    {
        if !request.is_read() {
            after_write(&request);
        }
        let _ = to_client.write_all(&answer);
    }
    let _ = to_client.shutdown(Shutdown::Both);
}

/// Sends one request to the emulator and reads its whole answer.
fn relay(upstream: &str, head: &[u8], request: &Request) -> Option<Vec<u8>> {
    let mut connection = TcpStream::connect(upstream).ok()?;
    connection.write_all(head).ok()?;
    connection.write_all(&request.body).ok()?;
    let mut answer = Vec::new();
    connection.read_to_end(&mut answer).ok()?;
    Some(answer)
}

/// One request: its head as sent, and what it is. `None` at the end of the connection.
pub fn read_request(reader: &mut BufReader<TcpStream>) -> Option<(Vec<u8>, Request)> {
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

/// A create call, as it looks on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreateCall {
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

impl CreateCall {
    pub fn matches(self, r: &Request) -> bool {
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
pub struct HoldingProxy {
    listening: Listening,
    pub held: mpsc::Receiver<()>,
}

impl HoldingProxy {
    pub fn start(call: CreateCall) -> Self {
        Self::start_with(call, 1, false)
    }

    pub fn start_with(call: CreateCall, nth: usize, drop_connection: bool) -> Self {
        let upstream = upstream();
        let (report, held) = mpsc::channel();
        let seen = Arc::new(AtomicUsize::new(0));
        let listening = Listening::start(move |client| {
            let upstream = TcpStream::connect(&upstream).expect("reach the emulator");
            let (report, seen) = (report.clone(), Arc::clone(&seen));
            std::thread::spawn(move || {
                let held = Held {
                    call,
                    nth,
                    seen: &seen,
                    drop_connection,
                };
                relay_holding(client, upstream, &held, &report);
            });
        });
        Self { listening, held }
    }

    pub fn url(&self) -> String {
        self.listening.url()
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
fn relay_holding(
    client: TcpStream,
    upstream: TcpStream,
    held: &Held<'_>,
    report: &mpsc::Sender<()>,
) {
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
