//! sea-orm entities, one file a table. The schema itself lives in `backend/migration`.

pub mod refresh_token;
pub mod session;
pub mod user;
