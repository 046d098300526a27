//! Ingest glue: registering transcoded movies in the catalog (filled in with the
//! `luojia-media` pipeline).

use crate::config::Settings;

/// Remove a movie's protected media folder and its public files. Best effort: a missing
/// folder is fine, other failures are logged.
pub async fn remove_movie_files(settings: &Settings, movie_id: i64) {
    for dir in [
        settings.media_dir().join(movie_id.to_string()),
        settings
            .public_dir()
            .join("movies")
            .join(movie_id.to_string()),
    ] {
        match tokio::fs::remove_dir_all(&dir).await {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => tracing::warn!(dir = %dir.display(), error = %e, "could not remove media"),
        }
    }
}
