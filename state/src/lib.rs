//! The provisioner's state: the document, its S3 and local-file backends, and its locks.
