//! Request and response types of the rating endpoints.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The caller's score for a movie.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RateRequest {
    /// 1 to 10.
    #[schema(example = 8, minimum = 1, maximum = 10)]
    pub score: i32,
}

/// A movie's ratings after the change.
#[derive(Debug, Serialize, ToSchema)]
pub struct MovieRatingStats {
    /// Plain mean of all scores (0 without ratings).
    pub rating_avg: f64,
    pub rating_count: i32,
    /// Damped (Bayesian) mean `(10 * 6.0 + sum) / (10 + count)`, which orders
    /// `GET /movies?sort=rating`.
    pub rating_score: f64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RatingResponse {
    pub movie_id: i64,
    /// The caller's score, 1 to 10.
    pub score: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub movie: MovieRatingStats,
}
