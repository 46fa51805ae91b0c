//! Errors in a stack file, pointing at `file:line:col` with a hint that says what to write.
//!
//! People edit the stack file by hand; an error that only says "invalid type" sends them
//! searching. Every error here carries the location (from toml's spans) and, where we can
//! guess it, the fix: the valid keys, the closest one, or the allowed values.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// One problem in a stack file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackError {
    pub path: PathBuf,
    /// 1-based line and column, when the problem has a place in the file.
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
    pub hint: Option<String>,
}

impl StackError {
    /// An error at `span` (byte offsets into `source`).
    pub fn at(
        path: &Path,
        source: &str,
        span: Option<Range<usize>>,
        message: impl Into<String>,
        hint: Option<String>,
    ) -> Self {
        let (line, column) = match span {
            Some(span) => {
                let (line, column) = line_col(source, span.start);
                (Some(line), Some(column))
            }
            None => (None, None),
        };
        Self {
            path: path.to_path_buf(),
            line,
            column,
            message: message.into(),
            hint,
        }
    }

    /// An error about the file as a whole (unreadable, unknown environment).
    pub fn whole_file(path: &Path, message: impl Into<String>, hint: Option<String>) -> Self {
        Self {
            path: path.to_path_buf(),
            line: None,
            column: None,
            message: message.into(),
            hint,
        }
    }
}

impl fmt::Display for StackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let (Some(line), Some(column)) = (self.line, self.column) {
            write!(f, ":{line}:{column}")?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for StackError {}

/// 1-based line and column (in characters) of byte `offset` in `source`.
pub fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(source.len());
    let before = source.get(..offset).unwrap_or(source);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (line, column)
}

/// The hint for serde's "unknown field `x`, expected one of `a`, `b`" and "unknown variant"
/// messages: the closest valid name, then all of them.
pub fn hint_for_unknown(message: &str) -> Option<String> {
    let (kind, rest) = if let Some(rest) = message.strip_prefix("unknown field ") {
        ("key", rest)
    } else if let Some(rest) = message.strip_prefix("unknown variant ") {
        ("value", rest)
    } else {
        return None;
    };
    let given = rest.split('`').nth(1)?;
    let expected_part = rest.split_once("expected ")?.1;
    let valid: Vec<&str> = expected_part
        .split('`')
        .enumerate()
        .filter(|(i, _)| i % 2 == 1)
        .map(|(_, name)| name)
        .collect();
    if valid.is_empty() {
        return Some(format!(
            "this {kind} takes no entries here: remove `{given}`"
        ));
    }
    let closest = valid
        .iter()
        .map(|name| (strsim::jaro_winkler(given, name), *name))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, name)| name);
    let list = valid
        .iter()
        .map(|name| format!("`{name}`"))
        .collect::<Vec<_>>()
        .join(", ");
    Some(match closest {
        Some(name) => format!("did you mean `{name}`? valid {kind}s here: {list}"),
        None => format!("valid {kind}s here: {list}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_from_one() {
        let text = "a = 1\nbb = 2\n";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 6), (2, 1));
        assert_eq!(line_col(text, 8), (2, 3));
    }

    #[test]
    fn unknown_field_hint_suggests_closest_key() {
        let hint = hint_for_unknown(
            "unknown field `memroy_mb`, expected one of `memory_mb`, `timeout_seconds`",
        )
        .unwrap();
        assert!(hint.starts_with("did you mean `memory_mb`?"), "{hint}");
        assert!(hint.contains("`timeout_seconds`"), "{hint}");
    }

    #[test]
    fn unknown_variant_hint_lists_values() {
        let hint = hint_for_unknown("unknown variant `arm`, expected `arm64` or `x86_64`").unwrap();
        assert!(
            hint.contains("`arm64`") && hint.contains("`x86_64`"),
            "{hint}"
        );
    }
}
