//! The one storage interface behind uploads: an `object_store::ObjectStore`, a folder on
//! the local disk by default (`LocalFileSystem`) or S3-compatible object storage in
//! production (`AmazonS3Builder`), chosen by `uploads.store`. Object names are generated
//! here (`{kind}/{random}.{ext}`), never taken from the client.

use std::sync::Arc;

use anyhow::Context;
use object_store::ObjectStore;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use secrecy::ExposeSecret;

use crate::config::Settings;

pub type Store = Arc<dyn ObjectStore>;

/// The store the settings choose. The local folder is created if missing.
pub fn from_settings(settings: &Settings) -> anyhow::Result<Store> {
    match settings.uploads.store.as_str() {
        "s3" => {
            let s3 = &settings.uploads.s3;
            let mut b = AmazonS3Builder::new()
                .with_bucket_name(&s3.bucket)
                .with_region(&s3.region)
                .with_allow_http(s3.allow_http);
            if !s3.endpoint.is_empty() {
                b = b.with_endpoint(&s3.endpoint);
            }
            if !s3.access_key_id.is_empty() {
                b = b.with_access_key_id(&s3.access_key_id);
            }
            if let Some(secret) = s3
                .secret_access_key
                .as_ref()
                .filter(|s| !s.expose_secret().is_empty())
            {
                b = b.with_secret_access_key(secret.expose_secret());
            }
            Ok(Arc::new(
                b.build().context("configuring the S3 upload store")?,
            ))
        }
        _ => {
            let dir = settings.uploads_dir();
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            Ok(Arc::new(
                LocalFileSystem::new_with_prefix(&dir)
                    .with_context(|| format!("opening {}", dir.display()))?,
            ))
        }
    }
}

/// A fresh object name: `{folder}/{32 random hex}.{ext}`.
pub fn new_key(folder: &str, ext: &str) -> String {
    format!("{folder}/{}.{ext}", uuid::Uuid::new_v4().simple())
}

/// Whether `name` is a name [`new_key`] could have written (32 hex, a dot, a short
/// extension), so that a path segment can be turned back into a key safely.
pub fn is_generated_name(name: &str) -> bool {
    let Some((stem, ext)) = name.split_once('.') else {
        return false;
    };
    stem.len() == 32
        && stem
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        && (1..=5).contains(&ext.len())
        && ext
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_names_round_trip_and_nothing_else_passes() {
        let key = new_key("avatar", "png");
        let name = key.strip_prefix("avatar/").expect("folder");
        assert!(is_generated_name(name));
        for bad in ["../x.png", "a.png", "", &name[..32], &name.to_uppercase()] {
            assert!(!is_generated_name(bad), "{bad}");
        }
    }

    #[test]
    fn the_s3_store_builds_from_settings() {
        let env: config::Map<String, String> = [
            ("APP_UPLOADS__STORE", "s3"),
            ("APP_UPLOADS__S3__BUCKET", "luojia-uploads"),
            ("APP_UPLOADS__S3__ENDPOINT", "http://127.0.0.1:9000"),
            ("APP_UPLOADS__S3__ALLOW_HTTP", "true"),
            ("APP_UPLOADS__S3__ACCESS_KEY_ID", "minio"),
            ("APP_UPLOADS__S3__SECRET_ACCESS_KEY", "minio-secret"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let settings = Settings::load_from(None, env).expect("settings");
        let store = from_settings(&settings).expect("builds");
        assert!(store.to_string().contains("luojia-uploads"), "{store}");
    }
}
