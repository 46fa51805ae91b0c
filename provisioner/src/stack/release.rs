//! `[release]`: how a new version of the function reaches its traffic. Every change of code or
//! configuration publishes a version and the alias `live` moves to it, at once or gradually
//! (`canary`, `linear`) under the watch of the release alarms; older versions are kept for
//! rollback up to `keep_versions`.

use std::time::Duration;

use serde::Serialize;
use serde_spanned::Spanned;

use crate::kinds::lambda_rollout::Strategy;

use super::raw::EnvOverrides;
use super::resolve::{pick, span_of};
use super::{Stack, StackError};

/// The versions kept by default: the live one and four before it.
const DEFAULT_KEEP_VERSIONS: i64 = 5;

/// Lambda's limit on published versions is the 75 GB of code per region, not a count; a
/// hundred already is far more than a rollback needs.
const MAX_KEEP_VERSIONS: i64 = 100;

/// The longest a step or the bake may be watched: an apply is not a place to wait for days.
const MAX_WATCH: Duration = Duration::from_secs(24 * 3600);

/// One environment's release settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ResolvedRelease {
    /// Published versions kept once the alias has moved (the live one included).
    pub keep_versions: u32,
    pub strategy: Strategy,
    /// The new version's share per step, in percent.
    pub percent: u32,
    /// How long each weighted step is watched.
    pub interval: Duration,
    /// How long the last step is watched more.
    pub bake: Duration,
}

/// `[release]` of one environment.
pub(super) fn resolve_release(
    stack: &Stack,
    over: &EnvOverrides,
) -> Result<ResolvedRelease, StackError> {
    let value = pick(
        &over.release.keep_versions,
        &stack.raw().release.keep_versions,
    );
    let keep = value.map_or(DEFAULT_KEEP_VERSIONS, |s| *s.get_ref());
    if !(2..=MAX_KEEP_VERSIONS).contains(&keep) {
        return Err(stack.error_at(
            span_of(value),
            format!("keep_versions = {keep} leaves no version to roll back to"),
            Some(format!(
                "use 2 to {MAX_KEEP_VERSIONS}: the live version and at least the one before it"
            )),
        ));
    }
    let keep_versions = u32::try_from(keep).unwrap_or(u32::MAX);
    let raw = &stack.raw().release;
    let strategy_value = pick(&over.release.strategy, &raw.strategy);
    let strategy = match strategy_value.map(|s| s.get_ref().as_str()) {
        None | Some("all_at_once") => Strategy::AllAtOnce,
        Some("canary") => Strategy::Canary,
        Some("linear") => Strategy::Linear,
        Some(other) => {
            return Err(stack.error_at(
                span_of(strategy_value),
                format!("strategy = \"{other}\" is not a release strategy"),
                Some("use \"all_at_once\", \"canary\" or \"linear\"".into()),
            ));
        }
    };
    let percent_value = pick(&over.release.percent, &raw.percent);
    let percent = percent_value.map_or(10, |s| *s.get_ref());
    if !(1..=99).contains(&percent) {
        return Err(stack.error_at(
            span_of(percent_value),
            format!("percent = {percent} is not a share a step can take"),
            Some("use 1 to 99: the new version's share of the traffic per step".into()),
        ));
    }
    let interval = watch(
        stack,
        "interval",
        pick(&over.release.interval, &raw.interval),
        60,
    )?;
    let bake = watch(stack, "bake", pick(&over.release.bake, &raw.bake), 300)?;
    Ok(ResolvedRelease {
        keep_versions,
        strategy,
        percent: u32::try_from(percent).unwrap_or(10),
        interval,
        bake,
    })
}

/// A watch duration (`interval`, `bake`), written like `--lock-timeout`; `default` seconds.
fn watch(
    stack: &Stack,
    key: &str,
    value: Option<&Spanned<String>>,
    default: u64,
) -> Result<Duration, StackError> {
    let Some(text) = value else {
        return Ok(Duration::from_secs(default));
    };
    let parsed = crate::duration::parse(text.get_ref())
        .map_err(|why| stack.error_at(Some(text.span()), format!("{key}: {why}"), None))?;
    if parsed > MAX_WATCH {
        return Err(stack.error_at(
            Some(text.span()),
            format!("{key} = \"{}\" is longer than a day", text.get_ref()),
            Some("watch a release for minutes or hours: an apply waits for it".into()),
        ));
    }
    Ok(parsed)
}
