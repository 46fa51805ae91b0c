//! Who may change what: the rules of the API, apart from how identities are obtained.
//!
//! - a playground (`PATCH`, `DELETE`): its owner or an admin; a playground made before auth
//!   was enabled has no owner, so only admins may change it;
//! - a user row (`PUT`): that user (the username claim equals `{username}`) or an admin.
//!
//! A playground's owner is only known to DynamoDB, so that rule is handed to the store as an
//! [`OwnerCheck`] it turns into a write condition: one call, no read first.

use super::{Caller, Identity};
use crate::error::ApiError;

/// What the store must check about a playground's owner before changing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnerCheck<'a> {
    /// Anyone may change it (auth off, or the caller is an admin).
    Anyone,
    /// Only if its recorded owner is this identity.
    OwnedBy(&'a Identity),
}

impl Caller {
    /// The condition a change of a playground must meet for this caller.
    pub fn owner_check(&self) -> OwnerCheck<'_> {
        match self {
            Self::Known(identity) if !identity.admin => OwnerCheck::OwnedBy(identity),
            _ => OwnerCheck::Anyone,
        }
    }

    /// Whether this caller may write `username`'s row; 403 if not.
    pub fn may_write_user(&self, username: &str) -> Result<(), ApiError> {
        match self {
            Self::Known(identity) if !identity.admin && !identity.is_user(username) => Err(
                ApiError::Forbidden("Only that user or an admin may write this user's row"),
            ),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(username: &str, admin: bool) -> Caller {
        Caller::Known(Identity {
            issuer: "i".into(),
            subject: username.into(),
            username: Some(username.into()),
            admin,
        })
    }

    #[test]
    fn users_write_their_own_row_admins_any() {
        assert!(known("alice", false).may_write_user("alice").is_ok());
        assert!(matches!(
            known("alice", false).may_write_user("bob"),
            Err(ApiError::Forbidden(_))
        ));
        assert!(known("root", true).may_write_user("bob").is_ok());
        assert!(Caller::Open.may_write_user("bob").is_ok());
    }

    #[test]
    fn only_non_admins_are_held_to_ownership() {
        assert_eq!(Caller::Open.owner_check(), OwnerCheck::Anyone);
        assert_eq!(known("root", true).owner_check(), OwnerCheck::Anyone);
        assert!(matches!(
            known("alice", false).owner_check(),
            OwnerCheck::OwnedBy(i) if i.subject == "alice"
        ));
    }
}
