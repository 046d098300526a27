//! Media: where a movie's files are (`layout`), playback grants and file delivery (HLS,
//! public images, the SPA build).
//! The offline pipeline itself (ffmpeg) is the `luojia-media` crate; ingest glue is in
//! `crate::ingest`.

pub mod grant;
pub mod layout;
pub mod serve;
