//! Every listing page's body stays under [`MAX_PAGE_BODY_BYTES`], whatever `limit` asks for.
//!
//! Lambda refuses a response over 6 MB, and older rows can carry names of tens of KiB (the
//! 128-character limit is newer than they are), so a page of 500 could not be answered at
//! all. Items are counted while the body stays under the bound; a page cut short returns a
//! `lastKey` after its last item, so the client pages on as usual. Sizes are upper bounds
//! computed from the strings alone (no serialising twice): a request's CPU is budgeted.

/// The bound on a listing's response body (bytes of JSON).
pub const MAX_PAGE_BODY_BYTES: usize = 1_000_000;

/// Room kept for the envelope (`{"tables":[...],"lastKey":{...}}`): a `lastKey` holds two
/// ids of at most 64 characters and a short stamp or count.
const ENVELOPE_BYTES: usize = 1_024;

/// Bytes of JSON for one item besides its strings: field names, punctuation, numbers,
/// booleans (a playground's five fields or a user's four, generously).
pub const ITEM_OVERHEAD_BYTES: usize = 160;

/// An upper bound on `text`'s length as a JSON string: quotes, and six bytes for every byte
/// that may need escaping (`\u00XX`).
pub fn json_str_len(text: &str) -> usize {
    text.len() + 2 + escapable(text.as_bytes()) * 5
}

/// Whether `b` may need escaping in a JSON string: a control character, `"`, `\` or DEL.
fn is_escapable(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\' || b == 0x7f
}

/// How many bytes of `bytes` may need escaping. Eight bytes are tested at a time (names and
/// stamps rarely have any, and a page's strings are scanned twice: for its size bound and as
/// they are written), each byte only in a word that has one.
pub fn escapable(bytes: &[u8]) -> usize {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    // Whether a byte of `x` is below `n` (n <= 128), or is zero: exact as a yes/no.
    let below = |x: u64, n: u8| x.wrapping_sub(ONES * u64::from(n)) & !x & HIGHS;
    let zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
    let any = |x: u64| {
        below(x, 0x20)
            | zero(x ^ (ONES * u64::from(b'"')))
            | zero(x ^ (ONES * u64::from(b'\\')))
            | zero(x ^ (ONES * 0x7f))
            != 0
    };
    let mut chunks = bytes.chunks_exact(8);
    let mut count = 0;
    for chunk in &mut chunks {
        let word = u64::from_ne_bytes(chunk.try_into().unwrap_or([0; 8]));
        if any(word) {
            count += chunk.iter().filter(|&&b| is_escapable(b)).count();
        }
    }
    count
        + chunks
            .remainder()
            .iter()
            .filter(|&&b| is_escapable(b))
            .count()
}

/// How many leading items fit under the bound (always at least one, so paging advances: one
/// DynamoDB item is at most 400 KB), given each item's size bound, and an upper bound on the
/// body's bytes with those items (its buffer's size).
pub fn fitting<T>(items: &[T], size: impl Fn(&T) -> usize) -> (usize, usize) {
    let budget = MAX_PAGE_BODY_BYTES - ENVELOPE_BYTES;
    let mut used = 0usize;
    for (i, item) in items.iter().enumerate() {
        // The item plus its comma.
        let with_item = used.saturating_add(size(item) + 1);
        if i > 0 && with_item > budget {
            return (i, used + ENVELOPE_BYTES);
        }
        used = with_item;
    }
    (items.len(), used.saturating_add(ENVELOPE_BYTES))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn string_bounds_cover_escapes() {
        for text in ["", "plain", "quote\"back\\slash", "\u{1}\n\t", "é ü"] {
            assert!(
                json_str_len(text) >= json!(text).to_string().len(),
                "{text:?}"
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn escapable_bytes_are_counted_exactly(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..80)) {
            let naive = bytes.iter().filter(|&&b| is_escapable(b)).count();
            proptest::prop_assert_eq!(escapable(&bytes), naive);
        }
    }

    #[test]
    fn small_pages_are_whole_and_large_ones_cut_under_the_bound() {
        let small: Vec<u32> = (0..500).collect();
        assert_eq!(fitting(&small, |_| 200), (500, 500 * 201 + ENVELOPE_BYTES));

        let big = "x".repeat(32 * 1024);
        let names: Vec<String> = (0..100).map(|_| big.clone()).collect();
        let size = |n: &String| json_str_len(n) + ITEM_OVERHEAD_BYTES;
        let (kept, bytes) = fitting(&names, size);
        assert!(bytes <= MAX_PAGE_BODY_BYTES);
        assert!(kept < names.len());
        let body = json!({ "tables": names[..kept], "lastKey": {"tableId": "x".repeat(64)} });
        assert!(serde_json::to_string(&body).unwrap().len() < MAX_PAGE_BODY_BYTES);
    }

    #[test]
    fn one_item_always_fits() {
        let huge = vec!["y".repeat(MAX_PAGE_BODY_BYTES)];
        assert_eq!(fitting(&huge, |n| json_str_len(n)).0, 1);
    }
}
