//! Bodies and query parameters of `/movies` and `/genres`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MovieSort {
    /// Most recently added first.
    #[default]
    Newest,
    /// Most viewed first.
    Popular,
    /// Highest damped (Bayesian) rating first.
    Rating,
    /// By title, A to Z.
    Title,
}

pub use crate::catalog::MovieSummary;
pub use crate::catalog::domain::MovieStatus;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListMoviesQuery {
    /// Search in title, original title, synopsis and cast (case-insensitive substring).
    pub q: Option<String>,
    /// A genre slug from `GET /genres`.
    pub genre: Option<String>,
    pub tag: Option<String>,
    /// Earliest release year, inclusive.
    pub year_from: Option<i32>,
    /// Latest release year, inclusive.
    pub year_to: Option<i32>,
    #[param(inline)]
    pub sort: Option<MovieSort>,
    /// `next_cursor` of the previous page. Only valid with the same sort.
    pub cursor: Option<String>,
    /// Page size, 1 to 100 (default 20).
    pub limit: Option<u64>,
    /// Admins only: list movies in this status (default: all statuses for admins,
    /// only `ready` for everyone else).
    #[param(inline)]
    pub status: Option<MovieStatus>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MoviePage {
    pub items: Vec<MovieSummary>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SubtitleInfo {
    /// BCP 47 language tag, e.g. `zh-CN`.
    pub lang: String,
    pub label: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RenditionInfo {
    /// e.g. `720p`.
    pub name: String,
    pub width: i32,
    pub height: i32,
    /// Peak bits per second.
    pub bandwidth: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MovieDetail {
    #[serde(flatten)]
    pub summary: MovieSummary,
    pub synopsis: String,
    pub director: Option<String>,
    pub cast: Vec<String>,
    pub backdrop_url: Option<String>,
    /// A short muted-friendly clip for previews.
    pub preview_url: Option<String>,
    pub subtitles: Vec<SubtitleInfo>,
    pub renditions: Vec<RenditionInfo>,
    /// Why the last ingest failed (status `failed`).
    pub status_detail: Option<String>,
    /// Damped (Bayesian) mean of the scores, the one `sort=rating` orders by.
    pub rating_score: f64,
    /// Where the caller stopped watching (logged-in callers with history).
    pub resume_position_ms: Option<i64>,
    /// The caller's own score, 1 to 10 (logged-in callers who rated the movie).
    pub my_score: Option<i32>,
    /// Whether the movie is on the caller's watchlist (logged-in callers only).
    pub in_watchlist: Option<bool>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GenreResponse {
    #[schema(example = "sci_fi")]
    pub slug: String,
    #[schema(example = "科幻")]
    pub name_zh: String,
    #[schema(example = "Science Fiction")]
    pub name_en: String,
}

/// Metadata of a new movie. Its media comes from `luojia ingest --movie-id`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateMovieRequest {
    /// 1 to 200 characters.
    #[schema(example = "流浪地球", min_length = 1, max_length = 200)]
    pub title: String,
    #[schema(example = "The Wandering Earth")]
    pub original_title: Option<String>,
    /// 1888 to next year.
    pub year: Option<i32>,
    /// At most 5000 characters.
    #[serde(default)]
    #[schema(max_length = 5000)]
    pub synopsis: String,
    pub director: Option<String>,
    /// Up to 50 names.
    #[serde(default)]
    pub cast: Vec<String>,
    /// Genre slugs.
    #[serde(default)]
    pub genres: Vec<String>,
    /// Up to 20 tags of 1 to 32 characters.
    #[serde(default)]
    pub tags: Vec<String>,
    pub duration_ms: Option<i64>,
}

/// Fields left out stay as they are.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMovieRequest {
    pub title: Option<String>,
    pub original_title: Option<String>,
    pub year: Option<i32>,
    pub synopsis: Option<String>,
    pub director: Option<String>,
    pub cast: Option<Vec<String>>,
    pub genres: Option<Vec<String>>,
    pub tags: Option<Vec<String>>,
}

/// Permission to stream one movie for a while.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlaybackGrant {
    /// HLS master playlist; every URL inside it is relative and carries the grant.
    #[schema(example = "/hls/7.1795400000.Zm9v/42/master.m3u8")]
    pub master_url: String,
    /// WebVTT index of the seek-preview sprite.
    pub thumbnails_url: String,
    pub expires_at: DateTime<Utc>,
    pub subtitles: Vec<SubtitleInfo>,
}
