//! S3 backend: one object per environment (`<prefix>/<env>/state.json`) in a versioned bucket.
//!
//! Every write is a compare-and-swap on the ETag that was read (`If-Match`, or `If-None-Match:
//! *` for the first write), so a lost update is impossible even when a lock is broken by hand.
//! The bucket's object versions are the history; a rollback writes an old version back as a
//! new one. Each version also carries `serial`, `lineage` and `written-by` as object metadata,
//! so listing history needs a HEAD per version, not a download.

use aws_sdk_s3::primitives::ByteStream;
use futures::{StreamExt, TryStreamExt};

use crate::aws_error;
use crate::backend::{HistoryEntry, Stored, WriteToken, holds_version, next_version};
use crate::codec::{self, Decoded};
use crate::document::{CURRENT_FORMAT_VERSION, StateDocument};
use crate::error::StateError;
use crate::lock::who;

/// How many versions a corrupted read looks back for one that still verifies.
const GOOD_VERSION_SEARCH_LIMIT: usize = 50;

/// An S3 client for `sdk`: path-style addressing when an endpoint override is set (local
/// emulators serve `http://host:port/bucket/key`), AWS's default virtual-hosted style otherwise.
pub fn s3_client(sdk: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    let mut builder = aws_sdk_s3::config::Builder::from(sdk);
    if sdk.endpoint_url().is_some() {
        builder = builder.force_path_style(true);
    }
    aws_sdk_s3::Client::from_conf(builder.build())
}

/// The state object key for `environment` under `prefix`.
pub fn state_key(prefix: &str, environment: &str) -> String {
    let prefix = prefix.trim_matches('/');
    if prefix.is_empty() {
        format!("{environment}/state.json")
    } else {
        format!("{prefix}/{environment}/state.json")
    }
}

/// One environment's state object.
#[derive(Debug, Clone)]
pub(crate) struct S3Store {
    pub client: aws_sdk_s3::Client,
    pub bucket: String,
    pub key: String,
    pub environment: String,
}

/// One stored object version, as read.
pub struct RawObject {
    pub bytes: Vec<u8>,
    pub etag: String,
    pub version_id: Option<String>,
}

/// GetObject of `key` (or of one version of it) with its whole body; `None` when the object or
/// the version is not there. The state and its lock object read through here alike;
/// `(operation, target)` name the read in errors. `migrate` reads a Terraform state with it too.
pub async fn get_object(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    version_id: Option<&str>,
    (operation, target): (&str, &str),
) -> Result<Option<RawObject>, StateError> {
    let got = client
        .get_object()
        .bucket(bucket)
        .key(key)
        .set_version_id(version_id.map(str::to_string))
        .send()
        .await;
    let Some(out) = aws_error::found(got, operation, target)? else {
        return Ok(None);
    };
    let etag = out.e_tag.clone().unwrap_or_default();
    let version_id = out.version_id.clone();
    let bytes = out
        .body
        .collect()
        .await
        .map_err(|e| StateError::Aws {
            operation: format!("{operation} on {target}"),
            message: format!("reading the body failed: {e}"),
        })?
        .into_bytes()
        .to_vec();
    Ok(Some(RawObject {
        bytes,
        etag,
        version_id,
    }))
}

/// What a write must find in place.
enum Expect<'a> {
    Nothing,
    ETag(&'a str),
}

impl S3Store {
    pub fn location(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.key)
    }

    async fn get_raw(&self, version_id: Option<&str>) -> Result<Option<RawObject>, StateError> {
        get_object(
            &self.client,
            &self.bucket,
            &self.key,
            version_id,
            ("GetObject", &self.location()),
        )
        .await
    }

    /// Verifies and upgrades one object version, or says which version to restore.
    async fn decode(&self, raw: &RawObject) -> Result<Decoded, StateError> {
        let reason = match codec::decode(&raw.bytes) {
            Ok(decoded) => return Ok(decoded),
            Err(error) => error.corrupt_reason(self.location())?,
        };
        let bad = raw.version_id.as_deref().unwrap_or("null");
        let good = self
            .last_good_version_before(raw.version_id.as_deref())
            .await;
        let restore_hint = match &good {
            Some(version) => format!(
                "The bad object is version {bad}; the last version that verifies is \
                 {version}. Restore it with: provisioner state rollback --env {env} \
                 {version}",
                env = self.environment
            ),
            None => format!(
                "The bad object is version {bad} and no earlier version verifies; \
                 restore a known-good copy of s3://{}/{} by hand",
                self.bucket, self.key
            ),
        };
        Err(StateError::Corrupted {
            location: self.location(),
            version_id: good,
            restore_hint,
            reason,
        })
    }

    /// The newest version older than `bad` whose content verifies. Best effort: a failure
    /// while searching only means no suggestion.
    async fn last_good_version_before(&self, bad: Option<&str>) -> Option<String> {
        let versions = self.list_versions().await.ok()?;
        let older = versions
            .iter()
            .skip_while(|v| bad.is_some_and(|bad| v.version_id() != Some(bad)))
            .skip(usize::from(bad.is_some()));
        for version in older.take(GOOD_VERSION_SEARCH_LIMIT) {
            let id = version.version_id()?;
            if let Ok(Some(raw)) = self.get_raw(Some(id)).await
                && codec::decode(&raw.bytes).is_ok()
            {
                return Some(id.to_string());
            }
        }
        None
    }

    pub async fn read(&self) -> Result<Stored, StateError> {
        match self.get_raw(None).await? {
            None => Ok(Stored {
                document: None,
                token: WriteToken::absent(),
            }),
            Some(raw) => {
                let decoded = self.decode(&raw).await?;
                let token = WriteToken::of(raw.etag, &decoded.document);
                Ok(Stored {
                    document: Some(decoded.document),
                    token,
                })
            }
        }
    }

    /// Compare-and-swap: writes `document` as the version after the stored one, if the stored
    /// one is still the version this run read or last wrote.
    ///
    /// The put is sent at once, conditional on the ETag this run holds (`If-None-Match: *` for
    /// the first write): under the lock that is the usual case, and it costs one call instead of
    /// a read and a write. Only when S3 refuses it is the stored object read to tell why
    /// ([`S3Store::after_refusal`]).
    pub async fn write(
        &self,
        document: &mut StateDocument,
        token: &WriteToken,
    ) -> Result<WriteToken, StateError> {
        let next = next_version(document, token.version.as_ref(), &self.location())?;
        let expect = match &token.tag {
            Some(etag) => Expect::ETag(etag),
            None => Expect::Nothing,
        };
        let etag = match self.put(&next, expect).await {
            Ok(etag) => etag,
            Err(StateError::Conflict { .. }) => self.after_refusal(token, &next).await?,
            Err(other) => return Err(other),
        };
        let written = WriteToken::of(etag, &next);
        *document = next;
        Ok(written)
    }

    /// Why a conditional put of `next` was refused, decided by content, not by the ETag alone:
    /// - the stored object is exactly `next`: our own write landed and only its answer was lost
    ///   (the SDK retried a request that had succeeded): done;
    /// - it is the version this run holds (same lineage and serial: every write moves the
    ///   serial up by one) under another ETag (re-uploaded unchanged, or an S3-compatible store
    ///   computing ETags differently): the put is sent again on that ETag;
    /// - anything else is someone else's write: a conflict, and nothing is written.
    async fn after_refusal(
        &self,
        token: &WriteToken,
        next: &StateDocument,
    ) -> Result<String, StateError> {
        let conflict = || StateError::Conflict {
            location: self.location(),
        };
        let Some(raw) = self.get_raw(None).await? else {
            return Err(conflict());
        };
        let stored = self.decode(&raw).await?.document;
        if stored == *next {
            return Ok(raw.etag);
        }
        if !token
            .version
            .as_ref()
            .is_some_and(|held| holds_version(&stored, held))
        {
            return Err(conflict());
        }
        tracing::debug!(location = %self.location(), now = %raw.etag, serial = stored.serial, "same state version under another ETag");
        match self.put(next, Expect::ETag(&raw.etag)).await {
            Err(StateError::Conflict { .. }) => Err(conflict()),
            other => other,
        }
    }

    async fn put(
        &self,
        document: &StateDocument,
        expect: Expect<'_>,
    ) -> Result<String, StateError> {
        let writer = who();
        let body = codec::encode(document, &writer);
        let mut put = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(&self.key)
            .content_type("application/json")
            .metadata("serial", document.serial.to_string())
            .metadata("lineage", &document.lineage)
            .metadata("written-by", &writer)
            .metadata("run-id", &crate::run::current().id)
            .metadata("run-command", &crate::run::current().command)
            .body(ByteStream::from(body));
        put = match expect {
            Expect::Nothing => put.if_none_match("*"),
            Expect::ETag(etag) => put.if_match(etag),
        };
        match put.send().await {
            Ok(out) => out.e_tag.ok_or_else(|| StateError::Aws {
                operation: format!("PutObject on {}", self.location()),
                message: "the response carried no ETag".to_string(),
            }),
            Err(e) if aws_error::is_precondition_failed(&e) => Err(StateError::Conflict {
                location: self.location(),
            }),
            Err(e) => Err(aws_error::aws("PutObject", &self.location(), e)),
        }
    }

    /// Every version of the state object (not delete markers), newest first, as S3 lists them.
    async fn list_versions(&self) -> Result<Vec<aws_sdk_s3::types::ObjectVersion>, StateError> {
        // The same listing page after page; only the markers change.
        let listing = self.client.list_object_versions().bucket(&self.bucket);
        let listing = listing.prefix(&self.key);
        let mut versions = Vec::new();
        let mut key_marker: Option<String> = None;
        let mut version_marker: Option<String> = None;
        loop {
            let page = listing
                .clone()
                .set_key_marker(key_marker.take())
                .set_version_id_marker(version_marker.take())
                .send()
                .await
                .map_err(|e| aws_error::aws("ListObjectVersions", &self.location(), e))?;
            versions.extend(
                page.versions()
                    .iter()
                    .filter(|v| v.key() == Some(self.key.as_str()))
                    .cloned(),
            );
            if page.is_truncated() != Some(true) {
                return Ok(versions);
            }
            key_marker = page.next_key_marker().map(str::to_string);
            version_marker = page.next_version_id_marker().map(str::to_string);
            if key_marker.is_none() && version_marker.is_none() {
                return Ok(versions);
            }
        }
    }

    pub async fn history(&self) -> Result<Vec<HistoryEntry>, StateError> {
        let versions = self.list_versions().await?;
        futures::stream::iter(versions)
            .map(|version| async move {
                let version_id = version.version_id().unwrap_or("null").to_string();
                let head = self
                    .client
                    .head_object()
                    .bucket(&self.bucket)
                    .key(&self.key)
                    .version_id(&version_id)
                    .send()
                    .await
                    .map_err(|e| aws_error::aws("HeadObject", &self.location(), e))?;
                let metadata = head.metadata();
                let serial = metadata
                    .and_then(|m| m.get("serial"))
                    .and_then(|s| s.parse().ok());
                let writer = metadata.and_then(|m| m.get("written-by")).cloned();
                let run = metadata.and_then(|m| {
                    Some(crate::run::Run {
                        id: m.get("run-id")?.clone(),
                        command: m.get("run-command").cloned().unwrap_or_default(),
                    })
                });
                let last_modified = version
                    .last_modified()
                    .and_then(|t| t.fmt(aws_smithy_types::date_time::Format::DateTime).ok())
                    .unwrap_or_default();
                Ok::<_, StateError>(HistoryEntry {
                    version_id,
                    serial,
                    last_modified,
                    writer,
                    is_latest: version.is_latest() == Some(true),
                    run,
                })
            })
            .buffered(8)
            .try_collect()
            .await
    }

    pub async fn read_version(&self, version_id: &str) -> Result<StateDocument, StateError> {
        let raw = self
            .get_raw(Some(version_id))
            .await?
            .ok_or_else(|| StateError::NotFound {
                what: format!(
                    "version {version_id} (list them with `provisioner state history --env {}`)",
                    self.environment
                ),
                location: self.location(),
            })?;
        Ok(self.decode(&raw).await?.document)
    }

    pub async fn rollback(&self, version_id: &str) -> Result<StateDocument, StateError> {
        let mut document = self.read_version(version_id).await?;
        // The object now (even if corrupted: rolling back is how that is repaired), then every
        // serial ever written after it was read, so the new serial is above all of them.
        let current = self.get_raw(None).await?;
        let highest = self
            .history()
            .await?
            .iter()
            .filter_map(|entry| entry.serial)
            .max()
            .unwrap_or(0);
        let current_serial = current
            .as_ref()
            .and_then(|raw| serde_json::from_slice::<serde_json::Value>(&raw.bytes).ok())
            .and_then(|value| value.get("serial").and_then(serde_json::Value::as_u64))
            .unwrap_or(0);
        document.serial = highest.max(current_serial) + 1;
        document.format_version = CURRENT_FORMAT_VERSION;
        document.tool_version = env!("CARGO_PKG_VERSION").to_string();
        let expect = match &current {
            Some(raw) => Expect::ETag(&raw.etag),
            None => Expect::Nothing,
        };
        self.put(&document, expect).await?;
        tracing::info!(
            location = %self.location(),
            from = version_id,
            serial = document.serial,
            "state rolled back"
        );
        Ok(document)
    }
}
