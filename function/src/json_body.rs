//! Writing a JSON body byte by byte, as `serde_json` would write it: strings escaped only when
//! a byte needs it, whole numbers in decimal, through a small stage that spares the body's
//! `Vec` a call per piece. `responses` writes the API's shapes with it.

use serde::Serialize;

/// Whether `serde_json` escapes `b` in a JSON string: a control character, `"` or `\` (not
/// DEL, which it writes as it is).
fn is_escapable(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\'
}

/// Whether any byte of `bytes` may need escaping. Every string of a page is tested as it is
/// written (names and stamps rarely need it), so eight bytes are tested at a time, a string's
/// last eight as one word too (overlapping the one before: a yes or no does not mind), and only
/// a string shorter than a word byte by byte. Inlined into the writer of strings: the call
/// cost each string about 17 instructions.
#[inline(always)]
fn needs_escaping(bytes: &[u8]) -> bool {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    // Whether a byte of `x` is below `n` (n <= 128), or is zero: exact as a yes/no.
    let below = |x: u64, n: u8| x.wrapping_sub(ONES * u64::from(n)) & !x & HIGHS;
    let zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
    let any = |word: &[u8]| {
        let x = u64::from_ne_bytes(word.try_into().unwrap_or([0; 8]));
        below(x, 0x20) | zero(x ^ (ONES * u64::from(b'"'))) | zero(x ^ (ONES * u64::from(b'\\')))
            != 0
    };
    let Some(last) = bytes.len().checked_sub(8) else {
        return bytes.iter().any(|&b| is_escapable(b));
    };
    bytes.chunks_exact(8).any(any) || any(&bytes[last..])
}

/// A JSON body being written. Bytes are staged in a small array, where a literal is copied by
/// a few moves and a string by one `memcpy`, and the body's `Vec` is extended once the stage
/// is full: `Vec::extend_from_slice`, which the Lambda profile (opt-level "s") does not inline,
/// cost about 40 instructions a call, ten calls a playground. (A buffer zeroed beforehand to
/// write into would do as well but for the zeroing: `memset` clears a page's 11 KB with
/// `rep stosb`, an instruction a byte as callgrind counts them.)
pub(crate) struct Body {
    out: Vec<u8>,
    stage: [u8; STAGE_BYTES],
    staged: usize,
}

/// The stage's size: about six playgrounds with short strings. A longer piece goes to the body
/// directly. (From 2 KB, `memset` would clear it with `rep stosb`.)
pub(crate) const STAGE_BYTES: usize = 1024;

/// 10 to the power of 1 to 19: a `u64` of `n` digits is below the `n`-th and at least the one
/// before.
const POWERS_OF_TEN: [u64; 19] = {
    let mut powers = [10u64; 19];
    let mut i = 1;
    while i < powers.len() {
        powers[i] = powers[i - 1] * 10;
        i += 1;
    }
    powers
};

impl Body {
    pub(crate) fn with_capacity(bytes: usize) -> Self {
        Self {
            out: Vec::with_capacity(bytes),
            stage: [0; STAGE_BYTES],
            staged: 0,
        }
    }

    /// The bytes written so far, staged ones included.
    pub(crate) fn len(&self) -> usize {
        self.out.len() + self.staged
    }

    /// Moves the staged bytes to the body.
    fn flush(&mut self) {
        self.out.extend_from_slice(&self.stage[..self.staged]);
        self.staged = 0;
    }

    /// Takes back every byte written after the first `len`.
    pub(crate) fn cut(&mut self, len: usize) {
        match len.checked_sub(self.out.len()) {
            Some(staged) => self.staged = staged,
            None => {
                self.out.truncate(len);
                self.staged = 0;
            }
        }
    }

    /// JSON text that needs no escaping (punctuation and field names). Inlined, so that a
    /// literal is copied as the constant it is, with no call to `memcpy`.
    #[inline(always)]
    pub(crate) fn raw(&mut self, text: &str) {
        self.bytes(text.as_bytes());
    }

    /// Bytes of JSON, copied as they are: staged when they fit.
    #[inline(always)]
    pub(crate) fn bytes(&mut self, bytes: &[u8]) {
        let end = self.staged + bytes.len();
        if let Some(room) = self.stage.get_mut(self.staged..end) {
            room.copy_from_slice(bytes);
            self.staged = end;
        } else {
            self.spill(bytes);
        }
    }

    /// Bytes that do not fit what is left of the stage: after the staged bytes, to the body,
    /// or staged anew when they fit an empty stage.
    #[cold]
    fn spill(&mut self, bytes: &[u8]) {
        self.flush();
        match self.stage.get_mut(..bytes.len()) {
            Some(room) => {
                room.copy_from_slice(bytes);
                self.staged = bytes.len();
            }
            None => self.out.extend_from_slice(bytes),
        }
    }

    /// `text` as a JSON string, escaped as `serde_json` escapes it. Inlined: a page writes 150
    /// of them, and a call's entry and exit cost each one some 15 instructions.
    #[inline(always)]
    pub(crate) fn string(&mut self, text: &str) {
        let bytes = text.as_bytes();
        if needs_escaping(bytes) {
            self.escaped(text);
            return;
        }
        let end = self.staged + bytes.len() + 2;
        if let Some(room) = self.stage.get_mut(self.staged..end) {
            room[0] = b'"';
            room[1..=bytes.len()].copy_from_slice(bytes);
            room[bytes.len() + 1] = b'"';
            self.staged = end;
        } else {
            self.raw("\"");
            self.bytes(bytes);
            self.raw("\"");
        }
    }

    /// `text` escaped by `serde_json`, after the staged bytes.
    #[cold]
    fn escaped(&mut self, text: &str) {
        self.serialized(text);
    }

    /// `value` as `serde_json` writes it, after the staged bytes (a page's `lastKey`).
    pub(crate) fn serialized<T: Serialize + ?Sized>(&mut self, value: &T) {
        self.flush();
        // Writing JSON of strings and maps into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut self.out, value);
    }

    /// A whole number, in decimal, written digit by digit from the last, straight into the
    /// stage when it has room (a copy through an array cost each number some 30 instructions).
    pub(crate) fn number(&mut self, value: u64) {
        let digits = 1 + POWERS_OF_TEN.iter().take_while(|&&p| value >= p).count();
        let end = self.staged + digits;
        let fill = |room: &mut [u8]| {
            let mut rest = value;
            for digit in room.iter_mut().rev() {
                *digit = b'0' + (rest % 10) as u8;
                rest /= 10;
            }
        };
        if let Some(room) = self.stage.get_mut(self.staged..end) {
            fill(room);
            self.staged = end;
        } else {
            let mut text = [0u8; 20];
            fill(&mut text[..digits]);
            self.spill(&text[..digits]);
        }
    }

    /// The JSON written.
    pub(crate) fn into_bytes(mut self) -> Vec<u8> {
        self.flush();
        self.out
    }
}

/// What `write` writes into a new body, as text (for the tests of the writer and of the
/// shapes written with it).
#[cfg(test)]
pub(crate) fn written(write: impl FnOnce(&mut Body)) -> String {
    let mut body = Body::with_capacity(0);
    write(&mut body);
    String::from_utf8(body.into_bytes()).unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn escapable_bytes_are_found_wherever_they_are(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
            prop_assert_eq!(needs_escaping(&bytes), bytes.iter().any(|&b| is_escapable(b)));
        }
    }

    #[test]
    fn control_characters_quotes_and_backslashes_are_escaped_and_del_is_not() {
        for text in ["a\u{7f}b", "\u{1}", "q\"b\\", "tab\there\u{7f}", "plain é"] {
            let expected = serde_json::to_string(text).unwrap();
            assert_eq!(written(|b| b.string(text)), expected, "{text:?}");
        }
    }

    #[test]
    fn bytes_are_taken_back_from_the_stage_or_the_body() {
        let mut staged = Body::with_capacity(0);
        staged.raw("abc");
        let start = staged.len();
        staged.raw("def");
        staged.cut(start);
        assert_eq!(staged.into_bytes(), b"abc");

        let mut spilled = Body::with_capacity(0);
        spilled.raw("abc");
        let start = spilled.len();
        spilled.bytes(&[b'x'; STAGE_BYTES + 1]);
        spilled.raw("def");
        spilled.cut(start);
        spilled.raw("!");
        assert_eq!(spilled.into_bytes(), b"abc!");
    }
}
