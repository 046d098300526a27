//! Comment rules: body validation, the `hot` rank and the opaque page cursor.
//!
//! Hot rank: `hot_score = ln(1 + likes) + created_at_secs / 45_000`. It depends only on the
//! like count and the creation time, never on "now", so it can be stored, indexed and
//! used as a keyset column (`(hot_score desc, id desc)`). Each e-fold of likes (×2.72) is
//! worth 45,000 s = 12.5 hours of freshness: a comment with 0 likes posted 12.5 h after
//! one with 1.72 likes ranks level with it (Reddit's formula, natural log instead of log10).

use chrono::{DateTime, Utc};

use crate::error::AppError;

/// Seconds of age that one e-fold of likes makes up for (12.5 hours).
pub const SECONDS_PER_E_FOLD: f64 = 45_000.0;

/// Longest comment body, in characters.
pub const MAX_BODY: usize = 2_000;

/// The stored `hot` rank of a comment; see the module docs.
pub fn hot_score(like_count: i32, created_at: DateTime<Utc>) -> f64 {
    let likes = f64::from(like_count.max(0));
    likes.ln_1p() + created_at.timestamp() as f64 / SECONDS_PER_E_FOLD
}

/// A comment body: 1 to 2,000 characters of plain text after trimming; line breaks and
/// tabs are kept, other control characters are refused. Stored and returned verbatim
/// (clients must render it as text, never as HTML).
pub fn body(raw: &str) -> Result<String, AppError> {
    // Line breaks are stored as LF, whichever way the client wrote them.
    let s = raw.replace("\r\n", "\n").replace('\r', "\n");
    let s = s.trim();
    let n = s.chars().count();
    if n == 0 || n > MAX_BODY {
        return Err(AppError::validation(
            "body",
            format!("body must be 1 to {MAX_BODY} characters"),
        ));
    }
    if s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(AppError::validation(
            "body",
            "body must not contain control characters",
        ));
    }
    Ok(s.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(secs, 0).single().expect("valid time")
    }

    #[test]
    fn hot_score_rewards_likes_and_freshness() {
        let t = at(1_800_000_000);
        assert!(hot_score(1, t) > hot_score(0, t));
        assert!(hot_score(100, t) > hot_score(10, t));
        assert!(hot_score(0, at(1_800_000_001)) > hot_score(0, t));
        // One e-fold of likes is worth 12.5 hours.
        let e_minus_one_likes = std::f64::consts::E - 1.0;
        let older = e_minus_one_likes.ln_1p() + t.timestamp() as f64 / SECONDS_PER_E_FOLD;
        let newer = hot_score(0, at(1_800_000_000 + 45_000));
        assert!((older - newer).abs() < 1e-9);
        // Diminishing returns: the 100th like moves a comment less than the 1st.
        assert!(hot_score(1, t) - hot_score(0, t) > hot_score(100, t) - hot_score(99, t));
        // Negative counts (never stored) do not produce NaN.
        assert!(hot_score(-1, t).is_finite());
    }

    #[test]
    fn bodies() {
        assert!(body("").is_err());
        assert!(body("  \n ").is_err());
        assert!(body(&"字".repeat(2_001)).is_err());
        assert_eq!(
            body(&"字".repeat(2_000)).expect("ok").chars().count(),
            2_000
        );
        assert_eq!(body(" a\r\nb\t ").expect("ok"), "a\nb");
        assert_eq!(body("<b>hi</b>").expect("ok"), "<b>hi</b>");
        assert!(body("a\u{0}b").is_err());
    }
}
