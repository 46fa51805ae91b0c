//! The load an environment accepts: the stage's throttling (all routes, and stricter for the
//! routes that write) and the function's reserved concurrency.
//!
//! Every limit is optional: unset, AWS's account-wide defaults apply, as before these keys
//! existed, so an existing stack's plan does not change until the stack file says so.

use std::ops::Range;

use serde::Serialize;
use serde_spanned::Spanned;

use super::raw::EnvOverrides;
use super::resolve::{pick, span_of};
use super::{Stack, StackError};

/// API Gateway's default account quota for steady requests per second: no stage may ask more.
const MAX_RATE: f64 = 10_000.0;
/// API Gateway's default account burst quota.
const MAX_BURST: i64 = 5_000;

/// A token bucket API Gateway applies: `rate_limit` requests per second on average, bursts up
/// to `burst_limit`. Requests beyond it get 429.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Throttle {
    pub rate_limit: f64,
    pub burst_limit: i64,
}

/// The stage's throttling.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Default)]
pub struct Throttling {
    /// Every route (the stage's default route settings).
    pub all: Option<Throttle>,
    /// The routes that write, set apart (the stage's route settings).
    pub writes: Option<Throttle>,
}

/// `[api] throttle_*` and `write_throttle_*` of one environment.
pub(super) fn resolve_throttling(
    stack: &Stack,
    over: &EnvOverrides,
) -> Result<Throttling, StackError> {
    let raw = &stack.raw().api;
    let api = &over.api;
    let all = throttle(
        stack,
        (
            "throttle_rate_limit",
            pick(&api.throttle_rate_limit, &raw.throttle_rate_limit),
        ),
        (
            "throttle_burst_limit",
            pick(&api.throttle_burst_limit, &raw.throttle_burst_limit),
        ),
    )?;
    let write_rate = pick(
        &api.write_throttle_rate_limit,
        &raw.write_throttle_rate_limit,
    );
    let writes = throttle(
        stack,
        ("write_throttle_rate_limit", write_rate),
        (
            "write_throttle_burst_limit",
            pick(
                &api.write_throttle_burst_limit,
                &raw.write_throttle_burst_limit,
            ),
        ),
    )?;
    if let (Some(all), Some(writes)) = (all, writes)
        && (writes.rate_limit > all.rate_limit || writes.burst_limit > all.burst_limit)
    {
        return Err(stack.error_at(
            span_of(write_rate),
            "the write throttle is looser than the stage's",
            Some(format!(
                "writes are meant to be held tighter: use at most {} requests/s and a burst of at most {}, or raise throttle_rate_limit/throttle_burst_limit",
                all.rate_limit, all.burst_limit
            )),
        ));
    }
    Ok(Throttling { all, writes })
}

fn throttle(
    stack: &Stack,
    (rate_key, rate): (&str, Option<&Spanned<f64>>),
    (burst_key, burst): (&str, Option<&Spanned<i64>>),
) -> Result<Option<Throttle>, StackError> {
    let bad = |span: Option<Range<usize>>, message: String, hint: String| {
        Err(stack.error_at(span, message, Some(hint)))
    };
    match (rate, burst) {
        (None, None) => Ok(None),
        (Some(rate), None) => bad(
            Some(rate.span()),
            format!("{rate_key} is set without {burst_key}"),
            format!("set both, e.g. {rate_key} = 50.0 and {burst_key} = 100"),
        ),
        (None, Some(burst)) => bad(
            Some(burst.span()),
            format!("{burst_key} is set without {rate_key}"),
            format!("set both, e.g. {rate_key} = 50.0 and {burst_key} = 100"),
        ),
        (Some(rate), Some(burst)) => {
            let (rate_limit, burst_limit) = (*rate.get_ref(), *burst.get_ref());
            if !(rate_limit > 0.0 && rate_limit <= MAX_RATE) {
                return bad(
                    Some(rate.span()),
                    format!("{rate_key} = {rate_limit} is outside what API Gateway allows"),
                    format!("use more than 0 and at most {MAX_RATE} requests per second"),
                );
            }
            if !(1..=MAX_BURST).contains(&burst_limit) {
                return bad(
                    Some(burst.span()),
                    format!("{burst_key} = {burst_limit} is outside what API Gateway allows"),
                    format!("use 1 to {MAX_BURST} requests"),
                );
            }
            Ok(Some(Throttle {
                rate_limit,
                burst_limit,
            }))
        }
    }
}

/// `[lambda] reserved_concurrency` of one environment.
pub(super) fn resolve_reserved_concurrency(
    stack: &Stack,
    over: &EnvOverrides,
) -> Result<Option<i64>, StackError> {
    let value = pick(
        &over.lambda.reserved_concurrency,
        &stack.raw().lambda.reserved_concurrency,
    );
    match value.map(|s| *s.get_ref()) {
        Some(n) if !(0..=1000).contains(&n) => Err(stack.error_at(
            span_of(value),
            format!("reserved_concurrency = {n} is outside what Lambda allows"),
            Some("use 1 to 1000 (the default account quota, minus 100 Lambda keeps unreserved, bounds it further); 0 stops every invocation; remove the key to use the shared pool".into()),
        )),
        other => Ok(other),
    }
}
