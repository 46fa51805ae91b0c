//! How figures are written in the tables: a median with its spread, a count, a ratio, a met
//! goal. One place, so every table rounds the same way.

use crate::bench::stats::Summary;

/// `yes`, a bold `no` (a missed goal should stand out), or `–` when not measured.
pub fn yes_no(met: Option<bool>) -> &'static str {
    match met {
        Some(true) => "yes",
        Some(false) => "**no**",
        None => "–",
    }
}

/// `1.23 s (1.10 – 1.40)`, with precision that suits the magnitude.
pub fn cell(summary: Option<Summary>, unit: &str) -> String {
    match summary {
        None => "–".to_string(),
        Some(s) => format!(
            "{} {unit} ({} – {})",
            number(s.median),
            number(s.min),
            number(s.max)
        ),
    }
}

/// A count of calls: the median alone when every run made the same number.
pub fn count_cell(s: Summary) -> String {
    if s.min == s.max {
        format!("{:.0}", s.median)
    } else {
        format!("{:.0} ({:.0} – {:.0})", s.median, s.min, s.max)
    }
}

/// `12.3x` = `numerator.median / denominator.median`.
pub fn ratio_cell(numerator: Option<Summary>, denominator: Option<Summary>) -> String {
    match (numerator, denominator) {
        (Some(n), Some(d)) if d.median > 0.0 => format!("{:.1}x", n.median / d.median),
        _ => "–".to_string(),
    }
}

/// Three significant digits, no exponent.
pub fn number(value: f64) -> String {
    let magnitude = value.abs();
    if magnitude >= 100.0 {
        format!("{value:.0}")
    } else if magnitude >= 10.0 {
        format!("{value:.1}")
    } else if magnitude >= 1.0 {
        format!("{value:.2}")
    } else {
        format!("{value:.3}")
    }
}

/// A difference in calls with its sign (`+2`, `-1`, `+0.5` for a median between two runs).
pub fn signed(value: f64) -> String {
    if value.fract() == 0.0 {
        format!("{value:+.0}")
    } else {
        format!("{value:+.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_keep_three_significant_digits() {
        assert_eq!(number(0.01234), "0.012");
        assert_eq!(number(1.234), "1.23");
        assert_eq!(number(12.34), "12.3");
        assert_eq!(number(1234.4), "1234");
    }

    #[test]
    fn differences_carry_their_sign() {
        assert_eq!(signed(2.0), "+2");
        assert_eq!(signed(-1.0), "-1");
        assert_eq!(signed(0.5), "+0.5");
    }

    #[test]
    fn counts_show_a_spread_only_when_runs_differ() {
        let same = Summary::of(&[20.0, 20.0]).unwrap();
        assert_eq!(count_cell(same), "20");
        let spread = Summary::of(&[20.0, 22.0, 21.0]).unwrap();
        assert_eq!(count_cell(spread), "21 (20 – 22)");
    }
}
