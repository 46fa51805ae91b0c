//! Which deployed route a request takes, as API Gateway chooses it.
//!
//! "Routing API requests" (API Gateway developer guide, "Create routes for HTTP APIs"): the most
//! specific route wins. A path without variables beats one with `{name}` variables, which beats
//! a greedy `{name+}`; among equals a route for the request's method beats `ANY`; a request no
//! route matches goes to the `$default` route, and without one it is a 404. `{name}` matches one
//! whole path segment, `{name+}` (last segment only) one or more segments. Matching is on the
//! path as received (case-sensitive), without the stage.

use std::collections::BTreeMap;

/// One segment of a route's path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    /// `{name}`: exactly one segment.
    Variable(String),
    /// `{name+}`: the rest of the path, one segment or more.
    Greedy(String),
}

/// A route key parsed: `GET /tables/{tableId}`, `ANY /{proxy+}` or `$default`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteKey {
    /// `None` for `ANY` (and for `$default`).
    method: Option<String>,
    /// `None` for `$default`.
    segments: Option<Vec<Segment>>,
}

/// A route that matched, with the values of its path variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matched<'a, T> {
    pub route: &'a T,
    pub path_parameters: BTreeMap<String, String>,
}

impl RouteKey {
    /// Parses a route key as GetRoutes returns it; `None` for one API Gateway would not accept.
    pub fn parse(key: &str) -> Option<Self> {
        if key == "$default" {
            return Some(Self {
                method: None,
                segments: None,
            });
        }
        let (method, path) = key.split_once(' ')?;
        let path = path.strip_prefix('/')?;
        let parts: Vec<&str> = if path.is_empty() {
            Vec::new()
        } else {
            path.split('/').collect()
        };
        let last = parts.len().saturating_sub(1);
        let mut segments = Vec::with_capacity(parts.len());
        for (i, part) in parts.iter().enumerate() {
            let segment = match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                Some(name) => match name.strip_suffix('+') {
                    Some(name) if i == last => Segment::Greedy(name.to_string()),
                    Some(_) => return None,
                    None => Segment::Variable(name.to_string()),
                },
                None => Segment::Literal((*part).to_string()),
            };
            segments.push(segment);
        }
        Some(Self {
            method: (method != "ANY").then(|| method.to_string()),
            segments: Some(segments),
        })
    }

    /// True for `$default`.
    pub fn is_default(&self) -> bool {
        self.segments.is_none()
    }

    /// How specific the route is, smaller first: (greedy, variables, `ANY`).
    fn rank(&self) -> (bool, usize, bool) {
        let segments = self.segments.as_deref().unwrap_or_default();
        let greedy = segments.iter().any(|s| matches!(s, Segment::Greedy(_)));
        let variables = segments
            .iter()
            .filter(|s| matches!(s, Segment::Variable(_)))
            .count();
        (greedy, variables, self.method.is_none())
    }

    /// The path variables when `method` and `path` (without the stage, starting with `/`)
    /// match this route; `$default` matches nothing here (it is the fallback).
    fn matches(&self, method: &str, path: &str) -> Option<BTreeMap<String, String>> {
        let segments = self.segments.as_ref()?;
        if self.method.as_deref().is_some_and(|m| m != method) {
            return None;
        }
        let rest = path.strip_prefix('/')?;
        let parts: Vec<&str> = if rest.is_empty() {
            Vec::new()
        } else {
            rest.split('/').collect()
        };
        let mut parameters = BTreeMap::new();
        for (i, segment) in segments.iter().enumerate() {
            match segment {
                Segment::Literal(literal) => {
                    if parts.get(i) != Some(&literal.as_str()) {
                        return None;
                    }
                }
                Segment::Variable(name) => {
                    let part = parts.get(i).filter(|p| !p.is_empty())?;
                    parameters.insert(name.clone(), decode(part));
                }
                Segment::Greedy(name) => {
                    let tail = parts.get(i..).filter(|t| !t.is_empty())?.join("/");
                    if tail.is_empty() {
                        return None;
                    }
                    parameters.insert(name.clone(), decode(&tail));
                    return Some(parameters);
                }
            }
        }
        (parts.len() == segments.len()).then_some(parameters)
    }
}

/// A path variable's value, percent-decoded (as the function receives it in `pathParameters`);
/// a value that does not decode to UTF-8 is passed as received.
fn decode(raw: &str) -> String {
    percent_encoding::percent_decode_str(raw)
        .decode_utf8()
        .map_or_else(|_| raw.to_string(), |d| d.into_owned())
}

/// The deployed routes, most specific first, ready to match requests.
#[derive(Debug)]
pub struct Router<T> {
    routes: Vec<(RouteKey, T)>,
    default: Option<T>,
}

impl<T> Router<T> {
    /// Orders `routes` (each with its parsed key) as API Gateway prefers them.
    pub fn new(routes: Vec<(RouteKey, T)>) -> Self {
        let mut default = None;
        let mut keyed = Vec::with_capacity(routes.len());
        for (key, route) in routes {
            if key.is_default() {
                default = Some(route);
            } else {
                keyed.push((key, route));
            }
        }
        keyed.sort_by_key(|(key, _)| key.rank());
        Self {
            routes: keyed,
            default,
        }
    }

    /// The route `method` `path` takes, or `None` (API Gateway's 404).
    pub fn route(&self, method: &str, path: &str) -> Option<Matched<'_, T>> {
        for (key, route) in &self.routes {
            if let Some(path_parameters) = key.matches(method, path) {
                return Some(Matched {
                    route,
                    path_parameters,
                });
            }
        }
        self.default.as_ref().map(|route| Matched {
            route,
            path_parameters: BTreeMap::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router(keys: &[&'static str]) -> Router<&'static str> {
        Router::new(
            keys.iter()
                .map(|k| (RouteKey::parse(k).unwrap(), *k))
                .collect(),
        )
    }

    fn route(router: &Router<&'static str>, method: &str, path: &str) -> Option<&'static str> {
        router.route(method, path).map(|m| *m.route)
    }

    /// "Routing API requests": the guide's own example, most specific first.
    #[test]
    fn the_most_specific_route_wins() {
        let r = router(&[
            "ANY /pets/{proxy+}",
            "GET /pets/dog/{id}",
            "GET /pets/dog/1",
            "$default",
        ]);
        assert_eq!(route(&r, "GET", "/pets/dog/1"), Some("GET /pets/dog/1"));
        assert_eq!(route(&r, "GET", "/pets/dog/2"), Some("GET /pets/dog/{id}"));
        assert_eq!(route(&r, "POST", "/pets/dog/2"), Some("ANY /pets/{proxy+}"));
        assert_eq!(
            route(&r, "GET", "/pets/cat/a/b"),
            Some("ANY /pets/{proxy+}")
        );
        assert_eq!(route(&r, "GET", "/owners"), Some("$default"));
    }

    /// "Routing API requests": a method route beats `ANY` on the same path.
    #[test]
    fn a_method_beats_any() {
        let r = router(&["ANY /tables", "POST /tables"]);
        assert_eq!(route(&r, "POST", "/tables"), Some("POST /tables"));
        assert_eq!(route(&r, "GET", "/tables"), Some("ANY /tables"));
    }

    /// "Working with paths": `{proxy+}` needs at least one segment and takes all the rest.
    #[test]
    fn a_greedy_variable_takes_the_rest_of_the_path() {
        let r = router(&["GET /files/{proxy+}"]);
        let m = r.route("GET", "/files/a/b%20c").unwrap();
        assert_eq!(m.path_parameters["proxy"], "a/b c");
        assert_eq!(route(&r, "GET", "/files"), None);
        assert_eq!(route(&r, "GET", "/files/"), None);
    }

    /// Without a `$default` route an unmatched request is API Gateway's 404; the path and the
    /// method are compared exactly (case, trailing slash).
    #[test]
    fn no_match_without_default_is_none() {
        let r = router(&["GET /tables/{tableId}", "GET /health"]);
        assert_eq!(route(&r, "GET", "/openapi.json"), None);
        assert_eq!(route(&r, "POST", "/health"), None);
        assert_eq!(route(&r, "GET", "/Health"), None);
        assert_eq!(route(&r, "GET", "/tables/"), None);
        let m = r.route("GET", "/tables/t%2D1").unwrap();
        assert_eq!(m.path_parameters["tableId"], "t-1");
    }

    #[test]
    fn malformed_keys_are_refused() {
        assert!(RouteKey::parse("GET tables").is_none());
        assert!(RouteKey::parse("GET /{proxy+}/x").is_none());
        assert!(RouteKey::parse("GET").is_none());
        assert!(RouteKey::parse("GET /").is_some());
    }
}
