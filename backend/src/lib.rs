//! Luojia Cinema (珞珈在线影院) backend.
//!
//! Layout: a folder per feature (`auth`, `users`, …), each with `mod.rs` (routes),
//! `handlers.rs` (HTTP only), `service.rs` (rules and queries) and `dto.rs` (bodies).
//! Cross-cutting pieces sit at the top: configuration, errors, state, telemetry.

pub mod auth;
pub mod catalog;
pub mod client_ip;
pub mod comments;
pub mod config;
pub mod conversations;
pub mod danmaku;
pub mod db;
pub mod demo;
pub mod edge;
pub mod entities;
pub mod error;
pub mod friends;
pub mod health;
pub mod history;
pub mod ingest;
pub mod media;
pub mod movies;
pub mod nginx_conf;
pub mod notifications;
pub mod openapi;
pub mod paging;
pub mod ratelimit;
pub mod ratings;
pub mod realtime;
pub mod redis;
pub mod rooms;
pub mod routes;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod uploads;
pub mod users;
pub mod webapp;
