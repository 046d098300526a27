//! Catalog rules and queries: listing with search, filters, sorts and keyset pages;
//! admin create / update / delete; playback grants.

use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    Order, QueryFilter, QueryOrder, Set,
};

use super::domain::{self, like_pattern};
use super::dto::*;
use crate::auth::AuthUser;
use crate::catalog::{AssetKind, summaries_of};
use crate::config::Settings;
use crate::entities::{genre, media_asset, movie, movie_genre, movie_tag};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::media::grant::GrantSigner;
use crate::media::layout::public_url;
use crate::paging::{KeyKind, Keyset};

const DEFAULT_LIMIT: u64 = 20;

pub fn require_admin(user: &AuthUser) -> AppResult<()> {
    if user.is_admin() {
        Ok(())
    } else {
        Err(AppError::forbidden("only administrators may do this"))
    }
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
    db: &impl ConnectionTrait,
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
        let gid = genre_id(db, slug).await?;
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
    let page = pager.fetch(db, select).await?;
    let items = summaries_of(db, page.rows).await?;
    Ok(MoviePage {
        items,
        next_cursor: page.next_cursor,
    })
}

/// A movie the caller may see: admins see every status, others only `ready`.
pub async fn find_visible(
    db: &impl ConnectionTrait,
    caller: Option<&AuthUser>,
    id: i64,
) -> AppResult<movie::Model> {
    let m = movie::Entity::find_by_id(id)
        .one(db)
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
    db: &impl ConnectionTrait,
    caller: Option<&AuthUser>,
    id: i64,
) -> AppResult<MovieDetail> {
    let m = find_visible(db, caller, id).await?;
    detail_of(db, m).await
}

pub async fn detail_of(db: &impl ConnectionTrait, m: movie::Model) -> AppResult<MovieDetail> {
    let summary = summaries_of(db, vec![m.clone()])
        .await?
        .pop()
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("movie summary missing")))?;
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
        summary,
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

pub async fn genres(db: &impl ConnectionTrait) -> AppResult<Vec<GenreResponse>> {
    Ok(genre::Entity::find()
        .order_by_asc(genre::Column::Slug)
        .all(db)
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
pub async fn delete(db: &DatabaseConnection, settings: &Settings, id: i64) -> AppResult<()> {
    let txn = crate::db::begin_write(db).await?;
    let found = movie::Entity::find_by_id(id).one(&txn).await?;
    if found.is_none() {
        return Err(AppError::not_found("movie"));
    }
    delete_rows(&txn, id).await?;
    txn.commit().await?;
    crate::media::layout::remove(settings, id).await;
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

pub async fn playback(
    db: &impl ConnectionTrait,
    grants: &GrantSigner,
    user: &AuthUser,
    id: i64,
) -> AppResult<PlaybackGrant> {
    let m = find_visible(db, Some(user), id).await?;
    if m.status != MovieStatus::Ready {
        return Err(AppError::new(
            ErrorCode::Conflict,
            "this movie is not ready to play yet",
        ));
    }
    let now = Utc::now();
    let (token, expires_at) = grants.issue(user.id, id, now.timestamp());
    movie::Entity::update_many()
        .col_expr(
            movie::Column::ViewCount,
            Expr::col(movie::Column::ViewCount).add(1),
        )
        .filter(movie::Column::Id.eq(id))
        .exec(db)
        .await?;
    let base = format!("/hls/{token}/{id}");
    Ok(PlaybackGrant {
        master_url: format!("{base}/master.m3u8"),
        thumbnails_url: format!("{base}/thumbs/thumbs.vtt"),
        expires_at: chrono::DateTime::from_timestamp(expires_at, 0).unwrap_or(now),
        subtitles: subtitle_info(subtitles(db, id).await?),
    })
}
