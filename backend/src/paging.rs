//! Shared page-size rule for every listing: 1 to 100 items.

use crate::error::{AppError, AppResult, ErrorCode};

pub const MAX_LIMIT: u64 = 100;
/// Longest cursor accepted (longer ones are forged).
pub const MAX_CURSOR: usize = 512;

/// `raw` (or `default`) when it is 1 to 100, else `invalid_query` on `limit`.
pub fn limit(raw: Option<u64>, default: u64) -> AppResult<u64> {
    let l = raw.unwrap_or(default);
    if (1..=MAX_LIMIT).contains(&l) {
        Ok(l)
    } else {
        Err(AppError::new(ErrorCode::InvalidQuery, "limit must be 1 to 100").with_field("limit"))
    }
}

/// Opaque page cursors: base64url of a small JSON value. Each listing decides what goes
/// in it (sort key and id); every listing shares the encoding and the error.
pub fn encode_cursor<T: serde::Serialize>(value: &T) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(serde_json::to_vec(value).unwrap_or_default())
}

pub fn decode_cursor<T: serde::de::DeserializeOwned>(raw: &str) -> AppResult<T> {
    use base64::Engine;
    if raw.len() > MAX_CURSOR {
        return Err(bad_cursor());
    }
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(raw)
        .map_err(|_| bad_cursor())?;
    // A forged cursor is text too: the same control-character rule as every other input.
    if crate::edge::json_has_control(&bytes) {
        return Err(bad_cursor());
    }
    serde_json::from_slice(&bytes).map_err(|_| bad_cursor())
}

pub fn bad_cursor() -> AppError {
    AppError::new(
        ErrorCode::InvalidQuery,
        "invalid cursor: start again from the first page",
    )
    .with_field("cursor")
}

#[cfg(test)]
mod tests {
    #[test]
    fn limits() {
        assert_eq!(super::limit(None, 20).expect("default"), 20);
        assert_eq!(super::limit(Some(100), 20).expect("max"), 100);
        assert!(super::limit(Some(0), 20).is_err());
        assert!(super::limit(Some(101), 20).is_err());
    }
}
