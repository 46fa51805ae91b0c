//! Stage prefixes: `/dev/tables/x` routes like `/tables/x`.
//!
//! With a named stage, API Gateway puts the stage in `rawPath`, and `lambda_http` adds it when
//! it is missing, so the router would otherwise see `/dev/tables/x` on Lambda and `/tables/x`
//! locally. The request context names the stage when there is one; without a context (the local
//! server, or an event without `stage`) a first segment that does not start a route followed by
//! one that does (`tables`, `openapi.json`: the contract's first segments) is taken to be a stage.

use axum::extract::Request;
use axum::http::Uri;
use axum::http::uri::PathAndQuery;
use lambda_http::request::RequestContext;

use crate::contract;

/// The path without its stage prefix, or `None` when there is nothing to strip.
pub fn strip_stage(path: &str, stage: Option<&str>) -> Option<String> {
    let after_stage = stage
        .filter(|s| !s.is_empty() && *s != "$default")
        .and_then(|stage| path.strip_prefix('/')?.strip_prefix(stage));
    match after_stage {
        Some("") => return Some("/".to_string()),
        Some(rest) if rest.starts_with('/') => return Some(rest.to_string()),
        _ => {}
    }
    let mut segments = path.strip_prefix('/')?.splitn(3, '/');
    let first = segments.next()?;
    let second = segments.next()?;
    let starts_a_route = |segment: &str| contract::top_segments().any(|s| s == segment);
    if !first.is_empty() && !starts_a_route(first) && starts_a_route(second) {
        Some(path[1 + first.len()..].to_string())
    } else {
        None
    }
}

/// The stage named by the API Gateway request context, if the request came through Lambda.
fn context_stage(request: &Request) -> Option<&str> {
    match request.extensions().get::<RequestContext>()? {
        RequestContext::ApiGatewayV2(context) => context.stage.as_deref(),
        #[allow(unreachable_patterns)]
        _ => None,
    }
}

/// Rewrites the request URI without the stage prefix; runs before routing.
pub fn strip_stage_from_request(mut request: Request) -> Request {
    let Some(path) = strip_stage(request.uri().path(), context_stage(&request)) else {
        return request;
    };
    let path_and_query = match request.uri().query() {
        Some(query) => format!("{path}?{query}"),
        None => path,
    };
    // The new path is a suffix of a valid path, so it parses; if not, route the original.
    if let Ok(path_and_query) = PathAndQuery::try_from(path_and_query) {
        let mut parts = request.uri().clone().into_parts();
        parts.path_and_query = Some(path_and_query);
        if let Ok(uri) = Uri::from_parts(parts) {
            *request.uri_mut() = uri;
        }
    }
    request
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_stage_is_stripped() {
        assert_eq!(
            strip_stage("/dev/tables/x", Some("dev")).as_deref(),
            Some("/tables/x")
        );
        assert_eq!(
            strip_stage("/prod/openapi.json", Some("prod")).as_deref(),
            Some("/openapi.json")
        );
        assert_eq!(strip_stage("/dev", Some("dev")).as_deref(), Some("/"));
        assert_eq!(
            strip_stage("/devx/tables", Some("dev")).as_deref(),
            Some("/tables")
        );
    }

    #[test]
    fn default_stage_and_plain_paths_are_untouched() {
        assert_eq!(strip_stage("/tables/x", Some("$default")), None);
        assert_eq!(strip_stage("/tables/x", None), None);
        assert_eq!(strip_stage("/tables", None), None);
        assert_eq!(strip_stage("/", None), None);
        assert_eq!(strip_stage("", None), None);
        assert_eq!(strip_stage("/tables/tables", None), None);
    }

    #[test]
    fn a_stage_is_guessed_without_a_context() {
        assert_eq!(strip_stage("/dev/tables", None).as_deref(), Some("/tables"));
        assert_eq!(
            strip_stage("/stage/tables/a/users/b", None).as_deref(),
            Some("/tables/a/users/b")
        );
        assert_eq!(
            strip_stage("/dev/openapi.json", None).as_deref(),
            Some("/openapi.json")
        );
        assert_eq!(strip_stage("/dev/other", None), None);
        assert_eq!(strip_stage("/openapi.json/tables", None), None);
        assert_eq!(strip_stage("//tables", None), None);
    }

    #[test]
    fn the_query_survives() {
        let request = Request::builder()
            .uri("/dev/tables?limit=2")
            .body(axum::body::Body::empty())
            .unwrap();
        let request = strip_stage_from_request(request);
        assert_eq!(request.uri().to_string(), "/tables?limit=2");
    }
}
