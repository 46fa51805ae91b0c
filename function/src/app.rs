//! The router: routes, the stage rewrite, CORS and the body cap, as one `axum::Router`.
//!
//! The routes are the contract's ([`crate::contract::ROUTES`]), the very table the provisioner
//! deploys as API Gateway routes, so a route served here is a route that exists on AWS.
//!
//! Kept apart from `main` so the Lambda runtime, the local server and the tests all serve the
//! very same router (tests drive it with `oneshot`, no socket needed).

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware;
use axum::routing::{MethodFilter, MethodRouter, on};
use tower::ServiceBuilder;

use crate::auth::Authenticator;
use crate::config::{BODY_LIMIT_BYTES, Config};
use crate::contract::{Endpoint, Method, ROUTES, Route};
use crate::cors::{self, CorsPolicy};
use crate::handlers;
use crate::stage;
use crate::store::Store;

/// What every handler shares: the store, the configuration read at start, and where callers'
/// identities come from.
#[derive(Debug, Clone)]
pub struct AppState {
    pub store: Arc<Store>,
    pub config: Arc<Config>,
    pub auth: Arc<Authenticator>,
}

impl AppState {
    /// State over `store`, configured by `config`: with `AUTH_ENABLED`, identities are the
    /// claims API Gateway verified (the Lambda path); see [`AppState::with_auth`] for others.
    pub fn new(store: Store, config: Config) -> Self {
        let auth = if config.auth_enabled {
            Authenticator::GatewayClaims(config.claims.clone())
        } else {
            Authenticator::Off
        };
        Self {
            store: Arc::new(store),
            config: Arc::new(config),
            auth: Arc::new(auth),
        }
    }

    /// The same state with identities from `auth` (`function serve` verifying tokens).
    pub fn with_auth(self, auth: Authenticator) -> Self {
        Self {
            auth: Arc::new(auth),
            ..self
        }
    }
}

/// The handler of each route of the contract. Exhaustive on purpose: a route added to the
/// contract does not compile until it has a handler, and the router serves nothing else.
fn handler(route: &Route) -> MethodRouter<AppState> {
    let method = match route.method {
        Method::Get => MethodFilter::GET,
        Method::Post => MethodFilter::POST,
        Method::Put => MethodFilter::PUT,
        Method::Patch => MethodFilter::PATCH,
        Method::Delete => MethodFilter::DELETE,
    };
    match route.endpoint {
        Endpoint::PostTables => on(method, handlers::create_table),
        Endpoint::GetTables => on(method, handlers::list_tables),
        Endpoint::GetTable => on(method, handlers::get_table),
        Endpoint::PatchTable => on(method, handlers::update_table),
        Endpoint::GetUsers => on(method, handlers::list_users),
        Endpoint::GetUser => on(method, handlers::get_user),
        Endpoint::PutUser => on(method, handlers::put_user),
        Endpoint::GetOpenapi => on(method, handlers::openapi),
        Endpoint::DeleteTable => on(method, handlers::delete_table),
        Endpoint::GetHealth => on(method, handlers::health),
    }
}

/// The whole API.
pub fn app(state: AppState) -> Router {
    let cors = CorsPolicy::new(&state.config.cors_allow_origins);
    // One `route` per entry of the contract; routes that share a path merge their methods, so a
    // known path with another method still answers 405.
    let routes = ROUTES
        .iter()
        .fold(Router::new(), |router, route| {
            router.route(route.path, handler(route))
        })
        .fallback(handlers::route_not_found)
        .method_not_allowed_fallback(handlers::method_not_allowed)
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        .with_state(state);
    // The stage rewrite must run before routing, so it wraps the routed router instead of
    // being one of its layers; CORS wraps everything so even a 404 carries its headers.
    let staged = ServiceBuilder::new()
        .map_request(stage::strip_stage_from_request)
        .service(routes);
    Router::new()
        .fallback_service(staged)
        .layer(middleware::from_fn_with_state(cors, cors::apply))
}
