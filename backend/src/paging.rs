//! Shared page-size rule for every listing: 1 to 100 items.

use crate::error::{AppError, AppResult, ErrorCode};

pub const MAX_LIMIT: u64 = 100;

/// `raw` (or `default`) when it is 1 to 100, else `invalid_query` on `limit`.
pub fn limit(raw: Option<u64>, default: u64) -> AppResult<u64> {
    let l = raw.unwrap_or(default);
    if (1..=MAX_LIMIT).contains(&l) {
        Ok(l)
    } else {
        Err(AppError::new(ErrorCode::InvalidQuery, "limit must be 1 to 100").with_field("limit"))
    }
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
