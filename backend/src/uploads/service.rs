//! Upload rules: process a received file, store it, record it; who may fetch what.
//!
//! **Who gets URLs.** Content is served only through signed, short-lived URLs
//! ([`signed`]). An upload's owner gets them in the upload's answer and in "my stickers";
//! a feature that shows an upload to others (a message's attachment) must issue them only
//! to callers allowed to see it (the members of the conversation) and never to anyone
//! else: the URL itself is the permission. Avatars are the exception: they are public
//! ([`public_avatar_url`]).
//!
//! **Nothing left behind.** A refused upload leaves no temporary file (the temp path is
//! removed when dropped), no object (objects are written only after the file passed, and
//! deleted again when the row cannot be written) and no row. An upload that is never
//! attached to anything ([`attach`]) is swept, row and files, after a while
//! ([`sweep_unattached`]).

use chrono::{DateTime, Utc};
use object_store::path::Path as ObjectPath;
use object_store::{GetOptions, GetRange, GetResult, ObjectStoreExt, PutPayload};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use tempfile::TempPath;

use super::Uploads;
use super::domain::UploadKind;
use super::dto::{MySticker, MyStickers, UploadResponse, UploadUrls};
use super::process::{self, Encoded, Processed};
use super::sign::{UploadSigner, Variant};
use super::store::{self, Store};
use crate::auth::cache::AuthCache;
use crate::entities::{upload, user, user_sticker};
use crate::error::{AppError, AppResult, ErrorCode};

/// An upload as other features see it: its row (whose, what, where in the store).
pub type UploadInfo = upload::Model;

/// The largest file accepted for `kind` (bytes).
pub fn byte_cap(uploads: &Uploads, kind: Option<UploadKind>) -> u64 {
    let s = &uploads.settings;
    match kind {
        Some(UploadKind::Voice) => s.max_voice_bytes,
        Some(_) => s.max_image_bytes,
        None => s.max_image_bytes.max(s.max_voice_bytes),
    }
}

/// Check, re-encode and store a received file (at `tmp`, `bytes` long) for `owner`.
pub async fn create(
    db: &impl ConnectionTrait,
    uploads: &Uploads,
    owner: i64,
    kind: UploadKind,
    tmp: TempPath,
    bytes: u64,
) -> AppResult<UploadInfo> {
    if bytes > byte_cap(uploads, Some(kind)) {
        return Err(too_big(byte_cap(uploads, Some(kind))));
    }
    if bytes == 0 {
        return Err(AppError::new(ErrorCode::InvalidMedia, "the file is empty").with_field("file"));
    }
    let processed = {
        // At most `processing_concurrency` decodes at once; others wait their turn.
        let _permit = uploads.gate.acquire().await.map_err(AppError::internal)?;
        let caps = uploads.settings.clone();
        actix_web::web::block(move || {
            let result = process::process(&tmp, kind, &caps);
            drop(tmp);
            result
        })
        .await??
    };
    let Processed {
        content,
        width,
        height,
        duration_ms,
        thumbnail,
    } = processed;
    let object_key = store::new_key(kind.as_str(), content.ext);
    let thumbnail_key = thumbnail.as_ref().map(|t| store::new_key("thumb", t.ext));
    let content_type = content.content_type;
    let stored_bytes = content.data.len() as i64;
    put(&uploads.store, &object_key, content).await?;
    if let (Some(key), Some(t)) = (&thumbnail_key, thumbnail)
        && let Err(e) = put(&uploads.store, key, t).await
    {
        remove_objects(&uploads.store, [Some(object_key.as_str())]).await;
        return Err(e);
    }
    let row = upload::ActiveModel {
        owner_id: Set(owner),
        kind: Set(kind),
        content_type: Set(content_type.to_owned()),
        bytes: Set(stored_bytes),
        width: Set(width.and_then(|w| i32::try_from(w).ok())),
        height: Set(height.and_then(|h| i32::try_from(h).ok())),
        duration_ms: Set(duration_ms.and_then(|d| i32::try_from(d).ok())),
        object_key: Set(object_key.clone()),
        thumbnail_key: Set(thumbnail_key.clone()),
        created_at: Set(Utc::now()),
        ..Default::default()
    };
    match row.insert(db).await {
        Ok(m) => Ok(m),
        Err(e) => {
            remove_objects(
                &uploads.store,
                [Some(object_key.as_str()), thumbnail_key.as_deref()],
            )
            .await;
            Err(e.into())
        }
    }
}

pub fn too_big(cap: u64) -> AppError {
    AppError::new(
        ErrorCode::PayloadTooLarge,
        format!("the file is larger than {cap} bytes"),
    )
    .with_field("file")
}

async fn put(store: &Store, key: &str, file: Encoded) -> AppResult<()> {
    store
        .put(&ObjectPath::from(key), PutPayload::from(file.data))
        .await
        .map(|_| ())
        .map_err(AppError::internal)
}

async fn remove_objects<'a>(store: &Store, keys: impl IntoIterator<Item = Option<&'a str>>) {
    for key in keys.into_iter().flatten() {
        if let Err(e) = store.delete(&ObjectPath::from(key)).await {
            tracing::warn!(key, error = %e, "orphaned upload object");
        }
    }
}

/// The caller's own upload `id` (404 for anyone else's, so ids reveal nothing).
pub async fn owned_upload(db: &impl ConnectionTrait, owner: i64, id: i64) -> AppResult<UploadInfo> {
    upload::Entity::find_by_id(id)
        .filter(upload::Column::OwnerId.eq(owner))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("upload"))
}

/// Mark the caller's upload `info` as attached to something, so that it is kept. Call it
/// after every other check, so that a refused attach leaves the upload as it was. An
/// upload swept in the meantime is 404, like one that never was.
pub async fn attach(db: &impl ConnectionTrait, info: &UploadInfo) -> AppResult<()> {
    if info.attached_at.is_some() {
        return Ok(());
    }
    let marked = upload::Entity::update_many()
        .col_expr(upload::Column::AttachedAt, Expr::value(Utc::now()))
        .filter(upload::Column::Id.eq(info.id))
        .filter(upload::Column::AttachedAt.is_null())
        .exec(db)
        .await?;
    // Nothing marked: attached meanwhile by another request (fine), or swept (gone).
    if marked.rows_affected == 0 && upload::Entity::find_by_id(info.id).one(db).await?.is_none() {
        return Err(AppError::not_found("upload"));
    }
    Ok(())
}

/// Delete up to `batch` uploads never attached and made before `cutoff`: each row (only
/// if it is still unattached: an attach that came first keeps it), then its files.
/// Returns how many went.
pub async fn sweep_unattached(
    db: &impl ConnectionTrait,
    store: &Store,
    cutoff: DateTime<Utc>,
    batch: u64,
) -> AppResult<u64> {
    let stale = upload::Entity::find()
        .filter(upload::Column::AttachedAt.is_null())
        .filter(upload::Column::CreatedAt.lt(cutoff))
        .order_by_asc(upload::Column::CreatedAt)
        .limit(batch)
        .all(db)
        .await?;
    let mut gone = 0;
    for u in stale {
        let deleted = upload::Entity::delete_many()
            .filter(upload::Column::Id.eq(u.id))
            .filter(upload::Column::AttachedAt.is_null())
            .exec(db)
            .await?;
        if deleted.rows_affected == 1 {
            remove_objects(
                store,
                [Some(u.object_key.as_str()), u.thumbnail_key.as_deref()],
            )
            .await;
            gone += 1;
        }
    }
    Ok(gone)
}

/// Signed URLs of an upload, valid for the signer's lifetime from `now` (Unix seconds).
/// Issue them only to callers who may see the upload (see the module docs).
pub fn signed(info: &UploadInfo, signer: &UploadSigner, now: i64) -> UploadUrls {
    let (expires_at, sig) = signer.sign(info.id, Variant::Content, now);
    let url = format!("/api/v1/media/{}?exp={expires_at}&sig={sig}", info.id);
    let thumbnail_url = info.thumbnail_key.as_ref().map(|_| {
        let (exp, sig) = signer.sign(info.id, Variant::Thumbnail, now);
        format!("/api/v1/media/{}/thumbnail?exp={exp}&sig={sig}", info.id)
    });
    UploadUrls {
        url,
        thumbnail_url,
        expires_at,
    }
}

/// The public URL of an avatar upload (users' and groups'); `None` for other kinds.
pub fn public_avatar_url(info: &UploadInfo) -> Option<String> {
    (info.kind == UploadKind::Avatar)
        .then(|| info.object_key.strip_prefix("avatar/"))
        .flatten()
        .map(|name| format!("/api/v1/avatars/{name}"))
}

pub fn response(info: &UploadInfo, signer: &UploadSigner, now: i64) -> UploadResponse {
    UploadResponse {
        id: info.id,
        kind: info.kind,
        content_type: info.content_type.clone(),
        bytes: info.bytes,
        width: info.width,
        height: info.height,
        duration_ms: info.duration_ms,
        urls: signed(info, signer, now),
        avatar_url: public_avatar_url(info),
        created_at: info.created_at,
    }
}

/// An opened object: its upload, the bytes (or the asked range) and the range served.
pub struct Opened {
    pub info: UploadInfo,
    pub content_type: String,
    pub result: GetResult,
}

/// A byte range asked for by `Range: bytes=a-b` / `bytes=a-` / `bytes=-n`.
pub fn parse_range(header: &str) -> Option<GetRange> {
    let spec = header.strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    match (a.parse::<u64>().ok(), b.parse::<u64>().ok()) {
        (Some(a), Some(b)) if b >= a => Some(GetRange::Bounded(a..b + 1)),
        (Some(a), None) if b.is_empty() => Some(GetRange::Offset(a)),
        (None, Some(n)) if a.is_empty() && n > 0 => Some(GetRange::Suffix(n)),
        _ => None,
    }
}

/// The object a signed URL names, if the signature (`exp`, `sig`) is valid and unexpired.
pub async fn open_signed(
    db: &impl ConnectionTrait,
    uploads: &Uploads,
    id: i64,
    variant: Variant,
    signature: (Option<i64>, Option<&str>),
    range: Option<GetRange>,
    now: i64,
) -> AppResult<Opened> {
    let (Some(exp), Some(sig)) = signature else {
        return Err(AppError::forbidden("this address needs a signature"));
    };
    if !uploads.signer.verify(id, variant, exp, sig, now) {
        return Err(AppError::forbidden(
            "the signature is invalid or has expired",
        ));
    }
    let info = upload::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("upload"))?;
    let (key, content_type) = match variant {
        Variant::Content => (info.object_key.clone(), info.content_type.clone()),
        Variant::Thumbnail => {
            let key = info
                .thumbnail_key
                .clone()
                .ok_or_else(|| AppError::not_found("thumbnail"))?;
            let ct = if key.ends_with(".png") {
                "image/png"
            } else {
                "image/jpeg"
            };
            (key, ct.to_owned())
        }
    };
    let result = get(&uploads.store, &key, range).await?;
    Ok(Opened {
        info,
        content_type,
        result,
    })
}

async fn get(store: &Store, key: &str, range: Option<GetRange>) -> AppResult<GetResult> {
    let opts = GetOptions {
        range,
        ..Default::default()
    };
    match store.get_opts(&ObjectPath::from(key), opts).await {
        Ok(r) => Ok(r),
        Err(object_store::Error::NotFound { .. }) => Err(AppError::not_found("file")),
        Err(e) if range_error(&e) => Err(AppError::new(
            ErrorCode::RangeNotSatisfiable,
            "the range is outside the file",
        )),
        Err(e) => Err(AppError::internal(e)),
    }
}

/// A range the object does not have (the local store says so in words; S3 answers 416).
fn range_error(e: &object_store::Error) -> bool {
    let text = e.to_string().to_lowercase();
    text.contains("range") || text.contains("416")
}

/// The public avatar named `name` (the last part of its URL).
pub async fn open_avatar(
    db: &impl ConnectionTrait,
    store: &Store,
    name: &str,
) -> AppResult<Opened> {
    if !store::is_generated_name(name) {
        return Err(AppError::not_found("avatar"));
    }
    let key = format!("avatar/{name}");
    let info = upload::Entity::find()
        .filter(upload::Column::ObjectKey.eq(key.as_str()))
        .filter(upload::Column::Kind.eq(UploadKind::Avatar))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("avatar"))?;
    let result = get(store, &key, None).await?;
    Ok(Opened {
        content_type: info.content_type.clone(),
        info,
        result,
    })
}

/// Set the caller's avatar to their avatar upload `upload_id`.
pub async fn set_avatar(
    db: &impl ConnectionTrait,
    cache: &AuthCache,
    me: i64,
    upload_id: i64,
) -> AppResult<user::Model> {
    let info = owned_upload(db, me, upload_id).await?;
    let url = public_avatar_url(&info).ok_or_else(|| {
        AppError::validation("upload_id", "the upload was not made with purpose avatar")
    })?;
    attach(db, &info).await?;
    write_avatar(db, cache, me, Some(url)).await
}

/// Remove the caller's avatar.
pub async fn clear_avatar(
    db: &impl ConnectionTrait,
    cache: &AuthCache,
    me: i64,
) -> AppResult<user::Model> {
    write_avatar(db, cache, me, None).await
}

async fn write_avatar(
    db: &impl ConnectionTrait,
    cache: &AuthCache,
    me: i64,
    url: Option<String>,
) -> AppResult<user::Model> {
    let current = crate::users::service::find_active(db, me).await?;
    let mut row: user::ActiveModel = current.into();
    row.avatar_url = Set(url);
    row.updated_at = Set(Utc::now());
    let updated = row.update(db).await?;
    cache.forget_user(me);
    Ok(updated)
}

/// The caller's sticker collection, newest first.
pub async fn my_stickers(
    db: &impl ConnectionTrait,
    uploads: &Uploads,
    me: i64,
    now: i64,
) -> AppResult<MyStickers> {
    let rows = user_sticker::Entity::find()
        .filter(user_sticker::Column::UserId.eq(me))
        .order_by_desc(user_sticker::Column::CreatedAt)
        .order_by_desc(user_sticker::Column::UploadId)
        .all(db)
        .await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.upload_id).collect();
    let infos: std::collections::HashMap<i64, UploadInfo> = upload::Entity::find()
        .filter(upload::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.id, m))
        .collect();
    let items: Vec<MySticker> = rows
        .iter()
        .filter_map(|r| {
            infos
                .get(&r.upload_id)
                .map(|i| sticker_item(i, &uploads.signer, r.created_at, now))
        })
        .collect();
    Ok(MyStickers {
        remaining: uploads
            .settings
            .max_stickers
            .saturating_sub(items.len() as u64),
        items,
    })
}

fn sticker_item(
    info: &UploadInfo,
    signer: &UploadSigner,
    added_at: DateTime<Utc>,
    now: i64,
) -> MySticker {
    MySticker {
        upload_id: info.id,
        content_type: info.content_type.clone(),
        width: info.width,
        height: info.height,
        urls: signed(info, signer, now),
        added_at,
    }
}

/// Add the caller's sticker upload to their collection (idempotent).
pub async fn add_sticker(
    db: &sea_orm::DatabaseConnection,
    uploads: &Uploads,
    me: i64,
    upload_id: i64,
    now: i64,
) -> AppResult<MySticker> {
    let info = owned_upload(db, me, upload_id).await?;
    if info.kind != UploadKind::Sticker {
        return Err(AppError::validation(
            "upload_id",
            "the upload was not made with purpose sticker",
        ));
    }
    let txn = crate::db::begin_write(db).await?;
    attach(&txn, &info).await?;
    let existing = user_sticker::Entity::find_by_id((me, upload_id))
        .one(&txn)
        .await?;
    let row = match existing {
        Some(row) => row,
        None => {
            let count = user_sticker::Entity::find()
                .filter(user_sticker::Column::UserId.eq(me))
                .count(&txn)
                .await?;
            if count >= uploads.settings.max_stickers {
                return Err(AppError::new(
                    ErrorCode::TooManyStickers,
                    format!(
                        "at most {} stickers; remove one first",
                        uploads.settings.max_stickers
                    ),
                ));
            }
            user_sticker::ActiveModel {
                user_id: Set(me),
                upload_id: Set(upload_id),
                created_at: Set(Utc::now()),
            }
            .insert(&txn)
            .await?
        }
    };
    txn.commit().await?;
    Ok(sticker_item(&info, &uploads.signer, row.created_at, now))
}

/// Remove a sticker from the caller's collection (the file stays: messages may show it).
pub async fn remove_sticker(db: &impl ConnectionTrait, me: i64, upload_id: i64) -> AppResult<()> {
    let res = user_sticker::Entity::delete_by_id((me, upload_id))
        .exec(db)
        .await?;
    if res.rows_affected == 0 {
        return Err(AppError::not_found("sticker"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_parse_in_their_three_forms_only() {
        assert_eq!(parse_range("bytes=0-99"), Some(GetRange::Bounded(0..100)));
        assert_eq!(parse_range("bytes=100-"), Some(GetRange::Offset(100)));
        assert_eq!(parse_range("bytes=-5"), Some(GetRange::Suffix(5)));
        for bad in [
            "bytes=5-1",
            "bytes=0-1,4-5",
            "items=0-1",
            "bytes=-",
            "bytes=a-b",
        ] {
            assert_eq!(parse_range(bad), None, "{bad}");
        }
    }
}
