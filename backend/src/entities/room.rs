use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "rooms")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    pub visibility: crate::rooms::domain::Visibility,
    pub capacity: Option<i32>,
    pub control_mode: crate::rooms::domain::ControlMode,
    pub owner_id: i64,
    pub invite_code: String,
    pub movie_id: Option<i64>,
    pub slow_mode_secs: i32,
    /// The sequence number of the newest message.
    pub last_seq: i64,
    pub member_count: i32,
    #[sea_orm(column_type = "Text", nullable)]
    pub playback: Option<String>,
    pub playback_version: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
