//! The state document being changed by a run, and its compare-and-swap writes.
//!
//! Only the engine's coordinating task writes (steps report back to it), so writes are
//! sequential and each one is a compare-and-swap on the previous: a second writer that slipped
//! past the lock is detected instead of overwritten.

use state::{
    Backend, Owner, PendingAction, PendingOperation, ResourceState, StateDocument, WriteToken,
};

use super::EngineError;

pub struct StateWriter<'a> {
    backend: &'a Backend,
    pub document: StateDocument,
    token: WriteToken,
    /// True once the document has been written at least once (or was read from the backend).
    pub exists: bool,
}

impl<'a> StateWriter<'a> {
    /// Reads the environment's state, or starts an empty one owned by `owner`. A state that
    /// belongs to another stack, environment, region or account is refused; an older one that
    /// does not say its region and account records them with its next write.
    pub async fn open(backend: &'a Backend, owner: &Owner) -> Result<Self, EngineError> {
        let stored = backend.read_owned(owner).await?;
        let exists = stored.document.is_some();
        let mut document = stored
            .document
            .unwrap_or_else(|| StateDocument::owned_by(owner));
        document.claim(owner);
        Ok(Self {
            backend,
            document,
            token: stored.token,
            exists,
        })
    }

    /// Writes the document now.
    pub async fn save(&mut self) -> Result<(), EngineError> {
        self.document.tool_version = env!("CARGO_PKG_VERSION").to_string();
        self.token = self.backend.write(&mut self.document, &self.token).await?;
        self.exists = true;
        Ok(())
    }

    /// Records work about to start, then writes (so a crash leaves a trace).
    pub async fn begin(
        &mut self,
        address: &str,
        kind: &str,
        action: PendingAction,
        physical_name: &str,
    ) -> Result<(), EngineError> {
        self.document.pending.retain(|p| p.address != address);
        self.document.pending.push(PendingOperation {
            address: address.to_string(),
            kind: kind.to_string(),
            action,
            physical_name: physical_name.to_string(),
            started_at: now_rfc3339(),
        });
        self.save().await
    }

    /// Records a resource as it is now and clears its pending operation.
    pub async fn record(&mut self, resource: ResourceState) -> Result<(), EngineError> {
        self.document
            .pending
            .retain(|p| p.address != resource.address);
        self.document
            .resources
            .insert(resource.address.clone(), resource);
        self.save().await
    }

    /// Forgets a deleted resource and its pending operation.
    pub async fn forget(&mut self, address: &str) -> Result<(), EngineError> {
        self.document.pending.retain(|p| p.address != address);
        self.document.resources.remove(address);
        self.save().await
    }
}

/// The current time, RFC 3339.
pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
