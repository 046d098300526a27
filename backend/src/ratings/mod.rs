//! Ratings: one 1-to-10 score per user per movie; the movie's average, count and damped
//! (Bayesian) score follow.

pub fn configure(_cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {}
