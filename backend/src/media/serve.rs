//! Media delivery. In production nginx serves `/hls/` and `/static/` straight from disk
//! and asks [`hls_auth`] (through `auth_request`) whether a `/hls/` URL may be served.
//! In embedded mode this process serves both itself, with the same check.

use actix_files::NamedFile;
use actix_web::http::header::{self, CacheControl, CacheDirective};
use actix_web::{HttpRequest, HttpResponse, web};

use super::grant::parse_hls_path;
use crate::error::{AppError, AppResult, ErrorCode};
use crate::state::AppState;

fn forbidden() -> AppError {
    AppError::new(
        ErrorCode::Forbidden,
        "missing, invalid or expired playback grant",
    )
}

/// Check a `/hls/...` path; the movie folder and file on success.
fn authorize(state: &AppState, path: &str) -> AppResult<(i64, String)> {
    let path = path.split('?').next().unwrap_or_default();
    let (token, movie_id, file) = parse_hls_path(path).ok_or_else(forbidden)?;
    let now = chrono::Utc::now().timestamp();
    state
        .grants
        .verify(token, movie_id, now)
        .map_err(|_| forbidden())?;
    Ok((movie_id, file.to_owned()))
}

/// nginx `auth_request` target: 204 when `X-Original-URI` is a valid grant URL, else 403.
pub async fn hls_auth(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let uri = req
        .headers()
        .get("x-original-uri")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    match authorize(&state, uri) {
        Ok(_) => HttpResponse::NoContent().finish(),
        Err(_) => HttpResponse::Forbidden().finish(),
    }
}

fn content_type(file: &str) -> &'static str {
    match file.rsplit('.').next().unwrap_or_default() {
        "m3u8" => "application/vnd.apple.mpegurl",
        "ts" => "video/mp2t",
        "m4s" => "video/iso.segment",
        "mp4" => "video/mp4",
        "vtt" => "text/vtt; charset=utf-8",
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "webp" => "image/webp",
        _ => "application/octet-stream",
    }
}

async fn send_file(
    req: &HttpRequest,
    path: std::path::PathBuf,
    file: &str,
    cache: CacheControl,
) -> AppResult<HttpResponse> {
    // A directory (or anything else that is not a regular file) is not served: opening
    // one succeeds and reading it fails mid-response.
    let is_file = tokio::fs::metadata(&path).await.is_ok_and(|m| m.is_file());
    if !is_file {
        return Err(AppError::not_found("file"));
    }
    let named = NamedFile::open(&path).map_err(|_| AppError::not_found("file"))?;
    let mime: mime::Mime = content_type(file)
        .parse()
        .unwrap_or(mime::APPLICATION_OCTET_STREAM);
    let mut res = named
        .set_content_type(mime)
        .disable_content_disposition()
        .into_response(req);
    set_cache(&mut res, &cache);
    Ok(res)
}

pub(crate) fn set_cache(res: &mut HttpResponse, cache: &CacheControl) {
    if let Ok(v) = header::HeaderValue::from_str(&cache.to_string()) {
        res.headers_mut().insert(header::CACHE_CONTROL, v);
    }
}

pub(crate) fn immutable(visibility: CacheDirective) -> CacheControl {
    CacheControl(vec![
        visibility,
        CacheDirective::MaxAge(31_536_000),
        CacheDirective::Extension("immutable".into(), None),
    ])
}

/// `GET /hls/{token}/{movie_id}/{file}` (embedded mode).
pub async fn serve_hls(state: web::Data<AppState>, req: HttpRequest) -> AppResult<HttpResponse> {
    let (movie_id, file) = authorize(&state, req.path())?;
    let path = super::layout::protected_dir(&state.settings, movie_id).join(&file);
    // Playlists may change on a re-ingest; segments never do.
    let cache = if file.ends_with(".m3u8") {
        CacheControl(vec![CacheDirective::Private, CacheDirective::MaxAge(10)])
    } else {
        immutable(CacheDirective::Private)
    };
    send_file(&req, path, &file, cache).await
}

/// `GET /static/movies/{movie_id}/{file}`: posters, backdrops and preview clips (public).
pub async fn serve_static(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(i64, String)>,
) -> AppResult<HttpResponse> {
    let (movie_id, file) = path.into_inner();
    let safe = !file.contains('/')
        && !file.starts_with('.')
        && file
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if !safe || movie_id <= 0 {
        return Err(AppError::not_found("file"));
    }
    let path = super::layout::public_dir(&state.settings, movie_id).join(&file);
    let cache = CacheControl(vec![CacheDirective::Public, CacheDirective::MaxAge(3600)]);
    send_file(&req, path, &file, cache).await
}
