//! A movie in a list: its summary, with genres and tags read for many movies at once.

use std::collections::HashMap;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde::Serialize;
use utoipa::ToSchema;

use super::domain::MovieStatus;
use crate::entities::{genre, movie, movie_genre, movie_tag};
use crate::error::AppResult;
use crate::media::layout::public_url;

#[derive(Debug, Serialize, ToSchema)]
pub struct MovieSummary {
    pub id: i64,
    pub title: String,
    pub original_title: Option<String>,
    pub year: Option<i32>,
    /// Genre slugs.
    pub genres: Vec<String>,
    pub tags: Vec<String>,
    pub duration_ms: Option<i64>,
    pub poster_url: Option<String>,
    pub rating_avg: f64,
    pub rating_count: i32,
    pub view_count: i64,
    pub status: MovieStatus,
}

/// Genre slugs and tags for many movies in two queries.
async fn labels(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> AppResult<(HashMap<i64, Vec<String>>, HashMap<i64, Vec<String>>)> {
    let genres: HashMap<i32, String> = genre::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|g| (g.id, g.slug))
        .collect();
    let mut by_movie: HashMap<i64, Vec<String>> = HashMap::new();
    for mg in movie_genre::Entity::find()
        .filter(movie_genre::Column::MovieId.is_in(ids.iter().copied()))
        .all(db)
        .await?
    {
        if let Some(slug) = genres.get(&mg.genre_id) {
            by_movie.entry(mg.movie_id).or_default().push(slug.clone());
        }
    }
    let mut tags: HashMap<i64, Vec<String>> = HashMap::new();
    for t in movie_tag::Entity::find()
        .filter(movie_tag::Column::MovieId.is_in(ids.iter().copied()))
        .all(db)
        .await?
    {
        tags.entry(t.movie_id).or_default().push(t.tag);
    }
    for v in by_movie.values_mut().chain(tags.values_mut()) {
        v.sort();
    }
    Ok((by_movie, tags))
}

fn summary(m: &movie::Model, genres: Vec<String>, tags: Vec<String>) -> MovieSummary {
    MovieSummary {
        id: m.id,
        title: m.title.clone(),
        original_title: m.original_title.clone(),
        year: m.year,
        genres,
        tags,
        duration_ms: m.duration_ms,
        poster_url: public_url(m.id, m.poster_path.as_deref()),
        rating_avg: m.rating_avg,
        rating_count: m.rating_count,
        view_count: m.view_count,
        status: m.status,
    }
}

pub async fn summaries_of(
    db: &impl ConnectionTrait,
    rows: Vec<movie::Model>,
) -> AppResult<Vec<MovieSummary>> {
    let ids: Vec<i64> = rows.iter().map(|m| m.id).collect();
    let (mut genres, mut tags) = labels(db, &ids).await?;
    Ok(rows
        .iter()
        .map(|m| {
            summary(
                m,
                genres.remove(&m.id).unwrap_or_default(),
                tags.remove(&m.id).unwrap_or_default(),
            )
        })
        .collect())
}
