//! Bodies of `/notifications`.

use serde::Serialize;
use utoipa::ToSchema;

pub use super::domain::{Notification, NotificationActor, NotificationKind, NotificationPayload};

/// Newest first, with the caller's unread count (over all pages).
#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationPage {
    pub items: Vec<Notification>,
    pub next_cursor: Option<String>,
    pub unread_count: u64,
}
