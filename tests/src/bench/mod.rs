//! The pieces of `scripts/bench` (the `bench` binary): measuring a child process, the
//! provisioner/Terraform rounds, the function's cold start and load, summaries, the Markdown
//! table and the SVG chart. Each module has one job; the pure ones are unit-tested.

pub mod chart;
pub mod function;
pub mod infra;
pub mod measure;
pub mod report;
pub mod stats;
