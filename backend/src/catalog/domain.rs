//! A movie's stored enums.

crate::db::stored_enum! {
    /// Where a movie is in its life. Stored in `movies.status`.
    pub enum MovieStatus {
        /// Being transcoded; not visible to users.
        Processing,
        /// Playable.
        Ready,
        /// Ingest failed; see `status_detail`.
        Failed,
    }
}

crate::db::stored_enum! {
    /// What one file of a movie's media folder is. Stored in `media_assets.kind`.
    pub enum AssetKind {
        /// The HLS master playlist.
        Master,
        /// One quality's HLS media playlist.
        Rendition,
        /// A WebVTT subtitle track.
        Subtitle,
        /// The seek-preview sprite sheet.
        Sprite,
        /// The WebVTT that maps times to sprite tiles.
        Thumbnails,
        Poster,
        /// The short muted clip shown on hover.
        Preview,
    }
}
