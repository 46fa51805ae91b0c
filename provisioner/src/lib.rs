//! The provisioner: plans, applies and destroys the playground stack per environment by
//! reconciling the declared stack against the state.
//!
//! Pipeline: stack file → desired resources (`desired`) → refresh (read every known resource,
//! in parallel) → diff (field by field, per kind) → plan (data: text and JSON) → apply (dependency
//! order, independent steps concurrent, state written after every step). Destroy is the same
//! engine with an empty desired set.

pub mod aws;
pub mod bootstrap;
pub mod desired;
pub mod duration;
pub mod engine;
pub mod http_client;
pub mod kinds;
pub mod migrate;
pub mod output;
pub mod package;
pub mod pipeline;
pub mod plan;
pub mod resource;
pub mod retry;
pub mod serve;
pub mod stack;
