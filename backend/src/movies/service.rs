//! Catalog rules and queries: listing with search, filters, sorts and keyset pages;
//! admin create / update / delete; playback grants.

use std::collections::HashMap;

use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    Order, QueryFilter, QueryOrder, Set,
};

use super::domain::{self, AssetKind, like_pattern};
use super::dto::*;
use crate::auth::AuthUser;
use crate::entities::{genre, media_asset, movie, movie_genre, movie_tag};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::paging::{KeyKind, Keyset};
use crate::state::AppState;

const DEFAULT_LIMIT: u64 = 20;

pub fn require_admin(user: &AuthUser) -> AppResult<()> {
    if user.is_admin() {
        Ok(())
    } else {
        Err(AppError::forbidden("only administrators may do this"))
    }
}

pub fn public_url(movie_id: i64, file: Option<&str>) -> Option<String> {
    file.map(|f| format!("/static/movies/{movie_id}/{f}"))
}

fn lower_like(col: movie::Column, pattern: &str) -> sea_orm::sea_query::SimpleExpr {
    Expr::expr(Func::lower(Expr::col((movie::Entity, col))))
        .like(LikeExpr::new(pattern).escape('\\'))
}

/// How a sort pages: its sort column and direction (the id breaks ties in the same
/// direction).
fn keyset(sort: MovieSort) -> Keyset<movie::Entity> {
    use movie::Column as C;
    let (listing, col, kind, order) = match sort {
        MovieSort::Newest => ("newest", C::CreatedAt, KeyKind::Time, Order::Desc),
        MovieSort::Popular => ("popular", C::ViewCount, KeyKind::Int, Order::Desc),
        MovieSort::Rating => ("rating", C::RatingScore, KeyKind::Float, Order::Desc),
        MovieSort::Title => ("title", C::Title, KeyKind::Text, Order::Asc),
    };
    Keyset::by_key(listing, col, kind, C::Id, order)
}

async fn genre_id(db: &impl ConnectionTrait, slug: &str) -> AppResult<i32> {
    genre::Entity::find()
        .filter(genre::Column::Slug.eq(slug))
        .one(db)
        .await?
        .map(|g| g.id)
        .ok_or_else(|| {
            AppError::new(
                ErrorCode::ValidationFailed,
                format!("unknown genre `{slug}`"),
            )
            .with_field("genre")
        })
}

pub async fn list(
    state: &AppState,
    caller: Option<&AuthUser>,
    q: ListMoviesQuery,
) -> AppResult<MoviePage> {
    let admin = caller.is_some_and(AuthUser::is_admin);
    let pager =
        keyset(q.sort.unwrap_or_default()).page(q.cursor.as_deref(), q.limit, DEFAULT_LIMIT)?;
    let mut select = movie::Entity::find();
    match (q.status, admin) {
        (Some(s), true) => select = select.filter(movie::Column::Status.eq(s)),
        (None, true) => {}
        (Some(MovieStatus::Ready) | None, false) => {
            select = select.filter(movie::Column::Status.eq(MovieStatus::Ready));
        }
        (Some(_), false) => {
            return Err(AppError::forbidden(
                "only administrators see unreleased movies",
            ));
        }
    }
    if let Some(text) = q.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        if text.chars().count() > 100 {
            return Err(
                AppError::new(ErrorCode::InvalidQuery, "q must be at most 100 characters")
                    .with_field("q"),
            );
        }
        let p = like_pattern(text);
        select = select.filter(
            Condition::any()
                .add(lower_like(movie::Column::Title, &p))
                .add(lower_like(movie::Column::OriginalTitle, &p))
                .add(lower_like(movie::Column::Synopsis, &p))
                .add(lower_like(movie::Column::CastMembers, &p)),
        );
    }
    if let Some(slug) = q.genre.as_deref() {
        let gid = genre_id(&state.db, slug).await?;
        select = select.filter(
            movie::Column::Id.in_subquery(
                Query::select()
                    .column(movie_genre::Column::MovieId)
                    .from(movie_genre::Entity)
                    .and_where(movie_genre::Column::GenreId.eq(gid))
                    .to_owned(),
            ),
        );
    }
    if let Some(tag) = q.tag.as_deref() {
        select = select.filter(
            movie::Column::Id.in_subquery(
                Query::select()
                    .column(movie_tag::Column::MovieId)
                    .from(movie_tag::Entity)
                    .and_where(movie_tag::Column::Tag.eq(tag.trim().to_lowercase()))
                    .to_owned(),
            ),
        );
    }
    if let Some(y) = q.year_from {
        select = select.filter(movie::Column::Year.gte(y));
    }
    if let Some(y) = q.year_to {
        select = select.filter(movie::Column::Year.lte(y));
    }
    let page = pager.fetch(&state.db, select).await?;
    let items = summaries_of(&state.db, page.rows).await?;
    Ok(MoviePage {
        items,
        next_cursor: page.next_cursor,
    })
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

/// A playable (`ready`) movie, or 404: what comments, ratings, danmaku, history and
/// rooms act on.
pub async fn find_ready(db: &impl ConnectionTrait, id: i64) -> AppResult<movie::Model> {
    movie::Entity::find_by_id(id)
        .filter(movie::Column::Status.eq(MovieStatus::Ready))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("movie"))
}

/// A movie the caller may see: admins see every status, others only `ready`.
pub async fn find_visible(
    state: &AppState,
    caller: Option<&AuthUser>,
    id: i64,
) -> AppResult<movie::Model> {
    let m = movie::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::not_found("movie"))?;
    if m.status != MovieStatus::Ready && !caller.is_some_and(AuthUser::is_admin) {
        return Err(AppError::not_found("movie"));
    }
    Ok(m)
}

async fn subtitles(db: &impl ConnectionTrait, movie_id: i64) -> AppResult<Vec<media_asset::Model>> {
    Ok(media_asset::Entity::find()
        .filter(media_asset::Column::MovieId.eq(movie_id))
        .filter(media_asset::Column::Kind.eq(AssetKind::Subtitle))
        .order_by_asc(media_asset::Column::Id)
        .all(db)
        .await?)
}

fn subtitle_info(assets: Vec<media_asset::Model>) -> Vec<SubtitleInfo> {
    assets
        .into_iter()
        .map(|a| SubtitleInfo {
            lang: a.lang.unwrap_or_default(),
            label: a.name.unwrap_or_default(),
        })
        .collect()
}

pub async fn detail(
    state: &AppState,
    caller: Option<&AuthUser>,
    id: i64,
) -> AppResult<MovieDetail> {
    let m = find_visible(state, caller, id).await?;
    detail_of(&state.db, m).await
}

pub async fn detail_of(db: &impl ConnectionTrait, m: movie::Model) -> AppResult<MovieDetail> {
    let (mut genres, mut tags) = labels(db, &[m.id]).await?;
    let renditions = media_asset::Entity::find()
        .filter(media_asset::Column::MovieId.eq(m.id))
        .filter(media_asset::Column::Kind.eq(AssetKind::Rendition))
        .order_by_asc(media_asset::Column::Height)
        .all(db)
        .await?
        .into_iter()
        .map(|a| RenditionInfo {
            name: a.name.unwrap_or_default(),
            width: a.width.unwrap_or_default(),
            height: a.height.unwrap_or_default(),
            bandwidth: a.bandwidth.unwrap_or_default(),
        })
        .collect();
    let subs = subtitle_info(subtitles(db, m.id).await?);
    Ok(MovieDetail {
        summary: summary(
            &m,
            genres.remove(&m.id).unwrap_or_default(),
            tags.remove(&m.id).unwrap_or_default(),
        ),
        synopsis: m.synopsis.clone(),
        director: m.director.clone(),
        cast: serde_json::from_str(&m.cast_members).unwrap_or_default(),
        backdrop_url: public_url(m.id, m.backdrop_path.as_deref()),
        preview_url: public_url(m.id, m.preview_path.as_deref()),
        subtitles: subs,
        renditions,
        status_detail: m.status_detail.clone(),
        rating_score: m.rating_score,
        resume_position_ms: None,
        my_score: None,
        in_watchlist: None,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

pub async fn genres(state: &AppState) -> AppResult<Vec<GenreResponse>> {
    Ok(genre::Entity::find()
        .order_by_asc(genre::Column::Slug)
        .all(&state.db)
        .await?
        .into_iter()
        .map(|g| GenreResponse {
            slug: g.slug,
            name_zh: g.name_zh,
            name_en: g.name_en,
        })
        .collect())
}

/// Replace the genres and tags of a movie.
async fn set_labels(
    db: &impl ConnectionTrait,
    movie_id: i64,
    genres: Option<&[String]>,
    tags: Option<&[String]>,
) -> AppResult<()> {
    if let Some(slugs) = genres {
        let mut ids = Vec::new();
        for slug in slugs {
            let id = genre_id(db, slug.trim())
                .await
                .map_err(|e| e.with_field("genres"))?;
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        movie_genre::Entity::delete_many()
            .filter(movie_genre::Column::MovieId.eq(movie_id))
            .exec(db)
            .await?;
        for genre_id in ids {
            movie_genre::ActiveModel {
                movie_id: Set(movie_id),
                genre_id: Set(genre_id),
            }
            .insert(db)
            .await?;
        }
    }
    if let Some(tags) = tags {
        let tags = domain::tags(tags)?;
        movie_tag::Entity::delete_many()
            .filter(movie_tag::Column::MovieId.eq(movie_id))
            .exec(db)
            .await?;
        for tag in tags {
            movie_tag::ActiveModel {
                movie_id: Set(movie_id),
                tag: Set(tag),
            }
            .insert(db)
            .await?;
        }
    }
    Ok(())
}

/// Create a movie (status `processing` until media is ingested for it).
pub async fn create(db: &DatabaseConnection, req: CreateMovieRequest) -> AppResult<movie::Model> {
    let title = domain::title(&req.title)?;
    let original_title = domain::optional("original_title", req.original_title.as_deref(), 200)?;
    let synopsis = domain::synopsis(&req.synopsis)?;
    let director = domain::optional("director", req.director.as_deref(), 200)?;
    let cast = domain::cast(&req.cast)?;
    let year = req.year.map(domain::year).transpose()?;
    if req.duration_ms.is_some_and(|d| d <= 0) {
        return Err(AppError::validation(
            "duration_ms",
            "duration_ms must be positive",
        ));
    }
    let tags = domain::tags(&req.tags)?;
    let now = Utc::now();
    let txn = crate::db::begin_write(db).await?;
    let m = movie::ActiveModel {
        title: Set(title),
        original_title: Set(original_title),
        year: Set(year),
        synopsis: Set(synopsis),
        director: Set(director),
        cast_members: Set(serde_json::to_string(&cast).unwrap_or_else(|_| "[]".into())),
        duration_ms: Set(req.duration_ms),
        status: Set(MovieStatus::Processing),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    set_labels(&txn, m.id, Some(&req.genres), Some(&tags)).await?;
    txn.commit().await?;
    Ok(m)
}

pub async fn update(
    db: &DatabaseConnection,
    id: i64,
    req: UpdateMovieRequest,
) -> AppResult<movie::Model> {
    let txn = crate::db::begin_write(db).await?;
    let current = movie::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("movie"))?;
    let mut row: movie::ActiveModel = current.into();
    if let Some(t) = &req.title {
        row.title = Set(domain::title(t)?);
    }
    if let Some(t) = &req.original_title {
        row.original_title = Set(domain::optional("original_title", Some(t), 200)?);
    }
    if let Some(y) = req.year {
        row.year = Set(Some(domain::year(y)?));
    }
    if let Some(s) = &req.synopsis {
        row.synopsis = Set(domain::synopsis(s)?);
    }
    if let Some(d) = &req.director {
        row.director = Set(domain::optional("director", Some(d), 200)?);
    }
    if let Some(c) = &req.cast {
        row.cast_members =
            Set(serde_json::to_string(&domain::cast(c)?).unwrap_or_else(|_| "[]".into()));
    }
    row.updated_at = Set(Utc::now());
    let m = row.update(&txn).await?;
    set_labels(&txn, id, req.genres.as_deref(), req.tags.as_deref()).await?;
    txn.commit().await?;
    Ok(m)
}

/// Delete a movie's rows (in one transaction), then its media and public files.
pub async fn delete(state: &AppState, id: i64) -> AppResult<()> {
    let txn = crate::db::begin_write(&state.db).await?;
    let found = movie::Entity::find_by_id(id).one(&txn).await?;
    if found.is_none() {
        return Err(AppError::not_found("movie"));
    }
    delete_rows(&txn, id).await?;
    txn.commit().await?;
    crate::ingest::remove_movie_files(&state.settings, id).await;
    Ok(())
}

/// Remove a movie and everything that points at it (explicitly, not trusting every
/// database to cascade).
pub async fn delete_rows(db: &impl ConnectionTrait, id: i64) -> AppResult<()> {
    media_asset::Entity::delete_many()
        .filter(media_asset::Column::MovieId.eq(id))
        .exec(db)
        .await?;
    movie_genre::Entity::delete_many()
        .filter(movie_genre::Column::MovieId.eq(id))
        .exec(db)
        .await?;
    movie_tag::Entity::delete_many()
        .filter(movie_tag::Column::MovieId.eq(id))
        .exec(db)
        .await?;
    movie::Entity::delete_by_id(id).exec(db).await?;
    Ok(())
}

pub async fn playback(state: &AppState, user: &AuthUser, id: i64) -> AppResult<PlaybackGrant> {
    let m = find_visible(state, Some(user), id).await?;
    if m.status != MovieStatus::Ready {
        return Err(AppError::new(
            ErrorCode::Conflict,
            "this movie is not ready to play yet",
        ));
    }
    let now = Utc::now();
    let (token, expires_at) = state.grants.issue(user.id, id, now.timestamp());
    movie::Entity::update_many()
        .col_expr(
            movie::Column::ViewCount,
            Expr::col(movie::Column::ViewCount).add(1),
        )
        .filter(movie::Column::Id.eq(id))
        .exec(&state.db)
        .await?;
    let base = format!("/hls/{token}/{id}");
    Ok(PlaybackGrant {
        master_url: format!("{base}/master.m3u8"),
        thumbnails_url: format!("{base}/thumbs/thumbs.vtt"),
        expires_at: chrono::DateTime::from_timestamp(expires_at, 0).unwrap_or(now),
        subtitles: subtitle_info(subtitles(&state.db, id).await?),
    })
}
