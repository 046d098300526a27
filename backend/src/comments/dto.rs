//! Request and response types of the comment endpoints.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A new comment, or a reply when `parent_id` is set.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCommentRequest {
    /// 1 to 2,000 characters of plain text (trimmed; never interpreted as HTML).
    #[schema(example = "结尾的反转太震撼了", min_length = 1, max_length = 2000)]
    pub body: String,
    /// Reply to this top-level comment of the same movie (replies are one level deep).
    pub parent_id: Option<i64>,
}

/// New text for one's own comment.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCommentRequest {
    /// 1 to 2,000 characters of plain text.
    #[schema(min_length = 1, max_length = 2000)]
    pub body: String,
}

/// Order of top-level comments.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CommentSort {
    /// Newest first.
    #[default]
    New,
    /// Likes balanced against age (`ln(1 + likes) + created_at / 12.5 h`), highest first.
    Hot,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListCommentsQuery {
    /// `new` (default) or `hot`.
    #[param(inline)]
    pub sort: Option<CommentSort>,
    /// `next_cursor` of the previous page. Only valid with the same sort.
    pub cursor: Option<String>,
    /// Page size, 1 to 100 (default 20).
    pub limit: Option<u64>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListRepliesQuery {
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1 to 100 (default 20).
    pub limit: Option<u64>,
}

/// Who wrote a comment.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommentAuthor {
    pub id: i64,
    /// Nickname or username; `已注销用户` for deleted accounts.
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CommentResponse {
    pub id: i64,
    pub movie_id: i64,
    /// The top-level comment this one replies to.
    pub parent_id: Option<i64>,
    pub author: CommentAuthor,
    /// Plain text; empty once the comment is deleted.
    pub body: String,
    pub like_count: i32,
    /// Replies, deleted ones included (they stay in the thread).
    pub reply_count: i32,
    /// Whether the caller likes it (always false for anonymous callers).
    pub liked_by_me: bool,
    /// The author changed the text after posting.
    pub edited: bool,
    /// Deleted by its author or an administrator: kept as a placeholder so that replies
    /// keep their thread.
    pub deleted: bool,
    pub created_at: DateTime<Utc>,
    pub edited_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CommentPage {
    pub items: Vec<CommentResponse>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// The caller's like on a comment after the change.
#[derive(Debug, Serialize, ToSchema)]
pub struct LikeResponse {
    pub liked: bool,
    pub like_count: i32,
}
