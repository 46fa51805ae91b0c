//! A release moving the alias from one version to the next gradually, watched by alarms.
//!
//! `canary`: the new version takes `percent` of the traffic for `interval`, then `bake` more;
//! `linear`: it takes `percent` more every `interval` (10, 20, ... below 100), then `bake`. All
//! the while the release alarms are read; one in `ALARM` sets the alias back to the version
//! before, with no weight, and the release fails saying which alarm and why. When the bake
//! passes, the alias moves fully. `all_at_once` moves it in one call, as without a rollout.
//!
//! The weighted alias is the rollout's only state: a run stopped half way (a crash, a signal)
//! leaves it, the next plan shows it as a change, and the next apply resumes from the weight the
//! alias holds (watching that step again from its start), or, when the declaration has moved on
//! to yet another version, starts over from the version that serves the rest.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::cloudwatch_metric_alarm::describe_metric_alarms;
use super::lambda_alias::{Spec, point};
use crate::aws::AwsClients;
use crate::resource::ResourceError;

/// How often the alarms are read during a rollout (at most).
const ALARM_POLL: Duration = Duration::from_secs(5);

/// How the alias moves to a new version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    AllAtOnce,
    Canary,
    Linear,
}

/// A release's pace and its watch, as declared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rollout {
    pub strategy: Strategy,
    /// The new version's share per step, in percent (1 to 99).
    pub percent: u32,
    /// How long each weighted step is watched.
    pub interval_seconds: u64,
    /// How long the last weighted step is watched more before the alias moves fully.
    pub bake_seconds: u64,
    /// The CloudWatch alarms whose `ALARM` state rolls the release back.
    #[serde(default)]
    pub alarms: Vec<String>,
}

impl Rollout {
    /// The new version's weights, step by step (fractions of 1), before the full move.
    pub fn steps(&self) -> Vec<f64> {
        let percent = self.percent.clamp(1, 99);
        let shares: Vec<u32> = match self.strategy {
            Strategy::AllAtOnce => Vec::new(),
            Strategy::Canary => vec![percent],
            Strategy::Linear => (1..)
                .map(|i| i * percent)
                .take_while(|p| *p < 100)
                .collect(),
        };
        shares.into_iter().map(|p| f64::from(p) / 100.0).collect()
    }
}

/// Moves the alias `name` to `spec.function_version` by `rollout`'s steps, from `serving` (the
/// version the alias serves outside its weight). `resume_from` is the new version's weight the
/// alias already holds (a rollout stopped half way), if any. Returns once the alias serves the
/// new version alone; an alarm in `ALARM` returns [`ResourceError::RolledBack`] after putting
/// the alias back on `serving`.
pub async fn release(
    aws: &AwsClients,
    name: &str,
    spec: &Spec,
    serving: &str,
    resume_from: Option<f64>,
    rollout: &Rollout,
) -> Result<(), ResourceError> {
    let new = spec.function_version.as_str();
    let steps = rollout.steps();
    let last = steps.len().saturating_sub(1);
    for (i, weight) in steps.iter().enumerate() {
        if resume_from.is_some_and(|held| *weight < held) {
            continue;
        }
        let weighted = Spec {
            function_version: serving.to_string(),
            additional_version_weights: [(new.to_string(), *weight)].into(),
            ..spec.clone()
        };
        point(aws, name, &weighted).await?;
        let mut hold = Duration::from_secs(rollout.interval_seconds);
        if i == last {
            hold += Duration::from_secs(rollout.bake_seconds);
        }
        let step = Step {
            version: new,
            weight: *weight,
            hold,
        };
        if let Err(fired) = watch(aws, &rollout.alarms, &step).await? {
            let back = Spec {
                function_version: serving.to_string(),
                additional_version_weights: Default::default(),
                ..spec.clone()
            };
            point(aws, name, &back).await?;
            return Err(ResourceError::RolledBack(format!(
                "the release of version {new} was rolled back to version {serving} at {:.0}% of \
                 the traffic: alarm {fired}; fix the cause, then apply again (or `provisioner \
                 status` to see the alarms)",
                weight * 100.0
            )));
        }
    }
    Ok(())
}

/// One weighted step of a rollout, as its progress lines tell it.
struct Step<'a> {
    version: &'a str,
    /// The new version's share, 0 to 1.
    weight: f64,
    /// How long the step is watched.
    hold: Duration,
}

/// Reads `alarms` until `step.hold` has passed: `Ok(Err(what))` as soon as one is in `ALARM`
/// (`what` names it and says why), `Ok(Ok(()))` when none was. Says where the step is (weight,
/// time left, the alarms' states) when it starts and every [`REPORT_EVERY`] after, on the
/// `lambda_rollout` log target that `provisioner` shows by default: plain lines, on a terminal
/// as in CI.
async fn watch(
    aws: &AwsClients,
    alarms: &[String],
    step: &Step<'_>,
) -> Result<Result<(), String>, ResourceError> {
    let start = Instant::now();
    let mut reported: Option<Instant> = None;
    loop {
        let states = alarm_states(aws, alarms).await?;
        if let Some(alarm) = states.iter().find(|alarm| alarm.state == "ALARM") {
            return Ok(Err(format!(
                "`{}` is in ALARM ({})",
                alarm.name, alarm.reason
            )));
        }
        let left = step.hold.saturating_sub(start.elapsed());
        if left.is_zero() {
            return Ok(Ok(()));
        }
        if reported.is_none_or(|at| at.elapsed() >= REPORT_EVERY) {
            reported = Some(Instant::now());
            tracing::info!(
                "lambda_alias.live: version {} takes {:.0}% of the traffic, {}s left; alarms: {}",
                step.version,
                step.weight * 100.0,
                left.as_secs(),
                summary(alarms, &states)
            );
        }
        tokio::time::sleep(left.min(ALARM_POLL)).await;
    }
}

/// How often a step in progress says so.
const REPORT_EVERY: Duration = Duration::from_secs(30);

/// `6 watched: 4 OK, 2 INSUFFICIENT_DATA` (`none watched` without alarms).
fn summary(alarms: &[String], states: &[AlarmState]) -> String {
    if alarms.is_empty() {
        return "none watched".to_string();
    }
    let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
    for alarm in states {
        *counts.entry(alarm.state.as_str()).or_default() += 1;
    }
    let missing = alarms.len().saturating_sub(states.len());
    let mut parts: Vec<String> = counts.iter().map(|(s, n)| format!("{n} {s}")).collect();
    if missing > 0 {
        parts.push(format!("{missing} missing"));
    }
    format!("{} watched: {}", alarms.len(), parts.join(", "))
}

/// An alarm's state as CloudWatch reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlarmState {
    pub name: String,
    /// `OK`, `ALARM` or `INSUFFICIENT_DATA`.
    pub state: String,
    pub reason: String,
}

/// The states of `alarms` ([`describe_metric_alarms`]), in the order CloudWatch answers;
/// an alarm that is not there is left out.
pub async fn alarm_states(
    aws: &AwsClients,
    alarms: &[String],
) -> Result<Vec<AlarmState>, ResourceError> {
    let described = describe_metric_alarms(aws, alarms).await?;
    let states = described.iter().map(|alarm| AlarmState {
        name: alarm.alarm_name().unwrap_or_default().to_string(),
        state: alarm.state_value().map_or("", |s| s.as_str()).to_string(),
        reason: alarm
            .state_reason()
            .unwrap_or("no reason given")
            .to_string(),
    });
    Ok(states.collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rollout(strategy: Strategy, percent: u32) -> Rollout {
        Rollout {
            strategy,
            percent,
            interval_seconds: 1,
            bake_seconds: 1,
            alarms: Vec::new(),
        }
    }

    #[test]
    fn a_step_summarises_its_alarms_states() {
        let state = |name: &str, state: &str| AlarmState {
            name: name.into(),
            state: state.into(),
            reason: String::new(),
        };
        let watched = ["a".to_string(), "b".into(), "c".into()];
        let states = [state("a", "OK"), state("b", "INSUFFICIENT_DATA")];
        assert_eq!(
            summary(&watched, &states),
            "3 watched: 1 INSUFFICIENT_DATA, 1 OK, 1 missing"
        );
        assert_eq!(summary(&[], &[]), "none watched");
    }

    #[test]
    fn steps_follow_the_strategy() {
        assert!(rollout(Strategy::AllAtOnce, 10).steps().is_empty());
        assert_eq!(rollout(Strategy::Canary, 10).steps(), [0.1]);
        assert_eq!(
            rollout(Strategy::Linear, 25).steps(),
            [0.25, 0.5, 0.75],
            "below 100: the last move is the full one"
        );
        assert_eq!(rollout(Strategy::Linear, 40).steps(), [0.4, 0.8]);
    }
}
