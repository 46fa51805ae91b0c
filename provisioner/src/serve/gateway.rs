//! One request through the gateway, in API Gateway's order: stage → CORS preflight → route →
//! throttle → authorizer → event → the function → response mapping → CORS headers.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::body::{Body, to_bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::response::Response;
use base64::Engine;
use http::{HeaderValue, StatusCode};

use super::authorizer::Authorizer;
use super::cors::Cors;
use super::deployed::Deployed;
use super::event;
use super::response::{self, Mapped};
use super::routing::{RouteKey, Router};
use super::sandbox::{InvokeError, Pool};
use super::stats::Stats;
use super::throttle::{Limit, Throttle};

/// API Gateway's payload limit for an HTTP API request (10 MB): beyond it, 413.
const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;

/// A deployed route, ready to serve.
pub struct Served {
    pub key: String,
    /// The pool of the route's function, or why the route cannot be served (500).
    pub pool: Result<Arc<Pool>, String>,
    pub authorizer: Option<Arc<Authorizer>>,
}

/// Everything a request needs, shared by every connection.
pub struct Gateway {
    pub deployed: Deployed,
    pub router: Router<Served>,
    pub throttle: Throttle,
    pub stats: Stats,
}

impl Gateway {
    /// The gateway over `deployed`, with the routes' pools and authorizers.
    pub fn new(deployed: Deployed, routes: Vec<Served>) -> Self {
        let parsed = routes
            .into_iter()
            .filter_map(|route| match RouteKey::parse(&route.key) {
                Some(key) => Some((key, route)),
                None => {
                    tracing::warn!(route = %route.key, "a route key API Gateway would not accept; skipped");
                    None
                }
            })
            .collect();
        let throttle = Throttle::new(
            deployed.default_limit,
            deployed
                .route_limits
                .clone()
                .into_iter()
                .collect::<BTreeMap<String, Limit>>(),
        );
        Self {
            deployed,
            router: Router::new(parsed),
            throttle,
            stats: Stats::default(),
        }
    }

    /// The path under the stage, `None` when the request is not for the stage (404). A
    /// `$default` stage serves from the root.
    fn under_stage<'a>(&self, path: &'a str) -> Option<&'a str> {
        let stage = self.deployed.stage.as_str();
        if stage == "$default" {
            return Some(path);
        }
        match path.strip_prefix('/')?.strip_prefix(stage)? {
            "" => Some("/"),
            rest if rest.starts_with('/') => Some(rest),
            _ => None,
        }
    }
}

/// API Gateway's request id: 16 characters of base64, as in `apigw-requestid`.
fn gateway_request_id() -> String {
    let bytes = uuid::Uuid::new_v4().into_bytes();
    base64::engine::general_purpose::STANDARD.encode(&bytes[..11])
}

/// Serves one request (the axum fallback handler).
pub async fn handle(
    State(gateway): State<Arc<Gateway>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    let clock = Instant::now();
    let request_id = gateway_request_id();
    let origin = request
        .headers()
        .get("origin")
        .and_then(|o| o.to_str().ok())
        .map(str::to_string);
    let answered = answer(&gateway, peer, request, &request_id).await;
    let mut mapped = answered.mapped;
    if let Some(cors) = gateway
        .deployed
        .cors
        .as_ref()
        .filter(|_| !answered.preflight)
    {
        cors.apply(origin.as_deref(), &mut mapped.headers);
    }
    if let Ok(id) = HeaderValue::from_str(&request_id) {
        mapped.headers.insert("apigw-requestid", id);
    }
    let mut response = Response::new(Body::from(mapped.body));
    *response.status_mut() = mapped.status;
    *response.headers_mut() = mapped.headers;
    gateway
        .stats
        .record(clock.elapsed(), answered.function_time);
    response
}

/// The response to a request, before the API's CORS headers.
struct Answered {
    mapped: Mapped,
    /// The time spent in the function; `None` when it was not invoked.
    function_time: Option<std::time::Duration>,
    /// A CORS preflight, answered with its own CORS headers.
    preflight: bool,
}

impl From<Mapped> for Answered {
    fn from(mapped: Mapped) -> Self {
        Self {
            mapped,
            function_time: None,
            preflight: false,
        }
    }
}

/// The response to `request`.
async fn answer(
    gateway: &Gateway,
    peer: SocketAddr,
    request: Request,
    request_id: &str,
) -> Answered {
    let error = |status| Answered::from(response::gateway_error(status));
    let (parts, body) = request.into_parts();
    let Some(path) = gateway.under_stage(parts.uri.path()) else {
        return error(StatusCode::NOT_FOUND);
    };
    if let Some(preflight) = gateway
        .deployed
        .cors
        .as_ref()
        .and_then(|cors: &Cors| cors.preflight(&parts.method, &parts.headers))
    {
        let (status, headers) = preflight;
        let mapped = Mapped {
            status,
            headers,
            body: Vec::new(),
        };
        return Answered {
            preflight: true,
            ..Answered::from(mapped)
        };
    }
    let Some(matched) = gateway.router.route(parts.method.as_str(), path) else {
        return error(StatusCode::NOT_FOUND);
    };
    let route = matched.route;
    if !gateway.throttle.admit(&route.key, Instant::now()) {
        return error(StatusCode::TOO_MANY_REQUESTS);
    }
    let claims = match &route.authorizer {
        Some(authorizer) => match authorizer.authorize(&parts.headers).await {
            Some(claims) => Some(claims),
            None => return error(StatusCode::UNAUTHORIZED),
        },
        None => None,
    };
    let Ok(body) = to_bytes(body, MAX_BODY_BYTES).await else {
        return error(StatusCode::PAYLOAD_TOO_LARGE);
    };
    let pool = match &route.pool {
        Ok(pool) => pool,
        Err(why) => {
            tracing::warn!(route = %route.key, "{why}");
            return error(StatusCode::INTERNAL_SERVER_ERROR);
        }
    };
    let deployed = &gateway.deployed;
    let protocol = format!("{:?}", parts.version);
    let incoming = event::Request {
        method: parts.method.as_str(),
        raw_path: parts.uri.path(),
        raw_query: parts.uri.query().unwrap_or_default(),
        headers: &parts.headers,
        body: &body,
        source_ip: peer.ip().to_string(),
        protocol: &protocol,
    };
    let context = event::Context {
        route_key: &route.key,
        stage: &deployed.stage,
        path_parameters: &matched.path_parameters,
        stage_variables: &deployed.stage_variables,
        api_id: &deployed.api_id,
        account_id: &deployed.account_id,
        request_id,
        time: time::OffsetDateTime::now_utc(),
        claims,
    };
    let event = serde_json::to_vec(&event::build(&incoming, &context)).unwrap_or_default();
    let lambda_request_id = uuid::Uuid::new_v4().to_string();
    let invoked = Instant::now();
    let result = pool.invoke(event, &lambda_request_id).await;
    let function_time = Some(invoked.elapsed());
    let mapped = match result {
        Ok(payload) => response::map(&payload).unwrap_or_else(|malformed| {
            tracing::warn!(route = %route.key, "{malformed}");
            response::gateway_error(StatusCode::INTERNAL_SERVER_ERROR)
        }),
        Err(InvokeError::Timeout(_)) => response::gateway_error(StatusCode::SERVICE_UNAVAILABLE),
        Err(_) => response::gateway_error(StatusCode::INTERNAL_SERVER_ERROR),
    };
    Answered {
        function_time,
        ..Answered::from(mapped)
    }
}
