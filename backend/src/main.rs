//! `luojia`: the Luojia Cinema server and its admin commands.

use std::io::{BufRead, Write};
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use luojia::auth::domain::{Email, NewPassword, Username};
use luojia::config::Settings;
use luojia::ingest::{self, IngestJob, IngestOutcome, MovieMeta};
use luojia::startup::Application;
use luojia::users::service as users;
use luojia::{db, demo, openapi, telemetry};

#[derive(Parser)]
#[command(
    name = "luojia",
    version,
    about = "Luojia Cinema (珞珈在线影院) server"
)]
struct Cli {
    /// A TOML settings file (layered over the defaults, under APP_* variables).
    #[arg(long, global = true, env = "APP_CONFIG_FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the OpenAPI document (YAML) to stdout.
    Openapi,
    /// Transcode a video into HLS and add it to the catalog (or update it).
    Ingest {
        /// The source video.
        input: PathBuf,
        #[arg(long)]
        title: Option<String>,
        /// Attach the media to this existing movie (e.g. one created with POST /movies).
        #[arg(long)]
        movie_id: Option<i64>,
        /// A subtitle track, LANG=PATH[=LABEL] (.srt, .vtt or .ass); repeatable.
        #[arg(long = "subtitle", value_name = "LANG=PATH")]
        subtitles: Vec<String>,
        /// Poster image (else a frame of the movie).
        #[arg(long)]
        poster: Option<PathBuf>,
        /// Metadata file (TOML: title, original_title, year, synopsis, director, cast,
        /// genres, tags).
        #[arg(long)]
        meta: Option<PathBuf>,
        /// Transcode again even if this exact source was already ingested.
        #[arg(long)]
        force: bool,
    },
    /// Add the demo catalog (synthetic movies made with ffmpeg); does nothing when present.
    SeedDemo,
    /// Print nginx.conf rendered for a local run (tests, benchmarks, trying nginx out).
    NginxConf {
        /// The repository's nginx.conf.
        #[arg(long, default_value = "nginx.conf")]
        template: PathBuf,
        #[arg(long)]
        listen: u16,
        /// A backend port; repeatable.
        #[arg(long = "backend", required = true)]
        backends: Vec<u16>,
        #[arg(long)]
        frontend: PathBuf,
        #[arg(long)]
        media: PathBuf,
        #[arg(long)]
        public: PathBuf,
        /// Directory for nginx's pid file, logs and cache.
        #[arg(long)]
        runtime_dir: PathBuf,
        #[arg(long, default_value = "root")]
        user: String,
    },
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create an administrator, or make an existing user one. The password is read from
    /// LUOJIA_ADMIN_PASSWORD or standard input.
    CreateAdmin {
        #[arg(long)]
        username: String,
        #[arg(long)]
        email: String,
    },
}

/// mimalloc instead of glibc's malloc: the fan-out allocates and frees a small buffer per
/// delivery on every worker thread (see docs/benchmarks.md, realtime). Its 2.x line (the
/// `v2` feature), with freed pages given back at once (`purge_freed_memory_at_once`).
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc gives a freed page back to the system only when the thread that owns it calls
/// the allocator again after `MIMALLOC_PURGE_DELAY` (10 ms): worker threads that go quiet
/// after a crowd leaves a room keep the crowd's memory (the benchmark saw 20-34 % more
/// than before they joined, and join waves measured 40-55 KiB per member where 18-33 were
/// live). With the delay at 0 the memory goes back as it is freed, for no measurable CPU
/// per delivery. mimalloc reads the option from the environment when the process starts,
/// so the server runs itself once more with it set, unless the operator chose a value.
#[cfg(feature = "mimalloc")]
fn purge_freed_memory_at_once() {
    use std::os::unix::process::CommandExt;
    const VAR: &str = "MIMALLOC_PURGE_DELAY";
    if std::env::var_os(VAR).is_some() {
        return;
    }
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let err = std::process::Command::new(exe)
        .args(std::env::args_os().skip(1))
        .env(VAR, "0")
        .exec();
    eprintln!("warning: could not run again with {VAR}=0 ({err}); freed memory is kept longer");
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    #[cfg(feature = "mimalloc")]
    if matches!(cli.command, None | Some(Command::Serve)) {
        purge_freed_memory_at_once();
    }
    match &cli.command {
        Some(Command::Openapi) => {
            print!("{}", openapi::yaml()?);
            return Ok(());
        }
        Some(Command::NginxConf {
            template,
            listen,
            backends,
            frontend,
            media,
            public,
            runtime_dir,
            user,
        }) => {
            let conf = std::fs::read_to_string(template)
                .with_context(|| format!("reading {}", template.display()))?;
            let local = luojia::nginx_conf::Local {
                listen_port: *listen,
                backends,
                frontend,
                media,
                public,
                runtime_dir,
                user,
            };
            print!("{}", luojia::nginx_conf::render(&conf, &local));
            return Ok(());
        }
        _ => {}
    }
    let settings = Settings::load(cli.config.as_deref())?;
    telemetry::init(settings.log_format(), &settings.log.level);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => actix_web::rt::System::new().block_on(serve(settings)),
        Command::Migrate => rt.block_on(async {
            let conn = db::connect(&settings).await?;
            db::migrate(&conn).await?;
            println!("migrations applied");
            Ok(())
        }),
        Command::User {
            command: UserCommand::CreateAdmin { username, email },
        } => rt.block_on(create_admin(settings, username, email)),
        Command::Ingest {
            input,
            title,
            movie_id,
            subtitles,
            poster,
            meta,
            force,
        } => rt.block_on(async {
            let mut meta = match meta {
                Some(path) => MovieMeta::load(&path)?,
                None => MovieMeta::default(),
            };
            if title.is_some() {
                meta.title = title;
            }
            let subtitles = subtitles
                .iter()
                .map(|s| ingest::parse_subtitle_arg(s))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let conn = db::connect(&settings).await?;
            db::migrate(&conn).await?;
            let label = meta.title.clone().unwrap_or_default();
            let job = IngestJob {
                input,
                meta,
                movie_id,
                subtitles,
                poster,
                force,
            };
            match ingest::ingest(&settings, &conn, job, ingest::progress_bar(label)).await? {
                IngestOutcome::Ingested(id) => println!("movie {id} is ready"),
                IngestOutcome::Unchanged(id) => {
                    println!(
                        "movie {id} already has this source; nothing to do (use --force to redo)"
                    )
                }
            }
            Ok(())
        }),
        Command::SeedDemo => rt.block_on(async {
            let conn = db::connect(&settings).await?;
            db::migrate(&conn).await?;
            demo::seed(&settings, &conn).await
        }),
        Command::Openapi | Command::NginxConf { .. } => Ok(()),
    }
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let (host, mode) = (settings.server.host.clone(), settings.mode);
    let app = Application::build(settings).await?;
    tracing::info!(
        ?mode,
        "Luojia Cinema listening on http://{host}:{} (API docs at /docs)",
        app.port()
    );
    app.run_until_stopped().await?;
    tracing::info!("stopped");
    Ok(())
}

fn read_password() -> anyhow::Result<String> {
    if let Ok(p) = std::env::var("LUOJIA_ADMIN_PASSWORD") {
        return Ok(p);
    }
    eprint!("password: ");
    std::io::stderr().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

async fn create_admin(settings: Settings, username: String, email: String) -> anyhow::Result<()> {
    let problem = |e: luojia::error::AppError| anyhow::anyhow!(e.detail);
    let username = Username::parse(&username).map_err(problem)?;
    let email = Email::parse(&email).map_err(problem)?;
    let conn = db::connect(&settings).await?;
    db::migrate(&conn).await?;
    if users::promote_to_admin(&conn, &username)
        .await
        .map_err(problem)?
    {
        println!("{} is now an administrator", username.as_str());
        return Ok(());
    }
    let password = NewPassword::parse(read_password()?, "password").map_err(problem)?;
    let created = users::create_admin(
        &conn,
        settings.auth.bcrypt_cost,
        &username,
        &email,
        password,
    )
    .await
    .map_err(problem)?;
    println!(
        "administrator {} created (id {})",
        username.as_str(),
        created.id
    );
    Ok(())
}
