//! From a source file to a stream a real HLS client plays through nginx: ingest with
//! ffmpeg, then ffprobe/ffmpeg read the master playlist through the production
//! `nginx.conf`, and every forged, expired or traversing URL is refused.

use std::io::{Read, Write};
use std::path::Path;
use std::process::Command;

use luojia::ingest::{IngestJob, IngestOutcome, MovieMeta, ingest};
use luojia_media::{SubtitleInput, SynthSpec};
use reqwest::StatusCode;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::Value;

use crate::helpers::{Backend, JWT_SECRET, TestApp, expect_status, spawn_app};
use crate::nginx::{self, Roots};

on_all_backends!(
    ingest_registers_a_playable_movie_once,
    bad_ingests_leave_nothing_half_registered
);

/// ffmpeg present, or skip (refused under LUOJIA_REQUIRE_ALL_BACKENDS=1).
fn ffmpeg_or_skip() -> bool {
    if luojia_media::ffmpeg_available().is_ok() {
        return true;
    }
    assert!(
        std::env::var("LUOJIA_REQUIRE_ALL_BACKENDS").as_deref() != Ok("1"),
        "ffmpeg is not installed but LUOJIA_REQUIRE_ALL_BACKENDS=1"
    );
    eprintln!("skipping: ffmpeg not installed");
    false
}

fn quiet() -> Box<dyn FnMut(luojia_media::Progress) + Send> {
    Box::new(|_| {})
}

/// A tiny source (6 s, 320x180) with two subtitle languages.
fn make_source(dir: &Path) -> (std::path::PathBuf, Vec<SubtitleInput>) {
    let video = dir.join("src.mp4");
    luojia_media::synth_source(
        &video,
        &SynthSpec {
            duration_secs: 6,
            width: 320,
            height: 180,
            title: "测试 Test".into(),
            hue: 30,
        },
    )
    .expect("synth");
    let mut subs = Vec::new();
    for (lang, label, text) in [
        ("zh-CN", "简体中文", "你好，世界"),
        ("en", "English", "Hello, world"),
    ] {
        let path = dir.join(format!("{lang}.srt"));
        luojia_media::write_srt(&path, &[(0.5, 3.0, text)]).expect("srt");
        subs.push(SubtitleInput {
            lang: lang.into(),
            label: label.into(),
            path,
        });
    }
    (video, subs)
}

fn job(input: std::path::PathBuf, subtitles: Vec<SubtitleInput>, title: &str) -> IngestJob {
    IngestJob {
        input,
        meta: MovieMeta {
            title: Some(title.into()),
            year: Some(2024),
            genres: vec!["drama".into()],
            ..Default::default()
        },
        movie_id: None,
        subtitles,
        poster: None,
        force: false,
    }
}

async fn movie_count(app: &TestApp) -> u64 {
    luojia::entities::movie::Entity::find()
        .count(&app.db)
        .await
        .expect("count")
}

async fn ingest_registers_a_playable_movie_once(b: Backend) {
    if !ffmpeg_or_skip() {
        return;
    }
    let app = spawn_app(b).await;
    let src = tempfile::tempdir().expect("tempdir");
    let (video, subs) = make_source(src.path());
    let out = ingest(
        &app.settings,
        &app.db,
        job(video.clone(), subs.clone(), "测试影片"),
        quiet(),
    )
    .await
    .expect("ingest");
    let IngestOutcome::Ingested(id) = out else {
        panic!("expected a new ingest, got {out:?}")
    };

    let d = expect_status(
        app.get(&format!("/api/v1/movies/{id}"), None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(d["status"], "ready");
    assert_eq!(d["subtitles"].as_array().expect("subs").len(), 2);
    assert_eq!(d["renditions"][0]["height"], 180);
    assert!(d["duration_ms"].as_i64().expect("duration") > 5000);
    let poster = d["poster_url"].as_str().expect("poster").to_owned();
    let res = app.get(&poster, None).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "image/jpeg");

    // A re-run with the same source changes nothing.
    let again = ingest(
        &app.settings,
        &app.db,
        job(video, subs, "测试影片"),
        quiet(),
    )
    .await
    .expect("re-run");
    assert_eq!(again, IngestOutcome::Unchanged(id));
    assert_eq!(movie_count(&app).await, 1);
}

async fn bad_ingests_leave_nothing_half_registered(b: Backend) {
    if !ffmpeg_or_skip() {
        return;
    }
    let app = spawn_app(b).await;
    let src = tempfile::tempdir().expect("tempdir");
    // Missing file.
    let e = ingest(
        &app.settings,
        &app.db,
        job(src.path().join("nope.mp4"), vec![], "Missing"),
        quiet(),
    )
    .await
    .expect_err("missing file");
    assert!(format!("{e:#}").contains("does not exist"), "{e:#}");
    // Not a video.
    let fake = src.path().join("fake.mp4");
    std::fs::write(&fake, "this is not a video\n".repeat(100)).expect("write");
    let e = ingest(&app.settings, &app.db, job(fake, vec![], "Fake"), quiet())
        .await
        .expect_err("not a video");
    assert!(format!("{e:#}").contains("not a usable video"), "{e:#}");
    assert_eq!(movie_count(&app).await, 0, "nothing registered");

    // A failure during transcoding (a subtitle ffmpeg cannot read): the movie is marked
    // failed, has no assets, is invisible to users, and no output is left on disk.
    let (video, _) = make_source(src.path());
    let broken = src.path().join("broken.srt");
    std::fs::write(&broken, [0xffu8, 0xfe, 0x00, 0x01, 0x02].repeat(50)).expect("write");
    let subs = vec![SubtitleInput {
        lang: "en".into(),
        label: "English".into(),
        path: broken,
    }];
    let e = ingest(&app.settings, &app.db, job(video, subs, "Broken"), quiet())
        .await
        .expect_err("broken subtitle");
    assert!(format!("{e:#}").contains("failed"), "{e:#}");
    let movies = luojia::entities::movie::Entity::find()
        .all(&app.db)
        .await
        .expect("movies");
    assert_eq!(movies.len(), 1);
    assert_eq!(movies[0].status, luojia::movies::dto::MovieStatus::Failed);
    assert!(movies[0].status_detail.is_some());
    let assets = luojia::entities::media_asset::Entity::find()
        .count(&app.db)
        .await
        .expect("assets");
    assert_eq!(assets, 0);
    let media = app.data_dir.join("media");
    let leftovers: Vec<_> = std::fs::read_dir(&media)
        .map(|d| d.filter_map(Result::ok).map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(leftovers.is_empty(), "left on disk: {leftovers:?}");
    let page = expect_status(app.get("/api/v1/movies", None).await, StatusCode::OK).await;
    assert!(page["items"].as_array().expect("items").is_empty());
}

/// A raw HTTP/1.1 GET, so the path reaches nginx exactly as written (no client-side
/// normalisation of `..`). Returns (status, body).
fn raw_get(port: u16, path: &str) -> (u16, String) {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .expect("write");
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).expect("read");
    let text = String::from_utf8_lossy(&buf).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, text)
}

#[tokio::test]
async fn a_stream_plays_through_nginx_and_forgeries_are_refused() {
    if !ffmpeg_or_skip() {
        return;
    }
    let app = spawn_app(Backend::Sqlite).await;
    let src = tempfile::tempdir().expect("tempdir");
    let (video, subs) = make_source(src.path());
    let IngestOutcome::Ingested(id) = ingest(
        &app.settings,
        &app.db,
        job(video.clone(), subs, "经由 nginx"),
        quiet(),
    )
    .await
    .expect("ingest") else {
        panic!("not ingested")
    };
    let IngestOutcome::Ingested(other) = ingest(
        &app.settings,
        &app.db,
        job(video, vec![], "Another"),
        quiet(),
    )
    .await
    .expect("ingest other") else {
        panic!("not ingested")
    };
    std::fs::write(app.data_dir.join("media").join("secret.txt"), "top secret").expect("write");

    // The SPA build nginx serves.
    let frontend = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(frontend.path().join("assets")).expect("mkdir");
    std::fs::write(
        frontend.path().join("index.html"),
        "<!doctype html><title>Luojia</title>",
    )
    .expect("write");
    std::fs::write(
        frontend.path().join("assets/app-abc123.js"),
        "console.log(1)".repeat(100),
    )
    .expect("write");
    let port: u16 = app
        .address
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("port");
    let roots = Roots {
        frontend: frontend.path(),
        media: &app.data_dir.join("media"),
        public: &app.data_dir.join("public"),
    };
    let Some(nginx) = nginx::start(&[port], &roots) else {
        return;
    };

    let user = app.register("viewer").await;
    let grant = expect_status(
        app.get(&format!("/api/v1/movies/{id}/playback"), Some(&user.access))
            .await,
        StatusCode::OK,
    )
    .await;
    let master = grant["master_url"].as_str().expect("master").to_owned();

    // A real HLS client reads the master playlist (and through it renditions,
    // segments and subtitles) through nginx.
    let url = nginx.url(&master);
    let probe = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "stream=codec_type,codec_name,width,height",
            "-of",
            "json",
            &url,
        ])
        .output()
        .expect("ffprobe");
    assert!(
        probe.status.success(),
        "ffprobe: {}",
        String::from_utf8_lossy(&probe.stderr)
    );
    let streams: Value = serde_json::from_slice(&probe.stdout).expect("json");
    let kinds: Vec<&str> = streams["streams"]
        .as_array()
        .expect("streams")
        .iter()
        .filter_map(|s| s["codec_type"].as_str())
        .collect();
    assert!(
        kinds.contains(&"video") && kinds.contains(&"audio"),
        "{streams}"
    );
    let decode = Command::new("ffmpeg")
        .args([
            "-v", "error", "-i", &url, "-map", "0:v:0", "-t", "3", "-f", "null", "-",
        ])
        .output()
        .expect("ffmpeg");
    assert!(
        decode.status.success(),
        "ffmpeg decode: {}",
        String::from_utf8_lossy(&decode.stderr)
    );

    // Caching and types as served by nginx.
    let client = &app.client;
    let res = client.get(nginx.url(&master)).send().await.expect("master");
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()["content-type"],
        "application/vnd.apple.mpegurl"
    );
    assert_eq!(res.headers()["cache-control"], "private, max-age=10");
    let text = res.text().await.expect("text");
    assert!(
        text.contains("SUBTITLES=") && text.contains("CODECS="),
        "{text}"
    );
    let first_variant = text
        .lines()
        .find(|l| l.ends_with(".m3u8") && !l.starts_with('#'))
        .expect("variant")
        .to_owned();
    let base = master.trim_end_matches("master.m3u8");
    let variant = client
        .get(nginx.url(&format!("{base}{first_variant}")))
        .send()
        .await
        .expect("variant")
        .text()
        .await
        .expect("text");
    let seg = variant
        .lines()
        .find(|l| !l.starts_with('#') && !l.is_empty())
        .expect("segment")
        .to_owned();
    let seg_dir = first_variant
        .rsplit_once('/')
        .map(|(d, _)| format!("{d}/"))
        .unwrap_or_default();
    let res = client
        .get(nginx.url(&format!("{base}{seg_dir}{seg}")))
        .send()
        .await
        .expect("segment");
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["cache-control"]
            .to_str()
            .expect("cc")
            .contains("immutable")
    );
    assert_eq!(res.headers()["content-type"], "video/mp2t");

    // Forgeries.
    let token = master.split('/').nth(2).expect("token").to_owned();
    let parts: Vec<&str> = token.split('.').collect();
    let tampered = format!("{}.{}.{}", user.id + 1, parts[1], parts[2]);
    let later = format!(
        "{}.{}.{}",
        parts[0],
        parts[1].parse::<i64>().expect("exp") + 100000,
        parts[2]
    );
    let signer =
        luojia::media::grant::GrantSigner::new(&secrecy::SecretString::from(JWT_SECRET), -60);
    let (expired, _) = signer.issue(user.id, id, chrono::Utc::now().timestamp());
    let refused = [
        format!("/hls/{id}/master.m3u8"),
        format!("/hls/nothing/{id}/master.m3u8"),
        format!("/hls/{tampered}/{id}/master.m3u8"),
        format!("/hls/{later}/{id}/master.m3u8"),
        format!("/hls/{expired}/{id}/master.m3u8"),
        format!("/hls/{token}/{other}/master.m3u8"),
        format!("/hls/{token}/{id}/../{other}/master.m3u8"),
        format!("/hls/{token}/{id}/../secret.txt"),
        format!("/hls/{token}/{id}/../../secret.txt"),
        format!("/hls/{token}/{id}/%2e%2e/secret.txt"),
        format!("/hls/{token}/{id}/..%2fsecret.txt"),
        format!("/hls/{token}/{id}/%2e%2e%2f%2e%2e%2fsecret.txt"),
        "/hls/../media/secret.txt".to_owned(),
        "/media/secret.txt".to_owned(),
        format!("/{id}/master.m3u8"),
        "/secret.txt".to_owned(),
        "/internal/hls-auth".to_owned(),
    ];
    for path in refused {
        let (status, body) = raw_get(nginx.port, &path);
        assert!(
            status == 403 || status == 404 || status == 400,
            "{path}: {status}"
        );
        assert!(
            !body.contains("top secret") && !body.contains("#EXTM3U") && !body.contains("#EXTINF"),
            "{path} leaked"
        );
    }

    // The rest of the front door: API through the upstream (gzip), SPA fallback,
    // hashed assets, security headers.
    let res = client
        .get(nginx.url("/api/v1/genres"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .expect("genres");
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-encoding"], "gzip");
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    let res = client
        .get(nginx.url("/rooms/42"))
        .send()
        .await
        .expect("spa");
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.text()
            .await
            .expect("html")
            .contains("<title>Luojia</title>")
    );
    let res = client
        .get(nginx.url("/assets/app-abc123.js"))
        .send()
        .await
        .expect("asset");
    assert!(
        res.headers()["cache-control"]
            .to_str()
            .expect("cc")
            .contains("immutable")
    );
    let (status, _) = raw_get(nginx.port, "/assets/missing.js");
    assert_eq!(status, 404);
    let res = client
        .get(nginx.url("/api/v1/nope"))
        .send()
        .await
        .expect("api 404");
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    let res = client
        .get(nginx.url(&format!("/static/movies/{id}/poster.jpg")))
        .send()
        .await
        .expect("poster");
    assert_eq!(res.status(), StatusCode::OK);
}
