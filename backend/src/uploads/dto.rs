//! Bodies of `/media`, `/me/avatar` and the sticker endpoints.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::domain::UploadKind;

/// `POST /media` as `multipart/form-data`: `purpose` first, then `file`.
#[derive(ToSchema)]
pub struct UploadForm {
    /// What the file is for: decides how it is checked. Required here or as `?purpose=`.
    pub purpose: Option<UploadKind>,
    /// The file. Images: JPEG, PNG, WebP or GIF up to 10 MB and 40 megapixels; voice:
    /// WebM/Opus, Ogg/Opus or M4A/AAC up to 2 MB and 60 s.
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// What the file is for, when the form has no `purpose` field before `file`.
    pub purpose: Option<UploadKind>,
}

/// Short-lived signed URLs of an upload (`GET` them without a token).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UploadUrls {
    pub url: String,
    /// Images only: the picture at most 320 px on its longest side.
    pub thumbnail_url: Option<String>,
    /// When the URLs stop working (Unix seconds).
    pub expires_at: i64,
}

/// A stored upload.
#[derive(Debug, Serialize, ToSchema)]
pub struct UploadResponse {
    pub id: i64,
    pub kind: UploadKind,
    /// The type of the stored (re-encoded) file.
    pub content_type: String,
    pub bytes: i64,
    pub width: Option<i32>,
    pub height: Option<i32>,
    /// Voice notes: measured from the file.
    pub duration_ms: Option<i32>,
    #[serde(flatten)]
    pub urls: UploadUrls,
    /// Avatars only: the public, stable URL `PUT /me/avatar` will set.
    pub avatar_url: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// `?exp=&sig=` of a signed media URL.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SignedQuery {
    /// Expiry (Unix seconds), as issued.
    pub exp: Option<i64>,
    /// The signature, as issued.
    pub sig: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetAvatarRequest {
    /// An upload of the caller's with purpose `avatar`.
    pub upload_id: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BuiltinSticker {
    pub id: String,
    /// What a sticker message carries: `builtin:<pack>/<id>`.
    #[serde(rename = "ref")]
    pub reference: String,
    pub name_zh: String,
    pub name_en: String,
    /// Public, cacheable.
    pub url: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StickerPack {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
    pub stickers: Vec<BuiltinSticker>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StickerPacks {
    pub packs: Vec<StickerPack>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddStickerRequest {
    /// An upload of the caller's with purpose `sticker`.
    pub upload_id: i64,
}

/// A sticker of "my stickers"; a sticker message carries its `upload_id`.
#[derive(Debug, Serialize, ToSchema)]
pub struct MySticker {
    pub upload_id: i64,
    pub content_type: String,
    pub width: Option<i32>,
    pub height: Option<i32>,
    #[serde(flatten)]
    pub urls: UploadUrls,
    pub added_at: DateTime<Utc>,
}

/// The caller's stickers, newest first (at most 200, so one page).
#[derive(Debug, Serialize, ToSchema)]
pub struct MyStickers {
    pub items: Vec<MySticker>,
    /// How many more may be added.
    pub remaining: u64,
}
