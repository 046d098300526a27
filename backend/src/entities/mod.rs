//! sea-orm entities, one file a table. The schema itself lives in `backend/migration`.

pub mod genre;
pub mod media_asset;
pub mod movie;
pub mod movie_genre;
pub mod movie_tag;
pub mod refresh_token;
pub mod session;
pub mod user;
