//! sea-orm entities, one file a table. The schema itself lives in `backend/migration`.

pub mod comment;
pub mod comment_like;
pub mod danmaku;
pub mod genre;
pub mod media_asset;
pub mod movie;
pub mod movie_genre;
pub mod movie_tag;
pub mod rating;
pub mod refresh_token;
pub mod room;
pub mod room_ban;
pub mod room_member;
pub mod room_message;
pub mod session;
pub mod upload;
pub mod user;
pub mod user_sticker;
pub mod watch_history;
pub mod watchlist;
