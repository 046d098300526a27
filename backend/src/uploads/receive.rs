//! Reading `multipart/form-data` for `POST /media`: the `file` part is streamed to a
//! temporary file while its bytes are counted, never held whole in memory. Past the cap
//! the rest of the body is read and thrown away (up to [`DRAIN_LIMIT`]) so that the client
//! gets its 413 instead of a reset connection, and the temporary file is removed.

use actix_multipart::{Multipart, MultipartError};
use futures_util::StreamExt;
use tempfile::TempPath;
use tokio::io::AsyncWriteExt;

use super::Uploads;
use super::domain::UploadKind;
use super::service::{byte_cap, too_big};
use crate::error::{AppError, AppResult, ErrorCode};

/// How much of an oversized body is still read (and discarded) before answering.
const DRAIN_LIMIT: u64 = 64 << 20;

/// A received file: its kind, where it is, how long.
pub struct Received {
    pub kind: UploadKind,
    pub path: TempPath,
    pub bytes: u64,
}

fn multipart_error(e: MultipartError) -> AppError {
    use MultipartError as E;
    match e {
        E::ContentTypeMissing | E::ContentTypeParse | E::ContentTypeIncompatible => AppError::new(
            ErrorCode::UnsupportedMediaType,
            "expected Content-Type: multipart/form-data",
        ),
        other => AppError::new(ErrorCode::InvalidBody, format!("unreadable form: {other}")),
    }
}

/// Read the form: `purpose` (or `query_purpose`) and one `file`.
pub async fn receive(
    uploads: &Uploads,
    mut form: Multipart,
    query_purpose: Option<UploadKind>,
) -> AppResult<Received> {
    let mut kind = query_purpose;
    let mut file: Option<(TempPath, u64)> = None;
    while let Some(field) = form.next().await {
        let mut field = field.map_err(multipart_error)?;
        match field.name() {
            Some("purpose") => {
                let mut text = Vec::new();
                while let Some(chunk) = field.next().await {
                    text.extend_from_slice(&chunk.map_err(multipart_error)?);
                    if text.len() > 16 {
                        break;
                    }
                }
                let parsed = std::str::from_utf8(&text).ok().and_then(UploadKind::parse);
                kind = Some(parsed.ok_or_else(|| {
                    AppError::validation(
                        "purpose",
                        "purpose must be image, voice, avatar or sticker",
                    )
                })?);
            }
            Some("file") if file.is_none() => {
                let cap = byte_cap(uploads, kind);
                file = Some(stream_to_temp(uploads, &mut field, cap).await?);
            }
            _ => {
                return Err(AppError::new(
                    ErrorCode::InvalidBody,
                    "the form takes one `purpose` and one `file`",
                ));
            }
        }
    }
    let kind = kind.ok_or_else(|| AppError::validation("purpose", "purpose is required"))?;
    let (path, bytes) = file.ok_or_else(|| AppError::validation("file", "file is required"))?;
    Ok(Received { kind, path, bytes })
}

async fn stream_to_temp(
    uploads: &Uploads,
    field: &mut actix_multipart::Field,
    cap: u64,
) -> AppResult<(TempPath, u64)> {
    let tmp = tempfile::Builder::new()
        .prefix("upload-")
        .tempfile_in(&uploads.tmp_dir)
        .map_err(AppError::internal)?;
    let (std_file, path) = tmp.into_parts();
    let mut out = tokio::fs::File::from_std(std_file);
    let mut bytes = 0u64;
    while let Some(chunk) = field.next().await {
        let chunk = chunk.map_err(multipart_error)?;
        bytes += chunk.len() as u64;
        if bytes > cap {
            drop(out);
            drop(path);
            drain(field, bytes).await;
            return Err(too_big(cap));
        }
        out.write_all(&chunk).await.map_err(AppError::internal)?;
    }
    out.flush().await.map_err(AppError::internal)?;
    out.sync_all().await.map_err(AppError::internal)?;
    Ok((path, bytes))
}

/// Read and discard the rest of the file part, up to [`DRAIN_LIMIT`]. (What may follow it
/// is a closing boundary; the form cannot be read on while the field is borrowed.)
async fn drain(field: &mut actix_multipart::Field, mut read: u64) {
    while let Some(Ok(chunk)) = field.next().await {
        read += chunk.len() as u64;
        if read > DRAIN_LIMIT {
            return;
        }
    }
}
