//! The router: routes, the stage rewrite, CORS and the body cap, as one `axum::Router`.
//!
//! Kept apart from `main` so the Lambda runtime, the local server and the tests all serve the
//! very same router (tests drive it with `oneshot`, no socket needed).

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware;
use axum::routing::get;
use tower::ServiceBuilder;

use crate::config::{BODY_LIMIT_BYTES, Config};
use crate::cors::{self, CorsPolicy};
use crate::handlers;
use crate::stage;
use crate::store::Store;

/// What every handler shares: the store and the configuration read at start.
#[derive(Debug, Clone)]
pub struct AppState {
    pub store: Arc<Store>,
    pub config: Arc<Config>,
}

impl AppState {
    /// State over `store`, configured by `config`.
    pub fn new(store: Store, config: Config) -> Self {
        Self {
            store: Arc::new(store),
            config: Arc::new(config),
        }
    }
}

/// The whole API.
pub fn app(state: AppState) -> Router {
    let cors = CorsPolicy::new(&state.config.cors_allow_origins);
    let routes = Router::new()
        .route(
            "/tables",
            get(handlers::list_tables).post(handlers::create_table),
        )
        .route(
            "/tables/{table_id}",
            get(handlers::get_table).patch(handlers::update_table),
        )
        .route("/tables/{table_id}/users", get(handlers::list_users))
        .route(
            "/tables/{table_id}/users/{username}",
            get(handlers::get_user).put(handlers::put_user),
        )
        .route("/openapi.json", get(handlers::openapi))
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
