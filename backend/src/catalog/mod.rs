//! The movie as every feature sees it: is it playable ([`find_ready`]), its summary in a
//! list ([`MovieSummary`], [`summaries_of`]), its duration ([`MovieDurations`]) and its
//! stored enums. The `movies` feature (browsing, the detail page, admin edits) is built
//! on it, and so are comments, ratings, danmaku, history, rooms and ingest; keeping these
//! reads below `movies` is what lets the detail page compose the caller's score and
//! resume position without a cycle between features.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::entities::movie;
use crate::error::{AppError, AppResult};

pub mod domain;
mod durations;
mod summary;

pub use domain::{AssetKind, MovieStatus};
pub use durations::MovieDurations;
pub use summary::{MovieSummary, summaries_of};

/// A playable (`ready`) movie, or 404: what comments, ratings, danmaku, history and
/// rooms act on.
pub async fn find_ready(db: &impl ConnectionTrait, id: i64) -> AppResult<movie::Model> {
    movie::Entity::find_by_id(id)
        .filter(movie::Column::Status.eq(MovieStatus::Ready))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("movie"))
}
