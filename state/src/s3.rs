//! S3 backend.
