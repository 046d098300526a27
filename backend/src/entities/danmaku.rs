use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "danmaku")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub movie_id: i64,
    pub user_id: i64,
    /// Sent live in this watch room.
    pub room_id: Option<i64>,
    pub position_ms: i64,
    pub text: String,
    pub mode: crate::danmaku::dto::DanmakuMode,
    /// `#rrggbb`.
    pub color: String,
    pub client_id: Option<String>,
    pub deleted_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
