//! Ingest: turn a source video into a playable catalog entry.
//!
//! Order of work, chosen so that a failure never leaves a half-registered movie:
//! 1. check ffmpeg and the inputs, probe the source (a missing file or a non-video is
//!    refused before anything is written);
//! 2. create the movie as `processing` (or reuse the one named by `--movie-id`, or the one
//!    with the same title and year: re-runs are idempotent);
//! 3. transcode into a fresh scratch folder beside the media folder;
//! 4. swap the folder in, then register every asset and mark the movie `ready` in one
//!    transaction.
//!
//! Any failure after step 2 removes the scratch output and marks the movie `failed` with
//! the reason; its previous media (if it had any) stays untouched.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow, bail};
use chrono::Utc;
use luojia_media::{Progress, Stage, SubtitleInput, TranscodeOutput, TranscodeRequest};
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::catalog::AssetKind;
use crate::config::Settings;
use crate::entities::{media_asset, movie};
use crate::media::layout;
use crate::movies::dto::{CreateMovieRequest, MovieStatus, UpdateMovieRequest};
use crate::movies::service as movies;

/// Metadata file (`--meta movie.toml`); every field optional, the CLI's `--title` wins.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MovieMeta {
    pub title: Option<String>,
    pub original_title: Option<String>,
    pub year: Option<i32>,
    pub synopsis: Option<String>,
    pub director: Option<String>,
    #[serde(default)]
    pub cast: Vec<String>,
    #[serde(default)]
    pub genres: Vec<String>,
    #[serde(default)]
    pub tags: Vec<String>,
}

impl MovieMeta {
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("invalid metadata file {}", path.display()))
    }
}

pub struct IngestJob {
    pub input: PathBuf,
    pub meta: MovieMeta,
    pub movie_id: Option<i64>,
    pub subtitles: Vec<SubtitleInput>,
    pub poster: Option<PathBuf>,
    /// Transcode again even when the same source was already ingested.
    pub force: bool,
}

#[derive(Debug, PartialEq, Eq)]
pub enum IngestOutcome {
    Ingested(i64),
    /// Same source, already ready: nothing done.
    Unchanged(i64),
}

/// Parse `zh-CN=path.srt` (an optional label after a second `=`: `zh-CN=path.srt=简体中文`).
pub fn parse_subtitle_arg(arg: &str) -> anyhow::Result<SubtitleInput> {
    let (lang, rest) = arg
        .split_once('=')
        .ok_or_else(|| anyhow!("--subtitle wants LANG=PATH, e.g. zh-CN=movie.zh.srt"))?;
    let (path, label) = match rest.split_once('=') {
        Some((p, l)) => (p, l.to_owned()),
        None => (rest, default_label(lang)),
    };
    Ok(SubtitleInput {
        lang: lang.to_owned(),
        label,
        path: PathBuf::from(path),
    })
}

fn default_label(lang: &str) -> String {
    match lang {
        "zh-CN" | "zh-Hans" | "zh" => "简体中文".into(),
        "zh-TW" | "zh-Hant" => "繁體中文".into(),
        "en" | "en-US" | "en-GB" => "English".into(),
        "ja" => "日本語".into(),
        other => other.to_owned(),
    }
}

/// A content fingerprint of every input: size plus the first and last MiB of each file.
/// Cheap on multi-gigabyte sources, and any re-encode changes it.
fn fingerprint(job: &IngestJob) -> anyhow::Result<String> {
    let mut h = Sha256::new();
    let mut files = vec![job.input.clone()];
    files.extend(job.subtitles.iter().map(|s| s.path.clone()));
    files.extend(job.poster.clone());
    for f in files {
        let mut file =
            std::fs::File::open(&f).with_context(|| format!("opening {}", f.display()))?;
        let len = file.metadata()?.len();
        h.update(len.to_le_bytes());
        let mut buf = vec![0u8; 1 << 20];
        let n = file.read(&mut buf)?;
        h.update(&buf[..n]);
        if len > (2 << 20) {
            use std::io::Seek;
            file.seek(std::io::SeekFrom::End(-(1 << 20)))?;
            let n = file.read(&mut buf)?;
            h.update(&buf[..n]);
        }
    }
    for s in &job.subtitles {
        h.update(s.lang.as_bytes());
        h.update(s.label.as_bytes());
    }
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

async fn find_existing(
    db: &DatabaseConnection,
    job: &IngestJob,
    title: &str,
) -> anyhow::Result<Option<movie::Model>> {
    if let Some(id) = job.movie_id {
        return movie::Entity::find_by_id(id)
            .one(db)
            .await?
            .map(Some)
            .ok_or_else(|| anyhow!("no movie with id {id}"));
    }
    let mut q = movie::Entity::find().filter(movie::Column::Title.eq(title));
    q = match job.meta.year {
        Some(y) => q.filter(movie::Column::Year.eq(y)),
        None => q.filter(movie::Column::Year.is_null()),
    };
    Ok(q.one(db).await?)
}

async fn set_status(
    db: &DatabaseConnection,
    id: i64,
    status: MovieStatus,
    detail: Option<String>,
) -> anyhow::Result<()> {
    movie::Entity::update_many()
        .col_expr(
            movie::Column::Status,
            sea_orm::sea_query::Expr::value(status),
        )
        .col_expr(
            movie::Column::StatusDetail,
            sea_orm::sea_query::Expr::value(
                detail.map(|d| d.chars().take(1000).collect::<String>()),
            ),
        )
        .col_expr(
            movie::Column::UpdatedAt,
            sea_orm::sea_query::Expr::value(Utc::now()),
        )
        .filter(movie::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Run one ingest. `progress` receives the pipeline's progress (for a bar).
pub async fn ingest(
    settings: &Settings,
    db: &DatabaseConnection,
    job: IngestJob,
    progress: Box<dyn FnMut(Progress) + Send>,
) -> anyhow::Result<IngestOutcome> {
    luojia_media::ffmpeg_available()?;
    if !job.input.is_file() {
        bail!("input file does not exist: {}", job.input.display());
    }
    for s in &job.subtitles {
        if !s.path.is_file() {
            bail!("subtitle file does not exist: {}", s.path.display());
        }
    }
    if let Some(p) = &job.poster
        && !p.is_file()
    {
        bail!("poster image does not exist: {}", p.display());
    }
    let title = job
        .meta
        .title
        .clone()
        .ok_or_else(|| anyhow!("a title is required (--title or title in --meta)"))?;
    let input = job.input.clone();
    let probe = tokio::task::spawn_blocking(move || luojia_media::probe(&input)).await??;
    let print = fingerprint(&job)?;

    let existing = find_existing(db, &job, &title).await?;
    if let Some(m) = &existing
        && !job.force
        && m.status == MovieStatus::Ready
        && m.source_fingerprint.as_deref() == Some(print.as_str())
    {
        return Ok(IngestOutcome::Unchanged(m.id));
    }
    let meta = job.meta.clone();
    let id = match existing {
        Some(m) => {
            movies::update(
                db,
                m.id,
                UpdateMovieRequest {
                    title: Some(title.clone()),
                    original_title: meta.original_title,
                    year: meta.year,
                    synopsis: meta.synopsis,
                    director: meta.director,
                    cast: (!meta.cast.is_empty()).then_some(meta.cast),
                    genres: (!meta.genres.is_empty()).then_some(meta.genres),
                    tags: (!meta.tags.is_empty()).then_some(meta.tags),
                },
            )
            .await
            .map_err(|e| anyhow!(e.detail))?;
            m.id
        }
        None => {
            movies::create(
                db,
                CreateMovieRequest {
                    title: title.clone(),
                    original_title: meta.original_title,
                    year: meta.year,
                    synopsis: meta.synopsis.unwrap_or_default(),
                    director: meta.director,
                    cast: meta.cast,
                    genres: meta.genres,
                    tags: meta.tags,
                    duration_ms: Some((probe.duration_secs * 1000.0) as i64),
                },
            )
            .await
            .map_err(|e| anyhow!(e.detail))?
            .id
        }
    };

    match transcode_and_register(settings, db, id, &job, &print, progress).await {
        Ok(()) => Ok(IngestOutcome::Ingested(id)),
        Err(e) => {
            let reason = format!("{e:#}");
            if let Err(e2) = set_status(db, id, MovieStatus::Failed, Some(reason.clone())).await {
                tracing::error!(error = %e2, "could not mark movie {id} failed");
            }
            Err(e.context(format!(
                "ingest of movie {id} failed; it is marked `failed`"
            )))
        }
    }
}

async fn transcode_and_register(
    settings: &Settings,
    db: &DatabaseConnection,
    id: i64,
    job: &IngestJob,
    print: &str,
    progress: Box<dyn FnMut(Progress) + Send>,
) -> anyhow::Result<()> {
    let media_root = settings.media_dir();
    std::fs::create_dir_all(&media_root)
        .with_context(|| format!("creating {}", media_root.display()))?;
    let scratch = media_root.join(format!(".ingest-{id}-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&scratch)?;
    set_status(db, id, MovieStatus::Processing, None).await?;

    let (input, subs, poster, out) = (
        job.input.clone(),
        job.subtitles.clone(),
        job.poster.clone(),
        scratch.clone(),
    );
    let result = tokio::task::spawn_blocking(move || {
        let mut progress = progress;
        let req = TranscodeRequest {
            input: &input,
            out_dir: &out,
            subtitles: &subs,
            poster: poster.as_deref(),
        };
        luojia_media::transcode(&req, &mut *progress)
    })
    .await;
    let output = match result {
        Ok(Ok(o)) => o,
        Ok(Err(e)) => {
            let _ = std::fs::remove_dir_all(&scratch);
            return Err(e.into());
        }
        Err(e) => {
            let _ = std::fs::remove_dir_all(&scratch);
            return Err(anyhow!("transcoding task failed: {e}"));
        }
    };
    if let Err(e) = publish(settings, db, id, &scratch, &output, print).await {
        let _ = std::fs::remove_dir_all(&scratch);
        return Err(e);
    }
    Ok(())
}

/// Swap the scratch folder in, copy the public files, and register everything.
async fn publish(
    settings: &Settings,
    db: &DatabaseConnection,
    id: i64,
    scratch: &Path,
    out: &TranscodeOutput,
    print: &str,
) -> anyhow::Result<()> {
    let final_dir = layout::protected_dir(settings, id);
    let public = layout::public_dir(settings, id);
    std::fs::create_dir_all(&public).with_context(|| format!("creating {}", public.display()))?;
    std::fs::copy(scratch.join(&out.poster), public.join("poster.jpg"))
        .context("publishing the poster")?;
    std::fs::copy(scratch.join(&out.preview), public.join("preview.mp4"))
        .context("publishing the preview")?;
    if final_dir.exists() {
        let old = settings
            .media_dir()
            .join(format!(".old-{id}-{}", uuid::Uuid::new_v4().simple()));
        std::fs::rename(&final_dir, &old).context("moving the previous media aside")?;
        let _ = std::fs::remove_dir_all(&old);
    }
    std::fs::rename(scratch, &final_dir).context("moving the new media in place")?;

    let now = Utc::now();
    let rel = |p: &Path| p.to_string_lossy().replace('\\', "/");
    let txn = crate::db::begin_write(db).await?;
    media_asset::Entity::delete_many()
        .filter(media_asset::Column::MovieId.eq(id))
        .exec(&txn)
        .await?;
    let mut assets: Vec<media_asset::ActiveModel> = Vec::new();
    let asset = |kind: AssetKind, path: String| media_asset::ActiveModel {
        movie_id: Set(id),
        kind: Set(kind),
        path: Set(path),
        created_at: Set(now),
        ..Default::default()
    };
    for r in &out.renditions {
        let mut a = asset(AssetKind::Rendition, format!("{}/index.m3u8", r.name));
        a.name = Set(Some(r.name.clone()));
        a.width = Set(Some(r.width as i32));
        a.height = Set(Some(r.height as i32));
        a.bandwidth = Set(Some(r.bandwidth as i64));
        assets.push(a);
    }
    for s in &out.subtitles {
        let mut a = asset(AssetKind::Subtitle, rel(&s.path));
        a.name = Set(Some(s.label.clone()));
        a.lang = Set(Some(s.lang.clone()));
        assets.push(a);
    }
    assets.push(asset(AssetKind::Master, rel(&out.master_playlist)));
    assets.push(asset(AssetKind::Sprite, rel(&out.sprite)));
    assets.push(asset(AssetKind::Thumbnails, rel(&out.sprite_vtt)));
    assets.push(asset(AssetKind::Poster, "poster.jpg".into()));
    assets.push(asset(AssetKind::Preview, "preview.mp4".into()));
    for a in assets {
        a.insert(&txn).await?;
    }
    let current = movie::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| anyhow!("movie {id} disappeared during ingest"))?;
    let mut row: movie::ActiveModel = current.into();
    row.duration_ms = Set(Some((out.probe.duration_secs * 1000.0).round() as i64));
    row.poster_path = Set(Some("poster.jpg".into()));
    row.preview_path = Set(Some("preview.mp4".into()));
    row.status = Set(MovieStatus::Ready);
    row.status_detail = Set(None);
    row.source_fingerprint = Set(Some(print.to_owned()));
    row.updated_at = Set(now);
    row.update(&txn).await?;
    txn.commit().await?;
    Ok(())
}

/// A terminal progress bar for `luojia ingest` (plain lines when not a terminal).
pub fn progress_bar(label: String) -> Box<dyn FnMut(Progress) + Send> {
    let bar = indicatif::ProgressBar::new(1000);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{prefix} [{bar:40.cyan/blue}] {percent:>3}% {msg} (eta {eta})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.set_prefix(label);
    let tty = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let mut last_stage = String::new();
    Box::new(move |p: Progress| {
        let stage = match &p.stage {
            Stage::Probe => "probing".to_owned(),
            Stage::Renditions { names } => format!("encoding {}", names.join(" + ")),
            Stage::Subtitles => "subtitles".to_owned(),
            Stage::Poster => "poster".to_owned(),
            Stage::Sprite => "thumbnails".to_owned(),
            Stage::Preview => "preview clip".to_owned(),
            Stage::Done => "done".to_owned(),
        };
        if tty {
            bar.set_message(stage.clone());
            bar.set_position((p.fraction.clamp(0.0, 1.0) * 1000.0) as u64);
            if matches!(p.stage, Stage::Done) {
                bar.finish();
            }
        } else if stage != last_stage {
            eprintln!("  {:>3.0}% {stage}", p.fraction * 100.0);
        }
        last_stage = stage;
    })
}
