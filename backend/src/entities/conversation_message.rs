use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "conversation_messages")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub conversation_id: i64,
    pub seq: i64,
    pub sender_id: Option<i64>,
    pub client_id: Option<String>,
    pub kind: crate::conversations::domain::ConversationMessageKind,
    pub body: Option<String>,
    /// What the kind refers to, as JSON (`conversations::domain::Payload`).
    pub payload: Option<String>,
    pub recalled_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
