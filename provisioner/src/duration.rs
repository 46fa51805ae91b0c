//! Durations as people write them in flags and in the stack file (`--lock-timeout 2m`,
//! `[release] interval = "30s"`): one parser, so both read alike.

use std::time::Duration;

/// `30s`, `2m`, `1h`, `500ms` or a bare number of seconds.
pub fn parse(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: u64 = number
        .parse()
        .map_err(|_| format!("'{text}' is not a duration: write e.g. 30s, 2m or 500ms"))?;
    match unit {
        "" | "s" => Ok(Duration::from_secs(value)),
        "ms" => Ok(Duration::from_millis(value)),
        "m" => Ok(Duration::from_secs(value * 60)),
        "h" => Ok(Duration::from_secs(value * 3600)),
        _ => Err(format!(
            "'{text}' has an unknown unit '{unit}': use ms, s, m or h (e.g. 30s)"
        )),
    }
}
