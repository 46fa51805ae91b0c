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
    let escaped = text
        .bytes()
        .filter(|&b| b < 0x20 || b == b'"' || b == b'\\' || b == 0x7f)
        .count();
    text.len() + 2 + escaped * 5
}

/// How many leading items fit under the bound (always at least one, so paging advances: one
/// DynamoDB item is at most 400 KB), given each item's size bound.
pub fn fitting<T>(items: &[T], size: impl Fn(&T) -> usize) -> usize {
    let budget = MAX_PAGE_BODY_BYTES - ENVELOPE_BYTES;
    let mut used = 0usize;
    for (i, item) in items.iter().enumerate() {
        // The item plus its comma.
        used = used.saturating_add(size(item) + 1);
        if i > 0 && used > budget {
            return i;
        }
    }
    items.len()
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

    #[test]
    fn small_pages_are_whole_and_large_ones_cut_under_the_bound() {
        let small: Vec<u32> = (0..500).collect();
        assert_eq!(fitting(&small, |_| 200), 500);

        let big = "x".repeat(32 * 1024);
        let names: Vec<String> = (0..100).map(|_| big.clone()).collect();
        let size = |n: &String| json_str_len(n) + ITEM_OVERHEAD_BYTES;
        let kept = fitting(&names, size);
        assert!(kept < names.len());
        let body = json!({ "tables": names[..kept], "lastKey": {"tableId": "x".repeat(64)} });
        assert!(serde_json::to_string(&body).unwrap().len() < MAX_PAGE_BODY_BYTES);
    }

    #[test]
    fn one_item_always_fits() {
        let huge = vec!["y".repeat(MAX_PAGE_BODY_BYTES)];
        assert_eq!(fitting(&huge, |n| json_str_len(n)), 1);
    }
}
