//! Rating rules and the damped score that orders the catalog's `sort=rating`.
//!
//! `rating_score = (C * m + sum) / (C + n)`: the plain mean pulled toward a prior mean
//! `m = 6.0` as if every movie started with `C = 10` extra ratings of 6. One 10 gives
//! 6.36 while fifty 9s give 8.5, so a single enthusiast cannot top the chart, and the
//! score approaches the true mean as ratings accumulate. A fixed prior (rather than the
//! global mean) keeps one rating change a one-row update.

use crate::error::AppError;

/// Prior mean `m`.
pub const PRIOR_MEAN: f64 = 6.0;
/// Prior weight `C`, in ratings.
pub const PRIOR_WEIGHT: f64 = 10.0;

/// A score: 1 to 10.
pub fn score(raw: i32) -> Result<i32, AppError> {
    if (1..=10).contains(&raw) {
        Ok(raw)
    } else {
        Err(AppError::validation("score", "score must be 1 to 10"))
    }
}

/// Count, plain mean and damped score of `n` ratings summing to `sum`.
pub fn aggregate(n: i64, sum: i64) -> (i32, f64, f64) {
    let count = i32::try_from(n).unwrap_or(i32::MAX);
    let mean = if n > 0 { sum as f64 / n as f64 } else { 0.0 };
    (count, mean, damped(n, sum))
}

/// The Bayesian average; see the module docs.
pub fn damped(n: i64, sum: i64) -> f64 {
    (PRIOR_WEIGHT * PRIOR_MEAN + sum as f64) / (PRIOR_WEIGHT + n as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores() {
        assert!(score(0).is_err());
        assert!(score(11).is_err());
        assert_eq!(score(1).expect("ok"), 1);
        assert_eq!(score(10).expect("ok"), 10);
    }

    #[test]
    fn one_ten_ranks_below_fifty_nines() {
        assert!(damped(1, 10) < damped(50, 9 * 50));
        assert!((damped(1, 10) - 70.0 / 11.0).abs() < 1e-12);
        assert!((damped(50, 450) - 8.5).abs() < 1e-12);
    }

    #[test]
    fn no_ratings_is_the_prior_and_many_approach_the_mean() {
        assert_eq!(damped(0, 0), PRIOR_MEAN);
        assert!((damped(100_000, 900_000) - 9.0).abs() < 0.01);
        assert_eq!(aggregate(0, 0), (0, 0.0, PRIOR_MEAN));
        let (n, mean, _) = aggregate(3, 20);
        assert_eq!(n, 3);
        assert!((mean - 20.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn damped_lies_between_prior_and_mean() {
        for (n, sum) in [(1, 1), (5, 50), (20, 60), (7, 42)] {
            let mean = sum as f64 / n as f64;
            let d = damped(n, sum);
            assert!(d >= mean.min(PRIOR_MEAN) && d <= mean.max(PRIOR_MEAN));
        }
    }
}
