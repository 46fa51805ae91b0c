//! The playground API.
