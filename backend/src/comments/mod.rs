//! Comments on movies: one level of replies, likes, `new` and `hot` orders.

pub fn configure(_cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {}
