//! Watch history (coalesced progress reports), continue watching, and the watchlist.

pub mod coalescer;
pub mod dto;
pub mod handlers;
pub mod service;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    use handlers::*;
    cfg.service(report_progress)
        .service(list_history)
        .service(continue_watching)
        .service(delete_history_entry)
        .service(clear_history)
        .service(get_history_settings)
        .service(set_history_settings)
        .service(add_to_watchlist)
        .service(remove_from_watchlist)
        .service(list_watchlist);
}
