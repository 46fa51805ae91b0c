//! The stage's throttling: a token bucket per route, as API Gateway meters an HTTP API.
//!
//! "Throttle requests to your HTTP APIs" (API Gateway developer guide): the burst limit is the
//! bucket's size and the rate limit the tokens added per second; a request takes one token or,
//! when none is left, is answered 429 `{"message":"Too Many Requests"}` without reaching the
//! function. The stage's default route settings apply to each route on its own; a route with
//! its own settings uses those instead. A route with neither is not throttled here (on AWS
//! only the account's limits would apply).

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::Instant;

/// A rate (requests per second) and a burst.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limit {
    pub rate: f64,
    pub burst: i32,
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// The stage's limits and each route's bucket.
#[derive(Debug)]
pub struct Throttle {
    default: Option<Limit>,
    routes: BTreeMap<String, Limit>,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl Throttle {
    pub fn new(default: Option<Limit>, routes: BTreeMap<String, Limit>) -> Self {
        Self {
            default,
            routes,
            buckets: Mutex::default(),
        }
    }

    /// The limit `route_key` runs under, if any.
    pub fn limit(&self, route_key: &str) -> Option<Limit> {
        self.routes.get(route_key).copied().or(self.default)
    }

    /// Takes a token for a request on `route_key` at `now`; false means 429.
    pub fn admit(&self, route_key: &str, now: Instant) -> bool {
        let Some(limit) = self.limit(route_key) else {
            return true;
        };
        let capacity = f64::from(limit.burst.max(0));
        let Ok(mut buckets) = self.buckets.lock() else {
            return true;
        };
        let bucket = buckets.entry(route_key.to_string()).or_insert(Bucket {
            tokens: capacity,
            at: now,
        });
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * limit.rate.max(0.0)).min(capacity);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn limit(rate: f64, burst: i32) -> Limit {
        Limit { rate, burst }
    }

    /// "Throttle requests to your HTTP APIs": the burst passes at once, then the rate refills.
    #[test]
    fn the_burst_passes_then_the_rate_refills() {
        let throttle = Throttle::new(Some(limit(2.0, 3)), BTreeMap::new());
        let t0 = Instant::now();
        assert!((0..3).all(|_| throttle.admit("GET /a", t0)));
        assert!(!throttle.admit("GET /a", t0));
        assert!(throttle.admit("GET /a", t0 + Duration::from_millis(500)));
        assert!(!throttle.admit("GET /a", t0 + Duration::from_millis(500)));
    }

    /// "Throttle requests to your HTTP APIs": the default applies to each route on its own; a
    /// route's own settings replace it.
    #[test]
    fn routes_have_their_own_buckets_and_settings() {
        let routes = BTreeMap::from([("POST /a".to_string(), limit(1.0, 1))]);
        let throttle = Throttle::new(Some(limit(10.0, 2)), routes);
        let t0 = Instant::now();
        assert!(throttle.admit("POST /a", t0));
        assert!(!throttle.admit("POST /a", t0));
        assert!(throttle.admit("GET /a", t0));
        assert!(throttle.admit("GET /b", t0));
        assert!(throttle.admit("GET /b", t0));
        assert!(!throttle.admit("GET /b", t0));
        let open = Throttle::new(None, BTreeMap::new());
        assert!((0..1000).all(|_| open.admit("GET /a", t0)));
    }
}
