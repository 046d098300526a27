//! Building and running the server. `Application::build` binds first (port 0 works), so
//! tests start the real server on a free port and learn it from `port()`.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::{App, HttpServer, middleware, web};
use anyhow::Context;
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::tokens::JwtKeys;
use crate::config::Settings;
use crate::media::grant::GrantSigner;
use crate::ratelimit::RateLimiter;
use crate::state::AppState;
use crate::{db, edge, error, routes, telemetry};

/// Connect everything the handlers need; migrate when configured to.
pub async fn build_state(settings: Settings) -> anyhow::Result<AppState> {
    let secret = settings.resolve_jwt_secret()?;
    let db = db::connect(&settings).await?;
    if settings.database.migrate_on_start {
        db::migrate(&db).await?;
    }
    db::spawn_wal_checkpoints(&db);
    let redis = match settings.redis_url() {
        Some(_) => Some(crate::redis::pool(&settings.redis)?),
        None => None,
    };
    let timeout = std::time::Duration::from_millis(settings.redis.timeout_ms);
    let limiter = RateLimiter::new(
        redis.clone().map(|p| (p, timeout)),
        &settings.redis.key_prefix,
    );
    let passwords = crate::auth::password::Passwords::new(settings.auth.bcrypt_cost)
        .await
        .map_err(|e| anyhow::anyhow!(e.detail))?;
    let auth_cache = crate::auth::cache::AuthCache::new(std::time::Duration::from_secs(
        settings.auth.session_cache_ttl_secs,
    ));
    if let Some(pool) = &redis {
        auth_cache.connect_redis(
            pool.clone(),
            settings.redis.url.clone(),
            &settings.redis.key_prefix,
        );
    }
    let realtime = crate::realtime::Realtime::start(
        redis.clone().map(|p| (p, settings.redis.url.clone())),
        &settings.redis.key_prefix,
        timeout,
        crate::realtime::Handlers {
            rooms: Arc::new(crate::rooms::live::SocketRooms),
            conversations: Arc::new(crate::conversations::live::SocketConversations),
        },
    );
    let presence = crate::friends::presence::Presence::new(
        redis
            .clone()
            .map(|p| (p, settings.redis.key_prefix.clone())),
        timeout,
        settings.realtime.presence_ttl_ms,
    );
    let presence_heartbeat =
        std::time::Duration::from_millis(settings.realtime.presence_heartbeat_ms);
    let uploads = crate::uploads::Uploads::new(&settings, &secret)?;
    let upload_signer = uploads.signer.clone();
    let state = AppState {
        uploads,
        jwt: Arc::new(JwtKeys::new(&secret, &settings.auth)),
        grants: GrantSigner::new(&secret, settings.media.grant_ttl_secs),
        history: crate::history::coalescer::Coalescer::start(
            db.clone(),
            std::time::Duration::from_millis(settings.history.flush_interval_ms.max(10)),
        ),
        movie_durations: Default::default(),
        chat: crate::rooms::pipeline::ChatPipeline::new(db.clone(), realtime.clone()),
        messages: crate::conversations::pipeline::MessageWriter::new(
            db.clone(),
            realtime.clone(),
            upload_signer,
        ),
        realtime,
        catalog_cache: crate::movies::cache::CatalogCache::new(std::time::Duration::from_secs(
            settings.media.catalog_cache_ttl_secs,
        )),
        auth_cache,
        settings: Arc::new(settings),
        db,
        redis,
        limiter,
        passwords,
        presence,
    };
    crate::uploads::start_sweeper(state.db.clone(), &state.uploads);
    if let Some(gates) = state.realtime.take_gate_events() {
        tokio::spawn(crate::rooms::live::run_gates(state.clone(), gates));
    }
    if let Some(events) = state.realtime.take_user_events() {
        crate::friends::presence::start(
            state.db.clone(),
            state.realtime.clone(),
            state.presence.clone(),
            events,
            presence_heartbeat,
        );
    }
    Ok(state)
}

pub struct Application {
    port: u16,
    server: Server,
    db: sea_orm::DatabaseConnection,
    realtime: crate::realtime::Realtime,
    history: crate::history::coalescer::Coalescer,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let addr = (settings.server.host.clone(), settings.server.port);
        let listener =
            TcpListener::bind(&addr).with_context(|| format!("binding {}:{}", addr.0, addr.1))?;
        let port = listener.local_addr()?.port();
        let state = build_state(settings).await?;
        let db = state.db.clone();
        let realtime = state.realtime.clone();
        let history = state.history.clone();
        let server = run(listener, state)?;
        Ok(Self {
            port,
            server,
            db,
            realtime,
            history,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's database pool (tests use it to arrange data).
    pub fn db(&self) -> sea_orm::DatabaseConnection {
        self.db.clone()
    }

    /// Runs until SIGTERM/SIGINT. Graceful: WebSocket clients are told to reconnect
    /// elsewhere (close 1001), the listener stops accepting, in-flight requests finish.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let handle = self.server.handle();
        let realtime = self.realtime.clone();
        tokio::spawn(async move {
            wait_for_signal().await;
            tracing::info!("shutting down");
            realtime.shut_down();
            // Let the sessions write their close frames before the workers stop.
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            handle.stop(true).await;
        });
        let result = self.server.await;
        // Acknowledged progress reports still in memory are written before exiting.
        match self.history.flush().await {
            Ok(n) if n > 0 => tracing::info!(rows = n, "history flushed"),
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "history flush at shutdown failed"),
        }
        result
    }
}

fn run(listener: TcpListener, state: AppState) -> anyhow::Result<Server> {
    let server_settings = state.settings.server.clone();
    let data = web::Data::new(state);
    let body_limit = server_settings.body_limit;
    let serve_files = data.settings.media.serve_files;
    let write_timeout = data.settings.realtime.write_timeout_ms;
    let mut server = HttpServer::new(move || {
        let app = App::new()
            .app_data(data.clone())
            .app_data(
                web::JsonConfig::default()
                    .limit(body_limit)
                    .error_handler(error::json_error),
            )
            .app_data(web::PayloadConfig::new(body_limit))
            .app_data(web::QueryConfig::default().error_handler(error::query_error))
            .app_data(web::PathConfig::default().error_handler(error::path_error));
        let (app, api) = routes::documented(app);
        let app = routes::undocumented(
            app.service(SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", api)),
            serve_files,
        );
        app.default_service(web::to(edge::fallback))
            .wrap(middleware::from_fn(edge::reject_control_characters))
            .wrap(middleware::from_fn(telemetry::request_id))
    })
    .on_connect(move |conn, _| set_write_timeout(conn, write_timeout))
    // How much actix gathers from a response body before writing. Its write buffer starts
    // at 8 KiB and keeps its largest size for the connection's life (up to 128 KiB,
    // whatever this says): with the default, a WebSocket that once received a burst pinned
    // ~100 KiB until it closed. Gathering up to 4 KiB from bodies that hand over at most
    // 4 KiB at a time (`realtime::outbound::PIECE`) keeps it at 8 KiB.
    .h1_write_buffer_size(WRITE_BUFFER)
    .shutdown_timeout(server_settings.shutdown_timeout_secs)
    .disable_signals()
    .listen(listener)?;
    if server_settings.workers > 0 {
        server = server.workers(server_settings.workers);
    }
    Ok(server.run())
}

/// See `h1_write_buffer_size` above.
const WRITE_BUFFER: usize = crate::realtime::outbound::PIECE;

/// `TCP_USER_TIMEOUT` on an accepted socket: data that a client does not take (a
/// WebSocket reader that stopped reading, behind a zero window) for `ms` drops the
/// connection in the kernel, instead of holding it until TCP gives up after many minutes.
/// actix has no write timeout of its own.
fn set_write_timeout(conn: &dyn std::any::Any, ms: u64) {
    if ms == 0 {
        return;
    }
    if let Some(sock) = conn.downcast_ref::<actix_web::rt::net::TcpStream>() {
        let timeout = Some(std::time::Duration::from_millis(ms));
        if let Err(e) = socket2::SockRef::from(sock).set_tcp_user_timeout(timeout) {
            tracing::debug!(error = %e, "TCP_USER_TIMEOUT not set");
        }
    }
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) {
            (Ok(mut term), Ok(mut int)) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = int.recv() => {}
                }
            }
            _ => std::future::pending::<()>().await,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
