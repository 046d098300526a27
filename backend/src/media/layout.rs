//! Where a movie's files are: the one module that knows the layout on disk and under
//! `/static`. Ingest writes there, delivery serves from there, deleting a movie removes
//! them.
//!
//! - `{media_dir}/{movie_id}/`: the protected HLS folder (playlists, segments, subtitles,
//!   sprites), served only with a playback grant;
//! - `{public_dir}/movies/{movie_id}/`: poster, backdrop and preview clip, public at
//!   `/static/movies/{movie_id}/{file}`.

use std::path::PathBuf;

use crate::config::Settings;

/// A movie's protected HLS folder.
pub fn protected_dir(settings: &Settings, movie_id: i64) -> PathBuf {
    settings.media_dir().join(movie_id.to_string())
}

/// A movie's public files (poster, backdrop, preview).
pub fn public_dir(settings: &Settings, movie_id: i64) -> PathBuf {
    settings
        .public_dir()
        .join("movies")
        .join(movie_id.to_string())
}

/// The public URL of a file in [`public_dir`].
pub fn public_url(movie_id: i64, file: Option<&str>) -> Option<String> {
    file.map(|f| format!("/static/movies/{movie_id}/{f}"))
}

/// Remove a movie's protected folder and its public files. Best effort: a missing
/// folder is fine, other failures are logged.
pub async fn remove(settings: &Settings, movie_id: i64) {
    for dir in [
        protected_dir(settings, movie_id),
        public_dir(settings, movie_id),
    ] {
        match tokio::fs::remove_dir_all(&dir).await {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => tracing::warn!(dir = %dir.display(), error = %e, "could not remove media"),
        }
    }
}
