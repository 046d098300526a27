use sea_orm::entity::prelude::*;

/// One file an ingest produced, relative to the movie's media folder.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "media_assets")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub movie_id: i64,
    pub kind: crate::catalog::AssetKind,
    pub path: String,
    /// Rendition name (`720p`) or subtitle label (`简体中文`).
    pub name: Option<String>,
    pub lang: Option<String>,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub bandwidth: Option<i64>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
