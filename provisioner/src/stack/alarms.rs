//! `[alarms]`: what the environment's CloudWatch alarms fire at, and who hears of it.
//!
//! The alarms watch the function (through its alias), a new version during a rollout, the API
//! stage and the table; a gradual release is rolled back when one of the release alarms fires.
//! Every threshold has a default meant for a small public API, so `enabled` alone gives a
//! useful set; `notify` adds an SNS topic with one e-mail subscription per address.

use serde::Serialize;
use serde_spanned::Spanned;

use super::raw::EnvOverrides;
use super::resolve::pick;
use super::{Stack, StackError};

/// One environment's alarm settings (`None` in [`super::ResolvedStack`] when disabled).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResolvedAlarms {
    /// Function errors per minute (of the alias; of the new version alone during a rollout).
    pub function_errors: f64,
    /// Throttled invocations per minute.
    pub function_throttles: f64,
    /// The p99 duration, as a percentage of the function's timeout.
    pub duration_percent: f64,
    /// The share of the stage's requests answered 5xx in a minute, in percent.
    pub api_5xx_percent: f64,
    /// The stage's p99 latency, in milliseconds.
    pub api_latency_ms: f64,
    /// Throttled table reads (and, apart, writes) per minute.
    pub table_throttles: f64,
    /// E-mail addresses subscribed to the alarms' topic, sorted; empty for no topic.
    pub notify: Vec<String>,
}

/// `[alarms]` of one environment.
pub(super) fn resolve_alarms(
    stack: &Stack,
    over: &EnvOverrides,
) -> Result<Option<ResolvedAlarms>, StackError> {
    let raw = &stack.raw().alarms;
    let alarms = &over.alarms;
    if !pick(&alarms.enabled, &raw.enabled).copied().unwrap_or(true) {
        return Ok(None);
    }
    let threshold = |key: &str, value: &Option<Spanned<f64>>, base, default: f64, max: f64| {
        let Some(value) = pick(value, base) else {
            return Ok(default);
        };
        let number = *value.get_ref();
        if number > 0.0 && number <= max {
            Ok(number)
        } else {
            Err(stack.error_at(
                Some(value.span()),
                format!("{key} = {number} is not a threshold an alarm can fire at"),
                Some(format!("use more than 0 and at most {max}")),
            ))
        }
    };
    let notify = pick(&alarms.notify, &raw.notify);
    let mut addresses = notify.map(|n| n.get_ref().clone()).unwrap_or_default();
    if let Some(bad) = addresses.iter().find(|a| !is_email(a)) {
        return Err(stack.error_at(
            notify.map(Spanned::span),
            format!("notify: {bad:?} is not an e-mail address"),
            Some("list addresses such as \"ops@example.com\"; SNS mails each a confirmation link first".into()),
        ));
    }
    addresses.sort();
    addresses.dedup();
    Ok(Some(ResolvedAlarms {
        function_errors: threshold(
            "function_errors",
            &alarms.function_errors,
            &raw.function_errors,
            5.0,
            1e9,
        )?,
        function_throttles: threshold(
            "function_throttles",
            &alarms.function_throttles,
            &raw.function_throttles,
            1.0,
            1e9,
        )?,
        duration_percent: threshold(
            "duration_percent",
            &alarms.duration_percent,
            &raw.duration_percent,
            80.0,
            100.0,
        )?,
        api_5xx_percent: threshold(
            "api_5xx_percent",
            &alarms.api_5xx_percent,
            &raw.api_5xx_percent,
            5.0,
            100.0,
        )?,
        api_latency_ms: threshold(
            "api_latency_ms",
            &alarms.api_latency_ms,
            &raw.api_latency_ms,
            2000.0,
            30_000.0,
        )?,
        table_throttles: threshold(
            "table_throttles",
            &alarms.table_throttles,
            &raw.table_throttles,
            1.0,
            1e9,
        )?,
        notify: addresses,
    }))
}

/// One `@` between a non-empty local part and a dotted domain, no spaces: what SNS accepts as
/// an e-mail endpoint, checked here so a typo fails `validate`, not the middle of an apply.
fn is_email(address: &str) -> bool {
    let Some((local, domain)) = address.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !address.chars().any(|c| c.is_whitespace() || c.is_control())
        && !domain.contains('@')
}

#[cfg(test)]
mod tests {
    use super::is_email;

    #[test]
    fn e_mail_addresses_are_told_apart_from_typos() {
        let good = ["ops@example.com", "a.b+alerts@sub.example.org"];
        assert!(good.into_iter().all(is_email));
        for bad in [
            "",
            "ops",
            "ops@",
            "@example.com",
            "ops@example",
            "o ps@example.com",
        ] {
            assert!(!is_email(bad), "{bad:?}");
        }
        assert!(!is_email("ops@ex@ample.com"));
    }
}
