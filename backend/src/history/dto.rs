//! Bodies of `/me/history` and `/me/watchlist`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::catalog::MovieSummary;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProgressRequest {
    /// The player's position (ms). Send every few seconds while playing.
    #[schema(example = 61234, minimum = 0)]
    pub position_ms: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryEntry {
    pub movie: MovieSummary,
    pub position_ms: i64,
    /// Past 90 % of the movie.
    pub finished: bool,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryPage {
    pub items: Vec<HistoryEntry>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HistorySettings {
    /// While true, progress reports are accepted but not recorded.
    pub paused: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WatchlistEntry {
    pub movie: MovieSummary,
    pub added_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WatchlistPage {
    pub items: Vec<WatchlistEntry>,
    pub next_cursor: Option<String>,
}
