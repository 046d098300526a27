//! HTTP layer of `/media`, `/avatars`, `/me/avatar` and the stickers.

use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, post, put, web};
use futures_util::TryStreamExt;

use super::dto::*;
use super::service::{self, Opened};
use super::sign::Variant;
use super::stickers;
use crate::auth::AuthUser;
use crate::auth::dto::MeResponse;
use crate::error::{AppError, AppResult, Problem};
use crate::state::AppState;

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Upload a picture, voice note, avatar or sticker.
///
/// `multipart/form-data` with `purpose` (`image`, `voice`, `avatar`, `sticker`; or
/// `?purpose=`) and `file`. The file is checked by its content: pictures are JPEG, PNG,
/// WebP or GIF (up to 10 MB and 40 megapixels), decoded and re-encoded (metadata such as
/// GPS is gone), with a thumbnail; avatars are cropped square to 256 px; an animated GIF
/// keeps its frames; voice notes are WebM/Opus, Ogg/Opus or M4A/AAC up to 2 MB and 60 s
/// (measured). A refused file leaves nothing stored. The answer has signed URLs valid for
/// 10 minutes.
#[utoipa::path(
    tag = "uploads",
    security(("bearer" = [])),
    params(UploadQuery),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, body = UploadResponse),
        (status = 400, description = "`validation_failed` (`purpose` or `file` missing or wrong) or `invalid_body` (an unreadable form)", body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`payload_too_large`: over the byte cap of the purpose", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "`unsupported_media_type`: not a form, or the content is not an accepted format", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`image_too_large` (pixels, frames), `voice_too_long`, or `invalid_media` (the content is damaged)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`: too many uploads this hour (300 by default)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/media")]
pub async fn create_upload(
    state: web::Data<AppState>,
    user: AuthUser,
    query: web::Query<UploadQuery>,
    form: Multipart,
) -> AppResult<HttpResponse> {
    let per_hour = crate::ratelimit::Limit {
        max: state.uploads.settings.per_user_per_hour,
        window_secs: 3600,
    };
    state
        .limiter
        .hit("upload", &user.id.to_string(), per_hour)
        .await?;
    let received = super::receive::receive(&state.uploads, form, query.purpose).await?;
    let info = service::create(
        &state.db,
        &state.uploads,
        user.id,
        received.kind,
        received.path,
        received.bytes,
    )
    .await?;
    Ok(HttpResponse::Created().json(service::response(&info, &state.uploads.signer, now())))
}

/// The HTTP answer for an opened object.
fn stream(opened: Opened, cache: &str, partial: bool) -> HttpResponse {
    let range = opened.result.range.clone();
    let total = opened.result.meta.size;
    let mut res = if partial {
        HttpResponse::PartialContent()
    } else {
        HttpResponse::Ok()
    };
    res.insert_header((header::CONTENT_TYPE, opened.content_type))
        .insert_header((header::CACHE_CONTROL, cache.to_owned()))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CONTENT_DISPOSITION, "inline"))
        .insert_header((header::ACCEPT_RANGES, "bytes"))
        // Nothing served here runs: an SVG or a mislabelled file opened directly is inert.
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; sandbox",
        ))
        .no_chunking(range.end - range.start);
    if partial {
        res.insert_header((
            header::CONTENT_RANGE,
            format!(
                "bytes {}-{}/{total}",
                range.start,
                range.end.saturating_sub(1)
            ),
        ));
    }
    let body = opened
        .result
        .into_stream()
        .map_err(|e| actix_web::error::ErrorInternalServerError(e.to_string()));
    res.streaming(body)
}

async fn serve_signed(
    state: &AppState,
    req: &HttpRequest,
    id: i64,
    variant: Variant,
    query: SignedQuery,
) -> AppResult<HttpResponse> {
    let range = req
        .headers()
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .and_then(service::parse_range);
    let partial = range.is_some();
    let now = now();
    let opened = service::open_signed(
        &state.db,
        &state.uploads,
        id,
        variant,
        (query.exp, query.sig.as_deref()),
        range,
        now,
    )
    .await?;
    let left = query.exp.unwrap_or(now).saturating_sub(now).max(0);
    Ok(stream(opened, &format!("private, max-age={left}"), partial))
}

/// An upload's file, through a signed URL (no token: the signature is the permission).
#[utoipa::path(
    tag = "uploads",
    params(("id" = i64, Path, description = "Upload id"), SignedQuery),
    responses(
        (status = 200, description = "The file (`Range` requests get 206)", content_type = "application/octet-stream"),
        (status = 403, description = "No signature, a wrong one, or an expired one", body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 416, description = "`range_not_satisfiable`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/media/{id}")]
pub async fn get_upload(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<i64>,
    query: web::Query<SignedQuery>,
) -> AppResult<HttpResponse> {
    serve_signed(
        &state,
        &req,
        id.into_inner(),
        Variant::Content,
        query.into_inner(),
    )
    .await
}

/// An image upload's thumbnail (longest side 320), through a signed URL.
#[utoipa::path(
    tag = "uploads",
    params(("id" = i64, Path, description = "Upload id"), SignedQuery),
    responses(
        (status = 200, description = "The thumbnail (JPEG, or PNG when see-through)", content_type = "image/jpeg"),
        (status = 403, description = "No signature, a wrong one, or an expired one", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such upload, or it has no thumbnail", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/media/{id}/thumbnail")]
pub async fn get_thumbnail(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<i64>,
    query: web::Query<SignedQuery>,
) -> AppResult<HttpResponse> {
    serve_signed(
        &state,
        &req,
        id.into_inner(),
        Variant::Thumbnail,
        query.into_inner(),
    )
    .await
}

/// A public avatar (users' and groups'), by the name in its `avatar_url`. Names never
/// change content, so it is cached for a year.
#[utoipa::path(
    tag = "uploads",
    params(("name" = String, Path, description = "The last part of an `avatar_url`")),
    responses(
        (status = 200, description = "The picture", content_type = "image/jpeg"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/avatars/{name}")]
pub async fn get_avatar(
    state: web::Data<AppState>,
    name: web::Path<String>,
) -> AppResult<HttpResponse> {
    let opened = service::open_avatar(&state.db, &state.uploads.store, &name).await?;
    Ok(stream(opened, "public, max-age=31536000, immutable", false))
}

/// Set the caller's avatar to one of their uploads with purpose `avatar`.
#[utoipa::path(
    tag = "uploads",
    security(("bearer" = [])),
    request_body = SetAvatarRequest,
    responses(
        (status = 200, body = MeResponse),
        (status = 400, description = "`validation_failed`: the upload is not an avatar", body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such upload of the caller's", body = Problem, content_type = "application/problem+json"),
    )
)]
#[put("/me/avatar")]
pub async fn set_avatar(
    state: web::Data<AppState>,
    user: AuthUser,
    body: web::Json<SetAvatarRequest>,
) -> AppResult<web::Json<MeResponse>> {
    let u = service::set_avatar(&state.db, &state.auth_cache, user.id, body.upload_id).await?;
    Ok(web::Json(MeResponse::from(&u)))
}

/// Remove the caller's avatar.
#[utoipa::path(
    tag = "uploads",
    security(("bearer" = [])),
    responses(
        (status = 200, body = MeResponse),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/me/avatar")]
pub async fn delete_avatar(
    state: web::Data<AppState>,
    user: AuthUser,
) -> AppResult<web::Json<MeResponse>> {
    let u = service::clear_avatar(&state.db, &state.auth_cache, user.id).await?;
    Ok(web::Json(MeResponse::from(&u)))
}

/// The built-in sticker packs.
#[utoipa::path(
    tag = "uploads",
    responses((status = 200, body = StickerPacks))
)]
#[get("/stickers")]
pub async fn list_sticker_packs() -> web::Json<StickerPacks> {
    let packs = stickers::PACKS
        .iter()
        .map(|p| StickerPack {
            id: p.id.to_owned(),
            name_zh: p.name_zh.to_owned(),
            name_en: p.name_en.to_owned(),
            stickers: p
                .stickers
                .iter()
                .map(|s| BuiltinSticker {
                    id: s.id.to_owned(),
                    reference: format!("builtin:{}/{}", p.id, s.id),
                    name_zh: s.name_zh.to_owned(),
                    name_en: s.name_en.to_owned(),
                    url: format!("/api/v1/stickers/{}/{}.svg", p.id, s.id),
                })
                .collect(),
        })
        .collect();
    web::Json(StickerPacks { packs })
}

/// A built-in sticker's picture (public, cached for a day).
#[utoipa::path(
    tag = "uploads",
    params(
        ("pack" = String, Path, description = "Pack id"),
        ("file" = String, Path, description = "`{sticker id}.svg`"),
    ),
    responses(
        (status = 200, description = "The sticker", content_type = "image/svg+xml"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/stickers/{pack}/{file}")]
pub async fn get_builtin_sticker(path: web::Path<(String, String)>) -> AppResult<HttpResponse> {
    let (pack, file) = path.into_inner();
    let sticker = file
        .strip_suffix(".svg")
        .and_then(|id| stickers::find(&pack, id))
        .ok_or_else(|| AppError::not_found("sticker"))?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "image/svg+xml; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; sandbox",
        ))
        .body(sticker.svg))
}

/// The caller's stickers ("my stickers"), newest first, with signed URLs.
#[utoipa::path(
    tag = "uploads",
    security(("bearer" = [])),
    responses(
        (status = 200, body = MyStickers),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/me/stickers")]
pub async fn list_my_stickers(
    state: web::Data<AppState>,
    user: AuthUser,
) -> AppResult<web::Json<MyStickers>> {
    Ok(web::Json(
        service::my_stickers(&state.db, &state.uploads, user.id, now()).await?,
    ))
}

/// Add one of the caller's uploads with purpose `sticker` to their stickers (at most 200;
/// adding one already there changes nothing).
#[utoipa::path(
    tag = "uploads",
    security(("bearer" = [])),
    request_body = AddStickerRequest,
    responses(
        (status = 201, body = MySticker),
        (status = 400, description = "`validation_failed`: the upload is not a sticker", body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such upload of the caller's", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`too_many_stickers`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/me/stickers")]
pub async fn add_my_sticker(
    state: web::Data<AppState>,
    user: AuthUser,
    body: web::Json<AddStickerRequest>,
) -> AppResult<HttpResponse> {
    let s = service::add_sticker(&state.db, &state.uploads, user.id, body.upload_id, now()).await?;
    Ok(HttpResponse::Created().json(s))
}

/// Remove a sticker from the caller's stickers (messages that showed it still do).
#[utoipa::path(
    tag = "uploads",
    security(("bearer" = [])),
    params(("upload_id" = i64, Path, description = "The sticker's upload id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not in the caller's stickers", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/me/stickers/{upload_id}")]
pub async fn remove_my_sticker(
    state: web::Data<AppState>,
    user: AuthUser,
    upload_id: web::Path<i64>,
) -> AppResult<HttpResponse> {
    service::remove_sticker(&state.db, user.id, upload_id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
