//! The client's address, for rate limits. `X-Forwarded-For` is believed only when the
//! peer is a trusted proxy (our nginx), and then only its right-most entry, the one
//! nginx itself appended: anything to its left is whatever the client chose to send.

use actix_web::HttpRequest;

pub fn client_ip(req: &HttpRequest, trusted_proxies: &[String]) -> String {
    let peer = req
        .peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_else(|| "unknown".to_owned());
    if !trusted_proxies.iter().any(|p| p == &peer) {
        return peer;
    }
    req.headers()
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .map(str::trim)
        .filter(|ip| ip.parse::<std::net::IpAddr>().is_ok())
        .map(str::to_owned)
        .unwrap_or(peer)
}

pub fn user_agent(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get(actix_web::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}
