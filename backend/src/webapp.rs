//! The web app: `frontend/dist` (setting `frontend.dist_dir`) served at `/`, for the
//! embedded single-binary setup (`make run`). Production nginx applies the same rules
//! (see `nginx.conf`):
//!
//! - a file of the build is served as it is: hashed `assets/*` with
//!   `Cache-Control: public, max-age=31536000, immutable`, anything else (`index.html`,
//!   `favicon.svg`) with `no-cache`;
//! - a missing file (a last segment with an extension) is a 404, never the app;
//! - any other `GET`/`HEAD` path is an app route: `index.html` (`no-cache`), so the
//!   history-mode router can take over after a reload or a shared link;
//! - the server's own namespaces (`/api`, `/ws`, `/hls`, `/static`, `/docs`,
//!   `/openapi.json`, `/healthz`, `/readyz`, `/internal`) never fall back to the app:
//!   an unknown path there is a problem+json 404.
//!
//! Without a build, `/` answers a short page that says so and links to the API docs.

use actix_files::NamedFile;
use actix_web::http::Method;
use actix_web::http::header::{CacheControl, CacheDirective, ContentType};
use actix_web::{HttpRequest, HttpResponse, web};

use crate::error::{AppError, AppResult, ErrorCode};
use crate::media::serve::{immutable, set_cache};
use crate::state::AppState;

/// First path segments that belong to the server, not to the app.
const RESERVED: &[&str] = &[
    "api",
    "ws",
    "hls",
    "static",
    "docs",
    "openapi.json",
    "healthz",
    "readyz",
    "internal",
];

/// Whether `path` lies in one of the server's own namespaces.
pub fn is_reserved(path: &str) -> bool {
    let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
    RESERVED.contains(&first)
}

/// A path that may name a file of the build: no hidden segments, no backslashes.
fn safe_relative(path: &str) -> Option<&str> {
    let rel = path.trim_start_matches('/');
    let ok = !rel.is_empty()
        && rel
            .split('/')
            .all(|seg| !seg.is_empty() && !seg.starts_with('.') && !seg.contains('\\'));
    ok.then_some(rel)
}

fn no_such_route() -> AppError {
    AppError::new(ErrorCode::NotFound, "no such route")
}

/// The default service: files of the build, `index.html` for app routes.
pub async fn serve(state: web::Data<AppState>, req: HttpRequest) -> AppResult<HttpResponse> {
    let path = req.path();
    if is_reserved(path) {
        return Err(no_such_route());
    }
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return Err(AppError::new(
            ErrorCode::MethodNotAllowed,
            "the web app answers GET and HEAD only",
        ));
    }
    let dist = &state.settings.frontend.dist_dir;
    if let Some(rel) = safe_relative(path) {
        let candidate = dist.join(rel);
        if candidate.is_file() {
            let cache = if rel.starts_with("assets/") {
                immutable(CacheDirective::Public)
            } else {
                CacheControl(vec![CacheDirective::NoCache])
            };
            let named = NamedFile::open(&candidate).map_err(|_| AppError::not_found("file"))?;
            let mut res = named.disable_content_disposition().into_response(&req);
            set_cache(&mut res, &cache);
            return Ok(res);
        }
        let last = rel.rsplit('/').next().unwrap_or_default();
        if last.contains('.') || rel.starts_with("assets/") {
            return Err(AppError::not_found("file"));
        }
    } else if path != "/" {
        return Err(AppError::not_found("file"));
    }
    let html = |body: Vec<u8>| {
        HttpResponse::Ok()
            .insert_header(ContentType::html())
            .insert_header(CacheControl(vec![CacheDirective::NoCache]))
            .body(body)
    };
    match tokio::fs::read(dist.join("index.html")).await {
        Ok(bytes) => Ok(html(bytes)),
        // No web app built: say so at the front door instead of a bare 404.
        Err(_) if path == "/" => Ok(html(NO_FRONTEND.as_bytes().to_vec())),
        Err(_) => Err(no_such_route()),
    }
}

const NO_FRONTEND: &str = r#"<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>珞珈在线影院 · Luojia Cinema</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:system-ui,"Noto Sans CJK SC",sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;line-height:1.6;color:#222}
code{background:#f2f2f2;padding:.1rem .3rem;border-radius:3px}a{color:#b0302a}</style></head>
<body><h1>珞珈在线影院 <small>Luojia Cinema</small></h1>
<p>服务器正在运行。网页应用尚未构建（<code>frontend/dist</code> 不存在）：运行 <code>make run</code> 会自动构建。</p>
<p>The server is running. The web app is not built yet (no <code>frontend/dist</code>); <code>make run</code> builds it.</p>
<ul><li><a href="/docs/">API 文档 · API docs (Swagger UI)</a></li>
<li><a href="/api/v1/movies">影片目录 · The catalog (JSON)</a></li>
<li><a href="/openapi.json">OpenAPI</a> · <a href="/healthz">/healthz</a> · <a href="/readyz">/readyz</a></li></ul>
</body></html>
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_namespaces_are_whole_segments() {
        for p in [
            "/api",
            "/api/v1/x",
            "/ws",
            "/hls/a/1/x.ts",
            "/static/movies/1/p.jpg",
            "/docs",
            "/docs/",
            "/openapi.json",
            "/healthz",
            "/readyz",
            "/internal/stats",
        ] {
            assert!(is_reserved(p), "{p}");
        }
        for p in [
            "/",
            "/browse",
            "/apiary",
            "/wsj",
            "/movies/1",
            "/me/history",
            "/documents",
        ] {
            assert!(!is_reserved(p), "{p}");
        }
    }

    #[test]
    fn only_plain_relative_paths_name_files() {
        assert_eq!(safe_relative("/assets/a.js"), Some("assets/a.js"));
        assert_eq!(safe_relative("/"), None);
        assert_eq!(safe_relative("/.env"), None);
        assert_eq!(safe_relative("/assets/../x"), None);
        assert_eq!(safe_relative("/a//b"), None);
        assert_eq!(safe_relative("/a\\b"), None);
    }
}
