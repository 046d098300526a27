use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "movies")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub title: String,
    pub original_title: Option<String>,
    pub year: Option<i32>,
    #[sea_orm(column_type = "Text")]
    pub synopsis: String,
    pub director: Option<String>,
    /// JSON array of names.
    #[sea_orm(column_type = "Text")]
    pub cast_members: String,
    pub duration_ms: Option<i64>,
    pub poster_path: Option<String>,
    pub backdrop_path: Option<String>,
    pub preview_path: Option<String>,
    pub rating_avg: f64,
    pub rating_count: i32,
    pub rating_score: f64,
    pub view_count: i64,
    pub status: crate::catalog::MovieStatus,
    pub status_detail: Option<String>,
    pub source_fingerprint: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
