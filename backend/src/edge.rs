//! Input hygiene at the edge: one middleware that refuses control characters in every
//! text input before any extractor, handler or database sees it.
//!
//! Policy (the same on every database): the path and the query string may carry no
//! control character at all (Unicode `Cc`: U+0000–U+001F, U+007F–U+009F), percent-encoded
//! or not; a JSON body may carry tab, line feed and carriage return inside strings (comments
//! and bios have lines) and no other control character, escaped or raw, in any string or
//! key. Anything else is a 400 `control_character` problem. PostgreSQL cannot store U+0000
//! in text at all, so without this the same input was a 4xx on SQLite/MariaDB and a 500 on
//! PostgreSQL.
//!
//! JSON bodies are read here (up to the body limit, which is also enforced here with the
//! same 413 the JSON extractor gives) and handed on unchanged.

use actix_web::HttpMessage;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::web::{Bytes, BytesMut};
use futures_util::StreamExt;

use actix_web::http::Method;
use actix_web::{HttpRequest, HttpResponse, ResponseError};

use crate::error::{AppError, AppResult, ErrorCode};

/// Control characters a JSON string may still contain.
fn allowed_in_text(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r')
}

/// Whether a percent-encoded URL part (path or query string) decodes to a control character.
pub fn url_has_control(raw: &str) -> bool {
    percent_encoding::percent_decode_str(raw)
        .decode_utf8_lossy()
        .chars()
        .any(char::is_control)
}

/// Whether a JSON document has a forbidden control character in a string or key, raw or
/// escaped (`\u0000`, `\b`, `\f`, a raw C1 code point). Scans bytes without parsing:
/// outside strings JSON allows only whitespace, and a raw control byte inside a string is
/// already malformed JSON, so every escape and every decoded character is checked.
pub fn json_has_control(bytes: &[u8]) -> bool {
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => {
                match bytes.get(i + 1) {
                    Some(b'b' | b'f') => return true,
                    Some(b'u') => {
                        let hex = bytes
                            .get(i + 2..i + 6)
                            .and_then(|h| std::str::from_utf8(h).ok());
                        if let Some(cp) = hex.and_then(|h| u32::from_str_radix(h, 16).ok())
                            && char::from_u32(cp)
                                .is_some_and(|c| c.is_control() && !allowed_in_text(c))
                        {
                            return true;
                        }
                    }
                    _ => {}
                }
                i += 2;
            }
            // U+0080–U+009F in UTF-8: 0xC2 0x80–0x9F. U+007F is the byte 0x7F.
            0xC2 if bytes.get(i + 1).is_some_and(|b| (0x80..=0x9F).contains(b)) => return true,
            0x7F => return true,
            _ => i += 1,
        }
    }
    false
}

/// Whether a JSON document has a number written with a fraction or an exponent (`8.0`,
/// `1e3`). Strings are skipped; outside them `.`/`e`/`E` after a digit only occur in
/// numbers.
fn has_decimal_numbers(bytes: &[u8]) -> bool {
    let mut in_string = false;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if in_string {
            match b {
                b'\\' => i += 1,
                b'"' => in_string = false,
                _ => {}
            }
        } else if b == b'"' {
            in_string = true;
        } else if matches!(b, b'.' | b'e' | b'E') && i > 0 && bytes[i - 1].is_ascii_digit() {
            return true;
        }
        i += 1;
    }
    false
}

/// `8.0` is an integer in JSON Schema (OpenAPI 3.1), so the server takes it as one:
/// every number with no fractional part that fits an `i64` is rewritten as an integer
/// before the handlers' typed extractors see it. Others are left alone (a real fraction
/// where an integer is expected stays a 400 `invalid_body`).
fn integral_numbers_as_integers(body: Bytes) -> Bytes {
    fn walk(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Number(n) if !n.is_i64() && !n.is_u64() => {
                if let Some(f) = n.as_f64()
                    && f.fract() == 0.0
                    && f.abs() < 9.007_199_254_740_992e15
                {
                    *v = serde_json::Value::from(f as i64);
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(walk),
            serde_json::Value::Object(map) => map.values_mut().for_each(walk),
            _ => {}
        }
    }
    if !has_decimal_numbers(&body) {
        return body;
    }
    let Ok(mut doc) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return body; // malformed: the extractor says so
    };
    walk(&mut doc);
    serde_json::to_vec(&doc).map_or(body, Bytes::from)
}

fn control_character(where_: &str) -> AppError {
    AppError::new(
        ErrorCode::ControlCharacter,
        format!("control characters are not allowed in the {where_}"),
    )
    .with_field(where_)
}

fn is_json(req: &ServiceRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<mime::Mime>().ok())
        .is_some_and(|m| m.subtype() == mime::JSON || m.suffix() == Some(mime::JSON))
}

/// Read the whole body, refusing more than `limit` bytes.
async fn read_body(req: &mut ServiceRequest, limit: usize) -> Result<Bytes, AppError> {
    let too_large = || {
        AppError::new(
            ErrorCode::PayloadTooLarge,
            format!("request body is larger than {limit} bytes"),
        )
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let mut payload = req.take_payload();
    let mut body = BytesMut::with_capacity(declared.unwrap_or(0));
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| {
            AppError::new(ErrorCode::MalformedJson, format!("unreadable body: {e}"))
        })?;
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// The middleware (registered once, around every route).
pub async fn reject_control_characters(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let refused = if url_has_control(req.path()) {
        Some(control_character("path"))
    } else if url_has_control(req.query_string()) {
        Some(control_character("query"))
    } else {
        None
    };
    if let Some(err) = refused {
        return Ok(req.error_response(err).map_into_right_body());
    }
    if is_json(&req) {
        let limit = req
            .app_data::<actix_web::web::Data<crate::state::AppState>>()
            .map_or(65_536, |s| s.settings.server.body_limit);
        let body = match read_body(&mut req, limit).await {
            Ok(body) => body,
            Err(err) => return Ok(req.error_response(err).map_into_right_body()),
        };
        if json_has_control(&body) {
            return Ok(req
                .error_response(control_character("body"))
                .map_into_right_body());
        }
        // Every request body of the API is an object (serde would also take an array
        // for a struct, which the schema does not allow).
        let first = body.iter().find(|b| !b.is_ascii_whitespace());
        if first.is_some_and(|b| *b != b'{')
            && serde_json::from_slice::<serde_json::Value>(&body).is_ok()
        {
            let err = AppError::new(ErrorCode::InvalidBody, "the body must be a JSON object");
            return Ok(req.error_response(err).map_into_right_body());
        }
        req.set_payload(integral_numbers_as_integers(body).into());
    }
    Ok(next.call(req).await?.map_into_left_body())
}

/// Routes served outside the documented API, all read-only.
const READ_ONLY_PREFIXES: [&str; 5] = ["/api/", "/internal/", "/hls/", "/static/", "/ws"];

/// The documented routes as matchers, with the methods each one answers.
fn documented_routes() -> &'static [(actix_web::dev::ResourceDef, Vec<String>)] {
    static ROUTES: std::sync::OnceLock<Vec<(actix_web::dev::ResourceDef, Vec<String>)>> =
        std::sync::OnceLock::new();
    ROUTES.get_or_init(|| {
        let doc = serde_json::to_value(crate::openapi::spec()).unwrap_or_default();
        doc["paths"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(path, item)| {
                let methods = item
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(m, _)| m.to_uppercase())
                    .collect();
                (actix_web::dev::ResourceDef::new(path.as_str()), methods)
            })
            .collect()
    })
}

/// The methods of a documented route whose path has no parameters and is exactly
/// `path` (`/rooms/join`), for requests that a parameterised sibling (`/rooms/{id}`)
/// caught with another method.
pub fn literal_route_methods(path: &str) -> Option<String> {
    documented_routes()
        .iter()
        .find(|(def, _)| !def.pattern().unwrap_or("{").contains('{') && def.is_match(path))
        .map(|(_, methods)| methods.join(", "))
}

pub fn method_not_allowed(allow: &str) -> HttpResponse {
    let mut res = AppError::new(
        ErrorCode::MethodNotAllowed,
        format!("this route answers {allow} only"),
    )
    .error_response();
    if let Ok(v) = header::HeaderValue::from_str(allow) {
        res.headers_mut().insert(header::ALLOW, v);
    }
    res
}

/// The app's default service: what no route took. A documented route asked with another
/// method (TRACE, OPTIONS, …) is a 405 with `Allow`; the single-page app answers GET and
/// HEAD only; everything else is the app (or its 404).
pub async fn fallback(
    state: actix_web::web::Data<crate::state::AppState>,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let path = req.path();
    if let Some((_, methods)) = documented_routes()
        .iter()
        .find(|(def, _)| def.is_match(path))
    {
        return Ok(method_not_allowed(&methods.join(", ")));
    }
    let read_only = matches!(*req.method(), Method::GET | Method::HEAD);
    if !read_only && !READ_ONLY_PREFIXES.iter().any(|p| path.starts_with(p)) {
        return Ok(method_not_allowed("GET, HEAD"));
    }
    crate::media::serve::spa(state, req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_scan() {
        assert!(!json_has_control(br#"{"a":"line\nnext\ttab\r"}"#));
        assert!(!json_has_control("{\"a\":\"小明 é\"}".as_bytes()));
        assert!(!json_has_control(br#"{"a":"\\u0000 is text"}"#));
        assert!(!json_has_control(br#"{"a":"\u00e9\u4e2d"}"#));
        assert!(json_has_control(br#"{"a":"x\u0000"}"#));
        assert!(json_has_control(br#"{"a\u001f":1}"#));
        assert!(json_has_control(br#"{"a":"\b"}"#));
        assert!(json_has_control(br#"{"a":"\u007F"}"#));
        assert!(json_has_control(br#"{"a":"\u0085"}"#));
        assert!(json_has_control("{\"a\":\"\u{85}\"}".as_bytes()));
        assert!(json_has_control("{\"a\":\"\u{7f}\"}".as_bytes()));
    }

    #[test]
    fn integral_floats_become_integers() {
        let fix = |s: &str| {
            String::from_utf8(integral_numbers_as_integers(Bytes::from(s.to_owned())).to_vec())
                .expect("utf8")
        };
        assert_eq!(
            fix(r#"{"a":8.0,"b":[1e3,-2.0],"c":2.5}"#),
            r#"{"a":8,"b":[1000,-2],"c":2.5}"#
        );
        // Untouched without decimals, and strings are never numbers.
        assert_eq!(
            fix(r#"{"t":"8.0 true","n":1}"#),
            r#"{"t":"8.0 true","n":1}"#
        );
        assert_eq!(fix(r#"{"a":1e400}"#), r#"{"a":1e400}"#);
    }

    #[test]
    fn url_scan() {
        assert!(!url_has_control("q=%E5%B0%8F+a&b=1"));
        assert!(url_has_control("q=a%00"));
        assert!(url_has_control("/api/v1/rooms/join/%0a"));
        assert!(url_has_control("q=%C2%85"));
    }
}
