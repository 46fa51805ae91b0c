//! Where a request's time goes: in the gateway (everything but the function) and in the
//! function (from handing the event to a sandbox to its answer), for `--stats` and the
//! benchmark (docs/benchmarks.md).

use std::sync::Mutex;
use std::time::Duration;

/// The timings of every request served, in microseconds.
#[derive(Debug, Default)]
pub struct Stats {
    samples: Mutex<Vec<(u64, Option<u64>)>>,
}

/// Medians and 90th percentiles, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    pub requests: usize,
    pub invoked: usize,
    pub gateway_median_ms: f64,
    pub gateway_p90_ms: f64,
    pub function_median_ms: f64,
    pub total_median_ms: f64,
}

impl Stats {
    /// Records a request that took `total`, `function` of it in the function.
    pub fn record(&self, total: Duration, function: Option<Duration>) {
        let micros = |d: Duration| u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        if let Ok(mut samples) = self.samples.lock() {
            samples.push((micros(total), function.map(micros)));
        }
    }

    /// The summary of the requests that invoked the function.
    pub fn summary(&self) -> Summary {
        let samples = self.samples.lock().map(|s| s.clone()).unwrap_or_default();
        let invoked: Vec<(u64, u64)> = samples
            .iter()
            .filter_map(|(total, function)| Some((*total, (*function)?)))
            .collect();
        let mut gateway: Vec<u64> = invoked.iter().map(|(t, f)| t.saturating_sub(*f)).collect();
        let mut function: Vec<u64> = invoked.iter().map(|(_, f)| *f).collect();
        let mut total: Vec<u64> = invoked.iter().map(|(t, _)| *t).collect();
        Summary {
            requests: samples.len(),
            invoked: invoked.len(),
            gateway_median_ms: percentile(&mut gateway, 50),
            gateway_p90_ms: percentile(&mut gateway, 90),
            function_median_ms: percentile(&mut function, 50),
            total_median_ms: percentile(&mut total, 50),
        }
    }
}

fn percentile(values: &mut [u64], p: usize) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_unstable();
    let index = (values.len() - 1) * p / 100;
    values[index] as f64 / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gateway_time_excludes_the_function() {
        let stats = Stats::default();
        for i in 1..=9 {
            let ms = |n: u64| Duration::from_micros(n * 1000);
            stats.record(ms(10 + i), Some(ms(10)));
        }
        stats.record(Duration::from_micros(50), None);
        let s = stats.summary();
        assert_eq!((s.requests, s.invoked), (10, 9));
        assert_eq!(s.gateway_median_ms, 5.0);
        assert_eq!(s.function_median_ms, 10.0);
        assert_eq!(s.total_median_ms, 15.0);
    }
}
