//! Local-file backend.
