//! The API suite: the real server on a free port with a database of its own per test.
//! Each test listed in `on_all_backends!` runs on SQLite (in-process everything), and on
//! MariaDB and PostgreSQL with Redis when `TEST_MYSQL_URL`, `TEST_POSTGRES_URL` and
//! `TEST_REDIS_URL` are set; without them those variants are ignored, not passed
//! (`backend/build.rs`). `make test` sets them all and refuses to skip.

#[macro_use]
mod helpers;

mod auth;
mod comments;
mod conventions;
mod conversations;
mod danmaku;
mod delivery;
mod friends;
mod grants;
mod health;
mod history;
mod hygiene;
mod movies;
mod multi;
mod nginx;
mod notifications;
mod openapi;
mod process;
mod realtime;
mod rooms;
mod rooms_live;
mod s3;
mod sessions;
mod tokens;
mod uploads;
mod users;
mod webapp;
mod ws;
