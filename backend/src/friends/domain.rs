//! Friends' rules as values: how I stand with another user, the note of a request, the
//! search prefix, and the limits.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{AppError, ErrorCode};

/// Longest note on a friend request, in characters.
pub const MAX_NOTE: usize = 200;
/// Friend requests one user may have waiting for an answer.
pub const MAX_PENDING_OUT: u64 = 100;
/// Friends per user.
pub const MAX_FRIENDS: u64 = 2_000;
/// Longest search prefix, in characters.
pub const MAX_QUERY: usize = 32;

/// How the caller stands with another user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Relationship {
    None,
    Friend,
    /// The caller asked them and they have not answered.
    RequestSent,
    /// They asked the caller.
    RequestReceived,
    /// The caller blocks them.
    BlockedByMe,
}

/// A request's note: at most 200 characters after trimming; line breaks become spaces,
/// other control characters are refused.
pub fn note(raw: Option<&str>) -> Result<String, AppError> {
    let s = raw.unwrap_or_default().replace(['\r', '\n', '\t'], " ");
    let s = s.trim();
    if s.chars().count() > MAX_NOTE {
        return Err(AppError::validation(
            "note",
            format!("note must be at most {MAX_NOTE} characters"),
        ));
    }
    if s.chars().any(char::is_control) {
        return Err(AppError::validation(
            "note",
            "note must not contain control characters",
        ));
    }
    Ok(s.to_owned())
}

/// The search text as a `LIKE` prefix pattern (`ESCAPE '\'`), lower-cased (usernames are
/// stored lower-case): 1 to 32 characters after trimming.
pub fn search_prefix(q: &str) -> Result<String, AppError> {
    let q = q.trim();
    let n = q.chars().count();
    if n == 0 || n > MAX_QUERY || q.chars().any(char::is_control) {
        return Err(AppError::new(
            ErrorCode::InvalidQuery,
            format!("q must be 1 to {MAX_QUERY} characters"),
        )
        .with_field("q"));
    }
    Ok(escape_prefix(&q.to_lowercase()))
}

/// The same prefix as typed (not lower-cased), for nicknames on databases whose `LIKE`
/// is case-sensitive (PostgreSQL).
pub fn search_prefix_raw(q: &str) -> String {
    escape_prefix(q.trim())
}

/// `q%` with `%`, `_` and `\` escaped.
fn escape_prefix(q: &str) -> String {
    crate::db::escape_like(q) + "%"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes() {
        assert_eq!(note(None).expect("empty"), "");
        assert_eq!(note(Some("  hi\nthere ")).expect("ok"), "hi there");
        assert!(note(Some(&"长".repeat(200))).is_ok());
        assert!(note(Some(&"长".repeat(201))).is_err());
        assert!(note(Some("a\u{7}b")).is_err());
    }

    #[test]
    fn prefixes_escape_wildcards() {
        assert_eq!(search_prefix(" Ab_%\\ ").expect("ok"), "ab\\_\\%\\\\%");
        assert_eq!(search_prefix("小明").expect("ok"), "小明%");
        assert!(search_prefix("  ").is_err());
        assert!(search_prefix(&"a".repeat(33)).is_err());
    }
}
