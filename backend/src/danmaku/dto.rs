//! Bodies of `/movies/{id}/danmaku` and `/danmaku/{id}`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

crate::db::stored_enum! {
    /// How a danmaku moves over the video. Stored as its name in `danmaku.mode` (a sea-orm
    /// string enum: the same on every database).
    #[derive(Default)]
    pub enum DanmakuMode {
        /// Flies across the screen right to left.
        #[default]
        Scroll,
        /// Pinned at the top.
        Top,
        /// Pinned at the bottom.
        Bottom,
    }
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateDanmakuRequest {
    /// Where in the movie (ms).
    #[schema(example = 61234, minimum = 0)]
    pub position_ms: i64,
    /// 1 to 100 characters, shown as plain text.
    #[schema(example = "前方高能", min_length = 1, max_length = 100)]
    pub text: String,
    #[serde(default)]
    pub mode: DanmakuMode,
    /// `#rrggbb`, default white.
    #[schema(example = "#ffcc00", pattern = r"^ *#[0-9A-Fa-f]{6} *$")]
    pub color: Option<String>,
    /// Makes the send idempotent (a retry returns the first one).
    #[schema(min_length = 1, max_length = 64)]
    pub client_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ToSchema)]
pub struct DanmakuResponse {
    pub id: i64,
    pub movie_id: i64,
    pub user_id: i64,
    /// The watch room it was sent in live, if any.
    pub room_id: Option<i64>,
    pub position_ms: i64,
    pub text: String,
    pub mode: DanmakuMode,
    pub color: String,
    pub client_id: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct WindowQuery {
    /// Window start (ms, inclusive).
    #[param(minimum = 0)]
    pub from_ms: i64,
    /// Window end (ms, exclusive); at most 6 minutes after `from_ms`.
    #[param(minimum = 1)]
    pub to_ms: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DanmakuWindow {
    /// By position.
    pub items: Vec<DanmakuResponse>,
    /// More than the cap (1000) were sent in this window; the densest are thinned.
    pub truncated: bool,
}
