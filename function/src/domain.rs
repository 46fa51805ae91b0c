//! The API's values: what a playground and a user's scores are, and the limits that bound them.
//!
//! Kept apart from both ends that use them, [`crate::validate`] (which turns request input into
//! these values or a 400) and [`crate::store`] (which turns them into DynamoDB rows and back), so
//! neither has to know the other, and the handlers only shape these values into JSON.

/// Sort-key value of a playground's own row; never a valid username.
pub const METADATA_USERNAME: &str = "_metadata";

/// Longest id or username.
pub const MAX_ID_LEN: usize = 64;

/// Longest `displayName`, in characters: a page of 500 playgrounds then stays far below any
/// response limit (older rows may be longer; listings bound their pages anyway).
pub const MAX_DISPLAY_NAME_CHARS: usize = 128;

/// Largest count accepted: the largest integer a JSON number (an IEEE double) holds exactly.
pub const MAX_COUNT: u64 = (1 << 53) - 1;

/// The body of `POST /tables`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPlayground {
    pub table_id: String,
    pub display_name: String,
}

/// The body of `PATCH /tables/{tableId}`: at least one field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaygroundPatch {
    pub display_name: Option<String>,
    pub is_archived: Option<bool>,
}

/// The body of `PUT /tables/{tableId}/users/{username}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scores {
    pub submission_count: u64,
    pub total_count: u64,
}

/// A playground as the API shows it, its strings borrowed from the row DynamoDB returned
/// ([`crate::store::Row`], [`crate::store::Listing`]): a page's rows are read and written where
/// the SDK put them and freed together, instead of each string being moved into a value of its
/// own that is freed again once written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Playground<'a> {
    pub table_id: &'a str,
    pub display_name: &'a str,
    pub created_at: &'a str,
    pub updated_at: Option<&'a str>,
    pub is_archived: bool,
    pub user_count: u64,
}

/// One user's scores in a playground, borrowed from its row like [`Playground`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserScores<'a> {
    pub username: &'a str,
    pub submission_count: u64,
    pub total_count: u64,
    pub last_updated: &'a str,
}
