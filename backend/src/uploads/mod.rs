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

/// Uploads deleted per statement batch by the sweeper.
const SWEEP_BATCH: u64 = 100;

/// Every `sweep_interval_secs` (and once at start), delete the uploads never attached to
/// anything within `unattached_keep_secs` of being made: a picture or voice note chosen and
/// never sent. Each instance sweeps; a row is deleted once (`service::sweep_unattached`).
pub fn start_sweeper(db: sea_orm::DatabaseConnection, uploads: &Uploads) {
    let store = uploads.store.clone();
    let keep = chrono::Duration::seconds(uploads.settings.unattached_keep_secs.max(0));
    let every = std::time::Duration::from_secs(uploads.settings.sweep_interval_secs.max(1));
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let cutoff = chrono::Utc::now() - keep;
            let mut gone = 0;
            loop {
                match service::sweep_unattached(&db, &store, cutoff, SWEEP_BATCH).await {
                    Ok(n) => {
                        gone += n;
                        if n < SWEEP_BATCH {
                            break;
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "sweeping unattached uploads");
                        break;
                    }
                }
            }
            if gone > 0 {
                tracing::info!(uploads = gone, "unattached uploads swept");
            }
        }
    });
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
