//! `luojia`: the Luojia Cinema server and its admin commands.

use std::io::{BufRead, Write};
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use luojia::auth::domain::{Email, NewPassword, Username};
use luojia::auth::service::{ROLE_ADMIN, insert_user};
use luojia::config::Settings;
use luojia::entities::user;
use luojia::startup::Application;
use luojia::{db, openapi, telemetry};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

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

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if let Some(Command::Openapi) = cli.command {
        print!("{}", openapi::yaml()?);
        return Ok(());
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
        Command::Openapi => Ok(()),
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
    let username = Username::parse(&username).map_err(|e| anyhow::anyhow!(e.detail))?;
    let email = Email::parse(&email).map_err(|e| anyhow::anyhow!(e.detail))?;
    let conn = db::connect(&settings).await?;
    db::migrate(&conn).await?;
    if let Some(existing) = user::Entity::find()
        .filter(user::Column::Username.eq(username.as_str()))
        .one(&conn)
        .await?
    {
        let mut row: user::ActiveModel = existing.into();
        row.role = Set(ROLE_ADMIN.to_owned());
        row.update(&conn).await?;
        println!("{} is now an administrator", username.as_str());
        return Ok(());
    }
    let password =
        NewPassword::parse(read_password()?, "password").map_err(|e| anyhow::anyhow!(e.detail))?;
    let cost = settings.auth.bcrypt_cost;
    let hash = tokio::task::spawn_blocking(move || bcrypt::hash(password.into_inner(), cost))
        .await?
        .context("hashing the password")?;
    let created = insert_user(&conn, &username, &email, hash, ROLE_ADMIN)
        .await
        .map_err(|e| anyhow::anyhow!(e.detail))?;
    println!(
        "administrator {} created (id {})",
        username.as_str(),
        created.id
    );
    Ok(())
}
