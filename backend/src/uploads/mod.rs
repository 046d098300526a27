//! Uploaded media: chat images, voice notes, avatars and stickers (`POST /media`), their
//! storage (`object_store`: local disk or S3-compatible), signed short-lived URLs to fetch
//! them, public avatars, and the sticker packs. (The movies' own files are `media/`.)
//!
//! What other features use: `service::owned_upload` (attach the caller's upload to
//! something), `service::signed` (URLs for the callers allowed to see it: see the
//! service's module docs), `service::public_avatar_url`, `stickers::builtin`.

pub mod domain;
pub mod dto;
pub mod handlers;
mod process;
mod receive;
pub mod service;
pub mod sign;
pub mod stickers;
pub mod store;

use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::Semaphore;

use crate::config::{Settings, UploadsSettings};

/// What the upload handlers share: the store, the URL signer, the caps and the limit on
/// concurrent processing.
#[derive(Clone)]
pub struct Uploads {
    pub store: store::Store,
    pub signer: sign::UploadSigner,
    pub settings: Arc<UploadsSettings>,
    pub tmp_dir: PathBuf,
    gate: Arc<Semaphore>,
}

impl Uploads {
    pub fn new(settings: &Settings, secret: &secrecy::SecretString) -> anyhow::Result<Self> {
        let tmp_dir = settings.uploads_tmp_dir();
        std::fs::create_dir_all(&tmp_dir)
            .map_err(|e| anyhow::anyhow!("creating {}: {e}", tmp_dir.display()))?;
        Ok(Self {
            store: store::from_settings(settings)?,
            signer: sign::UploadSigner::new(secret, settings.uploads.url_ttl_secs),
            gate: Arc::new(Semaphore::new(
                settings.uploads.processing_concurrency.max(1),
            )),
            settings: Arc::new(settings.uploads.clone()),
            tmp_dir,
        })
    }
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(handlers::create_upload)
        .service(handlers::get_upload)
        .service(handlers::get_thumbnail)
        .service(handlers::get_avatar)
        .service(handlers::set_avatar)
        .service(handlers::delete_avatar)
        .service(handlers::list_sticker_packs)
        .service(handlers::get_builtin_sticker)
        .service(handlers::list_my_stickers)
        .service(handlers::add_my_sticker)
        .service(handlers::remove_my_sticker);
}
