//! Typed errors; each message says what happened and what to do.

/// Everything that can go wrong reading, writing or locking the state.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("the state document is not valid: {0}")]
    Invalid(String),
}
