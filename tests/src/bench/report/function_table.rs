//! The function's table: its `bootstrap` against the empty `lambda_http` floor, then the CPU
//! and memory of `function serve` under load.

use std::fmt::Write as _;

use super::format::{cell, number, ratio_cell};
use crate::bench::function::FunctionFigures;

pub fn function_table(f: &FunctionFigures) -> String {
    let mut md = String::from(
        "| function | `bootstrap` | empty `lambda_http` (floor) | ratio |\n|---|---|---|---|\n",
    );
    // The cold starts: ours against the floor's, in ms, and their ratio.
    let cold_starts = [
        (
            "exec → first request polled",
            f.cold_start_ready_ms,
            f.floor_ready_ms,
        ),
        (
            "exec → first response (function: one GetItem)",
            f.cold_start_answered_ms,
            f.floor_answered_ms,
        ),
    ];
    for (what, ours, floor) in cold_starts {
        let ratio = ratio_cell(Some(ours), Some(floor));
        let (ours, floor) = (cell(Some(ours), "ms"), cell(Some(floor), "ms"));
        let _ = writeln!(md, "| cold start: {what} | {ours} | {floor} | {ratio} |");
    }
    let _ = writeln!(
        md,
        "| binary size | {:.2} MB | {:.2} MB | {:.1}x |",
        f.binary_bytes as f64 / 1e6,
        f.floor_binary_bytes as f64 / 1e6,
        f.binary_bytes as f64 / f.floor_binary_bytes.max(1) as f64,
    );
    let _ = writeln!(
        md,
        "| zip size (`bootstrap`, deflate) | {:.2} MB | | |",
        f.zip_bytes as f64 / 1e6
    );
    let _ = writeln!(
        md,
        "| CPU per 1,000 requests, `function serve`, mixed GET/PUT on new playgrounds ({} requests, {} clients) | {} s | | |",
        f.requests,
        f.clients,
        number(f.cpu_s_per_1000_requests)
    );
    let optional_rows = [
        (
            "the same mix once every user exists (one DynamoDB call per request)",
            f.steady_cpu_s_per_1000_requests,
        ),
        (
            "requests making exactly one DynamoDB call (GET playground)",
            f.one_call_cpu_s_per_1000_requests,
        ),
        (
            "requests making no DynamoDB call (CORS preflight)",
            f.no_call_cpu_s_per_1000_requests,
        ),
    ];
    for (what, value) in optional_rows {
        if let Some(value) = value {
            let _ = writeln!(
                md,
                "| CPU per 1,000 requests, {what} | {} s | | |",
                number(value)
            );
        }
    }
    let _ = writeln!(
        md,
        "| peak memory of `function serve` under that load | {} MB | | |",
        number(f.serve_peak_rss_mb)
    );
    let _ = writeln!(
        md,
        "| requests/s (bounded by the emulator, Python) | {:.0} | | |",
        f.requests_per_s
    );
    md
}
