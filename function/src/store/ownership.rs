//! A playground's owner: recorded at creation, checked by every change as part of the write's
//! own condition.
//!
//! The owner is the creator's issuer and subject (`ownerIssuer`, `ownerSubject`). A change by
//! a non-admin is conditional on both matching, so the check and the write are one call and
//! cannot race. When the condition fails, the row DynamoDB returns with the failure
//! (`ReturnValuesOnConditionCheckFailure = ALL_OLD`) tells "not yours" (403) from "no such
//! playground" (404); should the emulator or an old endpoint not return it, one consistent
//! read decides, on that refused path only.

use aws_sdk_dynamodb::types::AttributeValue;

use super::codec::{Item, s};
use super::{Store, StoreError};
use crate::auth::Identity;
use crate::auth::rules::OwnerCheck;
use crate::domain::METADATA_USERNAME;

/// The attribute holding the owner's issuer.
pub(super) const OWNER_ISSUER: &str = "ownerIssuer";
/// The attribute holding the owner's subject.
pub(super) const OWNER_SUBJECT: &str = "ownerSubject";

/// Result of a change to a playground that its owner or an admin may make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeOutcome {
    Done,
    NotFound,
    /// The playground exists but the caller is not its owner (or it has none).
    Forbidden,
}

/// The owner attributes of a new playground row.
pub(super) fn record_owner(item: &mut Item, owner: &Identity) {
    item.insert(OWNER_ISSUER.into(), s(&owner.issuer));
    item.insert(OWNER_SUBJECT.into(), s(&owner.subject));
}

/// The condition a change must meet (the row exists, and is the caller's when that matters)
/// and the values it names.
pub(super) fn change_condition(
    check: OwnerCheck<'_>,
) -> (&'static str, Vec<(&'static str, AttributeValue)>) {
    match check {
        OwnerCheck::Anyone => ("attribute_exists(tableId)", Vec::new()),
        OwnerCheck::OwnedBy(identity) => (
            "attribute_exists(tableId) AND ownerIssuer = :ownerIss AND ownerSubject = :ownerSub",
            vec![
                (":ownerIss", s(&identity.issuer)),
                (":ownerSub", s(&identity.subject)),
            ],
        ),
    }
}

/// Whether `item` is owned by `identity`.
pub(super) fn owned_by(item: &Item, identity: &Identity) -> bool {
    let is = |name: &str, value: &str| matches!(item.get(name), Some(AttributeValue::S(v)) if v == value);
    is(OWNER_ISSUER, &identity.issuer) && is(OWNER_SUBJECT, &identity.subject)
}

impl Store {
    /// Why a conditional change of playground `table_id` was refused: `old` is the row the
    /// failure returned, if any.
    pub(super) async fn refusal(
        &self,
        table_id: &str,
        old: Option<&Item>,
    ) -> Result<ChangeOutcome, StoreError> {
        let exists = match old {
            Some(_) => true,
            None => self
                .read_row(table_id, METADATA_USERNAME, Some("tableId"))
                .await?
                .is_some(),
        };
        Ok(if exists {
            ChangeOutcome::Forbidden
        } else {
            ChangeOutcome::NotFound
        })
    }
}
