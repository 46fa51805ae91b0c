//! Every listing page's body stays under [`MAX_PAGE_BODY_BYTES`], whatever `limit` asks for.
//!
//! Lambda refuses a response over 6 MB, and older rows can carry names of tens of KiB (the
//! 128-character limit is newer than they are), so a page of 500 could not be answered at
//! all. Items are written while the body stays within the bound; the item that passes it is
//! taken back (the body cut to where that item began) and ends the page, whose `lastKey` then
//! points after the last item kept, so the client pages on as usual. Each item is written
//! once and measured as it is written: an upper bound counted from every string beforehand
//! (escapes included) cost a page of 50 playgrounds a second pass over its strings, about
//! 18,000 instructions of a request's budgeted CPU.

/// The bound on a listing's response body (bytes of JSON).
pub const MAX_PAGE_BODY_BYTES: usize = 1_000_000;

/// Room kept for the envelope's end (`],"lastKey":{...}}`): a `lastKey` holds two ids of at
/// most 64 characters and a short stamp or count.
const ENVELOPE_BYTES: usize = 1_024;

/// Bytes of JSON for one item besides its strings' own bytes: field names, punctuation,
/// quotes, numbers, booleans (a playground's six fields or a user's four, generously).
pub const ITEM_OVERHEAD_BYTES: usize = 160;

/// Whether a page body of `bytes` so far still leaves room for the envelope's end: while it
/// does, the last item written stays in the page.
pub fn within_bound(bytes: usize) -> bool {
    bytes <= MAX_PAGE_BODY_BYTES - ENVELOPE_BYTES
}

/// The buffer to reserve for a page of `items` items whose strings total `strings` bytes:
/// each item's [`ITEM_OVERHEAD_BYTES`] and the envelope besides, no more than the bound (the
/// items past it are not kept). A string that needs escaping grows the buffer as it is
/// written.
pub fn page_capacity(items: usize, strings: usize) -> usize {
    items
        .saturating_mul(ITEM_OVERHEAD_BYTES)
        .saturating_add(strings)
        .saturating_add(ENVELOPE_BYTES)
        .min(MAX_PAGE_BODY_BYTES)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bound_leaves_room_for_the_envelope() {
        assert!(within_bound(0));
        assert!(within_bound(MAX_PAGE_BODY_BYTES - ENVELOPE_BYTES));
        assert!(!within_bound(MAX_PAGE_BODY_BYTES - ENVELOPE_BYTES + 1));
    }

    #[test]
    fn capacity_covers_the_items_up_to_the_bound() {
        assert_eq!(page_capacity(0, 0), ENVELOPE_BYTES);
        assert_eq!(
            page_capacity(50, 4_000),
            50 * ITEM_OVERHEAD_BYTES + 4_000 + ENVELOPE_BYTES
        );
        assert_eq!(page_capacity(500, usize::MAX), MAX_PAGE_BODY_BYTES);
    }
}
