//! Uploads in S3-compatible storage (`uploads.store = "s3"`), against a local S3 server
//! (moto's `moto_server`, named by `TEST_S3_SERVER`; `make test` installs it): pictures,
//! thumbnails, ranges and avatars are written to the bucket and served from it, nothing
//! lands on the local disk, and the sweeper deletes unattached uploads' objects there.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use image::{DynamicImage, ImageFormat};
use reqwest::StatusCode;
use sea_orm::EntityTrait;
use serde_json::json;

use crate::helpers::{Backend, expect_status, spawn_app_with};
use crate::uploads::{encode, fetch, picture, upload};

const BUCKET: &str = "luojia-test";

/// A local S3 server on a free port, stopped (by its PID) when dropped.
struct S3Server {
    endpoint: String,
    child: Child,
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Start `TEST_S3_SERVER` with one empty bucket, or `None` (skip) when it is not set and
/// skipping is allowed.
async fn start() -> Option<S3Server> {
    let Ok(bin) = std::env::var("TEST_S3_SERVER") else {
        assert!(
            std::env::var("LUOJIA_REQUIRE_ALL_BACKENDS").as_deref() != Ok("1"),
            "TEST_S3_SERVER is not set but LUOJIA_REQUIRE_ALL_BACKENDS=1"
        );
        eprintln!("skipping: set TEST_S3_SERVER to moto_server's path (make test does)");
        return None;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port");
    let child = Command::new(&bin)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {bin}: {e}"));
    let server = S3Server {
        endpoint: format!("http://127.0.0.1:{port}"),
        child,
    };
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        // Creating the bucket is also the readiness check.
        match client
            .put(format!("{}/{BUCKET}", server.endpoint))
            .send()
            .await
        {
            Ok(res) if res.status().is_success() => return Some(server),
            _ if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(200)).await,
            other => panic!("the S3 server did not start: {other:?}"),
        }
    }
}

/// The keys in the bucket.
async fn keys(s3: &S3Server) -> Vec<String> {
    let xml = reqwest::get(format!("{}/{BUCKET}?list-type=2", s3.endpoint))
        .await
        .expect("list")
        .text()
        .await
        .expect("xml");
    let mut keys: Vec<String> = xml
        .split("<Key>")
        .skip(1)
        .filter_map(|s| s.split_once("</Key>").map(|(k, _)| k.to_owned()))
        .collect();
    keys.sort();
    keys
}

#[tokio::test]
async fn uploads_live_in_s3() {
    let Some(s3) = start().await else { return };
    let app = spawn_app_with(
        Backend::Sqlite,
        &[
            ("APP_UPLOADS__STORE", "s3"),
            ("APP_UPLOADS__S3__BUCKET", BUCKET),
            ("APP_UPLOADS__S3__REGION", "us-east-1"),
            ("APP_UPLOADS__S3__ENDPOINT", &s3.endpoint),
            ("APP_UPLOADS__S3__ACCESS_KEY_ID", "test"),
            ("APP_UPLOADS__S3__SECRET_ACCESS_KEY", "test"),
            ("APP_UPLOADS__S3__ALLOW_HTTP", "true"),
            ("APP_UPLOADS__UNATTACHED_KEEP_SECS", "4"),
            ("APP_UPLOADS__SWEEP_INTERVAL_SECS", "1"),
        ],
    )
    .await;
    let u = app.register("s3user").await;
    let jpeg = encode(
        &DynamicImage::ImageRgb8(picture(400, 300)),
        ImageFormat::Jpeg,
    );
    // A picture: stored with its thumbnail, served whole and in ranges.
    let pic = expect_status(
        upload(
            &app,
            &u.access,
            "image",
            "p.jpg",
            "image/jpeg",
            jpeg.clone(),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let url = pic["url"].as_str().expect("url");
    let res = fetch(&app, url).await;
    assert_eq!(res.status(), StatusCode::OK);
    let whole = res.bytes().await.expect("bytes");
    assert_eq!(whole.len() as i64, pic["bytes"].as_i64().expect("bytes"));
    image::load_from_memory(&whole).expect("the stored picture decodes");
    let part = app
        .client
        .get(app.url(url))
        .header("range", "bytes=0-99")
        .send()
        .await
        .expect("range");
    assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(part.bytes().await.expect("bytes")[..], whole[..100]);
    let thumb = fetch(&app, pic["thumbnail_url"].as_str().expect("thumb")).await;
    assert_eq!(thumb.status(), StatusCode::OK);
    // An avatar, set: public, from the bucket.
    let av = expect_status(
        upload(&app, &u.access, "avatar", "me.jpg", "image/jpeg", jpeg).await,
        StatusCode::CREATED,
    )
    .await;
    expect_status(
        app.send(
            reqwest::Method::PUT,
            "/api/v1/me/avatar",
            &json!({"upload_id": av["id"]}),
            &u.access,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let public = av["avatar_url"].as_str().expect("avatar_url");
    assert_eq!(fetch(&app, public).await.status(), StatusCode::OK);
    // Everything is in the bucket, nothing under the data folder.
    let stored = keys(&s3).await;
    assert!(stored.len() >= 3, "{stored:?}");
    assert!(
        !app.data_dir.join("uploads").exists()
            || std::fs::read_dir(app.data_dir.join("uploads"))
                .expect("dir")
                .next()
                .is_none(),
        "files on the local disk"
    );
    // The picture was never sent: its objects go; the avatar's stay.
    let row = luojia::entities::upload::Entity::find_by_id(pic["id"].as_i64().expect("id"))
        .one(&app.db)
        .await
        .expect("row")
        .expect("the picture's row");
    let pic_keys: Vec<String> = [Some(row.object_key), row.thumbnail_key]
        .into_iter()
        .flatten()
        .collect();
    assert!(pic_keys.iter().all(|k| stored.contains(k)), "{stored:?}");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let now = keys(&s3).await;
        if !now.iter().any(|k| pic_keys.contains(k)) {
            assert_eq!(now.len(), stored.len() - pic_keys.len(), "{now:?}");
            break;
        }
        assert!(Instant::now() < deadline, "not swept within 20 s: {now:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(fetch(&app, public).await.status(), StatusCode::OK);
    assert_eq!(fetch(&app, url).await.status(), StatusCode::NOT_FOUND);
}
