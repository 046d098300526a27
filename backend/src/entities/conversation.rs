use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "conversations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub kind: crate::conversations::domain::ConversationKind,
    /// `"<smaller id>:<larger id>"` for a direct conversation (one per pair).
    pub direct_key: Option<String>,
    pub name: Option<String>,
    pub avatar_url: Option<String>,
    pub owner_id: Option<i64>,
    pub invite_code: Option<String>,
    pub last_seq: i64,
    pub member_count: i32,
    pub last_activity_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
