//! Median, minimum and maximum of a handful of runs. The median (not the mean) is the headline
//! because one slow run on a shared machine should not move it; min and max show the spread.

use serde::{Deserialize, Serialize};

/// The spread of one measure over several runs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub median: f64,
    pub min: f64,
    pub max: f64,
    pub runs: usize,
}

impl Summary {
    /// `None` for no samples (or only NaNs): there is nothing to summarise.
    pub fn of(samples: &[f64]) -> Option<Summary> {
        let mut sorted: Vec<f64> = samples.iter().copied().filter(|v| !v.is_nan()).collect();
        if sorted.is_empty() {
            return None;
        }
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let median = if n % 2 == 1 {
            sorted[n / 2]
        } else {
            (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
        };
        Some(Summary {
            median,
            min: sorted[0],
            max: sorted[n - 1],
            runs: n,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_count_takes_the_middle_value() {
        let s = Summary::of(&[5.0, 1.0, 3.0]).unwrap();
        assert_eq!(
            s,
            Summary {
                median: 3.0,
                min: 1.0,
                max: 5.0,
                runs: 3
            }
        );
    }

    #[test]
    fn even_count_averages_the_two_middle_values() {
        let s = Summary::of(&[4.0, 1.0, 2.0, 10.0]).unwrap();
        assert_eq!(s.median, 3.0);
        assert_eq!((s.min, s.max, s.runs), (1.0, 10.0, 4));
    }

    #[test]
    fn nothing_to_summarise_is_none() {
        assert_eq!(Summary::of(&[]), None);
        assert_eq!(Summary::of(&[f64::NAN]), None);
    }

    #[test]
    fn one_sample_is_its_own_median_min_and_max() {
        let s = Summary::of(&[0.25]).unwrap();
        assert_eq!((s.median, s.min, s.max, s.runs), (0.25, 0.25, 0.25, 1));
    }
}
