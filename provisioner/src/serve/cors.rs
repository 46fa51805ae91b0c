//! CORS as API Gateway applies an HTTP API's CORS configuration.
//!
//! "Configuring CORS for an HTTP API" (API Gateway developer guide): with CORS configured, API
//! Gateway answers preflight requests itself (an `OPTIONS` with `Origin` and
//! `Access-Control-Request-Method`), whatever the routes, without invoking the function; on
//! every other request it drops the CORS headers the integration returned and adds its own
//! when the request's `Origin` is allowed. Without a CORS configuration nothing is added and an
//! `OPTIONS` is routed like any request.

use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};

/// The API's CORS configuration (GetApi's `CorsConfiguration`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Cors {
    pub allow_origins: Vec<String>,
    pub allow_methods: Vec<String>,
    pub allow_headers: Vec<String>,
    pub expose_headers: Vec<String>,
    pub max_age: Option<i32>,
    pub allow_credentials: bool,
}

const ALLOW_ORIGIN: &str = "access-control-allow-origin";

impl Cors {
    /// The `Access-Control-Allow-Origin` value for `origin`, `None` when it is not allowed.
    fn allowed_origin(&self, origin: &str) -> Option<String> {
        if self.allow_origins.iter().any(|o| o == "*") {
            return Some("*".to_string());
        }
        self.allow_origins
            .iter()
            .any(|o| o.eq_ignore_ascii_case(origin))
            .then(|| origin.to_string())
    }

    /// API Gateway's answer to `headers` when they make a preflight, else `None` (the request
    /// goes on to routing).
    pub fn preflight(
        &self,
        method: &Method,
        headers: &HeaderMap,
    ) -> Option<(StatusCode, HeaderMap)> {
        if method != Method::OPTIONS {
            return None;
        }
        let origin = headers.get("origin")?.to_str().ok()?;
        let requested = headers.get("access-control-request-method")?;
        let mut out = HeaderMap::new();
        if let Some(allowed) = self.allowed_origin(origin) {
            put(&mut out, ALLOW_ORIGIN, &allowed);
            let methods = list_or_echo(&self.allow_methods, requested.to_str().ok());
            put(&mut out, "access-control-allow-methods", &methods);
            let asked = headers
                .get("access-control-request-headers")
                .and_then(|h| h.to_str().ok());
            if !self.allow_headers.is_empty() {
                let allowed_headers = list_or_echo(&self.allow_headers, asked);
                put(&mut out, "access-control-allow-headers", &allowed_headers);
            }
            if let Some(age) = self.max_age.filter(|age| *age >= 0) {
                put(&mut out, "access-control-max-age", &age.to_string());
            }
            self.credentials(&mut out);
        }
        Some((StatusCode::NO_CONTENT, out))
    }

    /// Replaces the integration's CORS headers in `response` with the API's, for a request
    /// from `origin`.
    pub fn apply(&self, origin: Option<&str>, response: &mut HeaderMap) {
        let theirs: Vec<HeaderName> = response
            .keys()
            .filter(|name| name.as_str().starts_with("access-control-"))
            .cloned()
            .collect();
        for name in theirs {
            response.remove(name);
        }
        let Some(allowed) = origin.and_then(|o| self.allowed_origin(o)) else {
            return;
        };
        put(response, ALLOW_ORIGIN, &allowed);
        if !self.expose_headers.is_empty() {
            put(
                response,
                "access-control-expose-headers",
                &self.expose_headers.join(","),
            );
        }
        self.credentials(response);
    }

    fn credentials(&self, out: &mut HeaderMap) {
        if self.allow_credentials {
            put(out, "access-control-allow-credentials", "true");
        }
    }
}

/// The configured list joined, or what the request asked for when the list is `*`.
fn list_or_echo(list: &[String], asked: Option<&str>) -> String {
    match asked {
        Some(asked) if list.iter().any(|item| item == "*") => asked.to_string(),
        _ => list.join(","),
    }
}

fn put(headers: &mut HeaderMap, name: &'static str, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        headers.insert(HeaderName::from_static(name), value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cors(origins: &[&str]) -> Cors {
        Cors {
            allow_origins: origins.iter().map(|s| s.to_string()).collect(),
            allow_methods: vec!["GET".into(), "OPTIONS".into(), "POST".into()],
            allow_headers: vec!["authorization".into(), "content-type".into()],
            max_age: Some(300),
            ..Cors::default()
        }
    }

    fn request(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| (HeaderName::from_static(k), HeaderValue::from_static(v)))
            .collect()
    }

    /// A browser's preflight of a `POST` from `origin`.
    fn preflight_from(origin: &'static str) -> HeaderMap {
        request(&[
            ("origin", origin),
            ("access-control-request-method", "POST"),
        ])
    }

    /// The answer to a preflight from `origin` by an API that allows only `https://app.example`.
    fn answered_from(origin: &'static str) -> (StatusCode, HeaderMap) {
        let only_app = cors(&["https://app.example"]);
        only_app
            .preflight(&Method::OPTIONS, &preflight_from(origin))
            .expect("a preflight")
    }

    /// "Configuring CORS for an HTTP API": API Gateway answers the preflight itself.
    #[test]
    fn a_preflight_is_answered_with_the_configured_lists() {
        let (status, out) = answered_from("https://app.example");
        assert_eq!(status, StatusCode::NO_CONTENT);
        assert_eq!(out[ALLOW_ORIGIN], "https://app.example");
        assert_eq!(out["access-control-allow-methods"], "GET,OPTIONS,POST");
        assert_eq!(
            out["access-control-allow-headers"],
            "authorization,content-type"
        );
        assert_eq!(out["access-control-max-age"], "300");
    }

    /// "Configuring CORS for an HTTP API": an origin not in the list gets no CORS headers; a
    /// plain `OPTIONS` (no `Access-Control-Request-Method`) is no preflight.
    #[test]
    fn other_origins_and_plain_options() {
        let (_, out) = answered_from("https://evil.example");
        assert!(out.is_empty());
        let foreign = preflight_from("https://evil.example");
        let plain = request(&[("origin", "https://app.example")]);
        assert!(cors(&["*"]).preflight(&Method::OPTIONS, &plain).is_none());
        assert!(cors(&["*"]).preflight(&Method::GET, &foreign).is_none());
    }

    /// "Configuring CORS for an HTTP API": the integration's CORS headers are replaced by the
    /// API's.
    #[test]
    fn responses_carry_the_apis_headers_not_the_functions() {
        let mut response = request(&[
            (ALLOW_ORIGIN, "https://function.example"),
            ("access-control-allow-methods", "DELETE"),
            ("content-type", "application/json"),
        ]);
        cors(&["*"]).apply(Some("https://app.example"), &mut response);
        assert_eq!(response[ALLOW_ORIGIN], "*");
        assert!(response.get("access-control-allow-methods").is_none());
        assert_eq!(response["content-type"], "application/json");
        let mut without_origin = request(&[(ALLOW_ORIGIN, "*")]);
        cors(&["*"]).apply(None, &mut without_origin);
        assert!(without_origin.is_empty());
    }
}
