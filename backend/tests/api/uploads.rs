//! Uploads: pictures re-encoded without their metadata, refusals that leave nothing
//! behind (a text file named .jpg, an image bomb, voice notes over the caps), signed URLs,
//! avatars and stickers, and uploads never attached to anything swept after a while.

use std::io::Cursor;
use std::path::{Path, PathBuf};

use image::{DynamicImage, ImageFormat, RgbImage, RgbaImage};
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, expect_problem, expect_status, spawn_app, spawn_app_with};

on_all_backends!(
    pictures_are_reencoded_without_metadata,
    refused_files_leave_nothing_behind,
    voice_notes_are_measured_and_capped,
    media_urls_need_a_valid_signature,
    avatars_are_set_served_and_cleared,
    stickers_are_listed_and_collected,
    uploads_are_rate_limited_per_user,
    unattached_uploads_are_swept,
);

pub async fn upload(
    app: &TestApp,
    token: &str,
    purpose: &str,
    name: &str,
    mime: &str,
    data: Vec<u8>,
) -> reqwest::Response {
    let form = Form::new().text("purpose", purpose.to_owned()).part(
        "file",
        Part::bytes(data)
            .file_name(name.to_owned())
            .mime_str(mime)
            .expect("mime"),
    );
    // A fresh connection for each upload: the test decodes and encodes pictures between
    // requests, and on a busy machine a pooled connection can sit idle past the server's
    // keep-alive and be closed just as the next (not retried) POST goes out on it.
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .expect("client");
    client
        .post(app.url("/api/v1/media"))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .expect("request")
}

pub fn encode(img: &DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format).expect("encode");
    out.into_inner()
}

/// A colourful picture, so that re-encoding has something to keep.
pub fn picture(w: u32, h: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x * 7) as u8, (y * 5) as u8, ((x + y) * 3) as u8])
    })
}

const GPS_SECRET: &[u8] = b"LUOJIA-SECRET-PLACE";

/// A JPEG with an APP1 Exif segment holding a GPS IFD (latitude ref and a map datum that
/// carries [`GPS_SECRET`]), written by hand after the SOI marker.
fn jpeg_with_gps(w: u32, h: u32) -> Vec<u8> {
    let plain = encode(&DynamicImage::ImageRgb8(picture(w, h)), ImageFormat::Jpeg);
    // TIFF, little endian: header, IFD0 with one entry (GPS IFD pointer), GPS IFD with two.
    let mut tiff: Vec<u8> = b"II*\0".to_vec();
    tiff.extend(8u32.to_le_bytes()); // IFD0 at 8
    tiff.extend(1u16.to_le_bytes());
    tiff.extend(0x8825u16.to_le_bytes()); // GPSInfo
    tiff.extend(4u16.to_le_bytes()); // LONG
    tiff.extend(1u32.to_le_bytes());
    tiff.extend(26u32.to_le_bytes()); // GPS IFD at 8 + 2 + 12 + 4 = 26
    tiff.extend(0u32.to_le_bytes()); // no next IFD
    let secret_at = 26 + 2 + 2 * 12 + 4;
    tiff.extend(2u16.to_le_bytes());
    tiff.extend(1u16.to_le_bytes()); // GPSLatitudeRef
    tiff.extend(2u16.to_le_bytes()); // ASCII
    tiff.extend(2u32.to_le_bytes());
    tiff.extend(*b"N\0\0\0");
    tiff.extend(0x12u16.to_le_bytes()); // GPSMapDatum
    tiff.extend(2u16.to_le_bytes());
    tiff.extend((GPS_SECRET.len() as u32 + 1).to_le_bytes());
    tiff.extend((secret_at as u32).to_le_bytes());
    tiff.extend(0u32.to_le_bytes());
    assert_eq!(tiff.len(), secret_at);
    tiff.extend(GPS_SECRET);
    tiff.push(0);
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend(tiff);
    let mut out = plain[..2].to_vec(); // SOI
    out.extend([0xFF, 0xE1]);
    out.extend(((app1.len() + 2) as u16).to_be_bytes());
    out.extend(app1);
    out.extend(&plain[2..]);
    out
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// A PNG that declares `w`×`h` in its header and carries almost no data.
fn png_bomb(w: u32, h: u32) -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend((data.len() as u32).to_be_bytes());
        let mut crc_input = kind.to_vec();
        crc_input.extend(data);
        out.extend(&crc_input);
        out.extend(crc32(&crc_input).to_be_bytes());
    }
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend(w.to_be_bytes());
    ihdr.extend(h.to_be_bytes());
    ihdr.extend([8, 2, 0, 0, 0]); // 8-bit RGB
    chunk(&mut out, b"IHDR", &ihdr);
    // A zlib stream of a few zero bytes: the decoder would expand it row by row.
    chunk(
        &mut out,
        b"IDAT",
        &[0x78, 0x9c, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01],
    );
    chunk(&mut out, b"IEND", &[]);
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// Files under the upload store and the temporary folder.
fn stored_files(app: &TestApp) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(&app.data_dir.join("uploads"), &mut out);
    walk(&app.data_dir.join("uploads-tmp"), &mut out);
    out
}

async fn upload_rows(app: &TestApp) -> u64 {
    luojia::entities::upload::Entity::find()
        .count(&app.db)
        .await
        .expect("count")
}

pub async fn fetch(app: &TestApp, url: &str) -> reqwest::Response {
    app.client.get(app.url(url)).send().await.expect("fetch")
}

async fn pictures_are_reencoded_without_metadata(b: Backend) {
    let app = spawn_app(b).await;
    let u = app.register("pic").await;
    let rgb = DynamicImage::ImageRgb8(picture(640, 480));
    let rgba = DynamicImage::ImageRgba8(RgbaImage::from_fn(300, 200, |x, y| {
        image::Rgba([x as u8, y as u8, 90, if x < 150 { 255 } else { 120 }])
    }));
    let gps = jpeg_with_gps(640, 480);
    assert!(contains(&gps, GPS_SECRET) && contains(&gps, b"Exif"));
    // (file name, declared type, bytes, stored type, size)
    type Case = (
        &'static str,
        &'static str,
        Vec<u8>,
        &'static str,
        (i64, i64),
    );
    let cases: Vec<Case> = vec![
        ("photo.jpg", "image/jpeg", gps, "image/jpeg", (640, 480)),
        (
            "pic.png",
            "image/png",
            encode(&rgba, ImageFormat::Png),
            "image/png",
            (300, 200),
        ),
        (
            "pic.webp",
            "image/webp",
            encode(&rgb, ImageFormat::WebP),
            "image/webp",
            (640, 480),
        ),
        (
            "still.gif",
            "image/gif",
            encode(&rgb, ImageFormat::Gif),
            "image/gif",
            (640, 480),
        ),
    ];
    for (name, mime, data, stored_type, (w, h)) in cases {
        let body = expect_status(
            upload(&app, &u.access, "image", name, mime, data).await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(body["kind"], "image", "{name}");
        assert_eq!(body["content_type"], stored_type, "{name}");
        assert_eq!(
            (body["width"].as_i64(), body["height"].as_i64()),
            (Some(w), Some(h)),
            "{name}"
        );
        let res = fetch(&app, body["url"].as_str().expect("url")).await;
        assert_eq!(res.status(), StatusCode::OK, "{name}");
        let headers = res.headers().clone();
        assert_eq!(headers["content-type"], stored_type);
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(headers["content-disposition"], "inline");
        assert!(
            headers["cache-control"]
                .to_str()
                .expect("ascii")
                .starts_with("private")
        );
        let bytes = res.bytes().await.expect("bytes");
        assert_eq!(bytes.len() as i64, body["bytes"].as_i64().expect("bytes"));
        assert!(!contains(&bytes, GPS_SECRET), "{name}: GPS data survived");
        assert!(
            !contains(&bytes, b"Exif"),
            "{name}: an Exif segment survived"
        );
        let decoded = image::load_from_memory(&bytes).expect("the stored file decodes");
        assert_eq!((decoded.width() as i64, decoded.height() as i64), (w, h));
        let thumb = fetch(&app, body["thumbnail_url"].as_str().expect("thumbnail")).await;
        assert_eq!(thumb.status(), StatusCode::OK);
        let t = image::load_from_memory(&thumb.bytes().await.expect("thumb")).expect("decodes");
        assert!(t.width().max(t.height()) <= 320 && t.width() > 0);
    }
    // An animated GIF keeps its frames.
    let frames: Vec<image::Frame> = (0..4u8)
        .map(|i| {
            image::Frame::from_parts(
                RgbaImage::from_pixel(60, 40, image::Rgba([i * 60, 0, 255 - i * 60, 255])),
                0,
                0,
                image::Delay::from_numer_denom_ms(100, 1),
            )
        })
        .collect();
    let mut gif = Vec::new();
    {
        let mut enc = image::codecs::gif::GifEncoder::new(&mut gif);
        enc.set_repeat(image::codecs::gif::Repeat::Infinite)
            .expect("repeat");
        enc.encode_frames(frames).expect("frames");
    }
    let body = expect_status(
        upload(&app, &u.access, "sticker", "dance.gif", "image/gif", gif).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(body["content_type"], "image/gif");
    let bytes = fetch(&app, body["url"].as_str().expect("url"))
        .await
        .bytes()
        .await
        .expect("bytes");
    use image::AnimationDecoder;
    let dec = image::codecs::gif::GifDecoder::new(Cursor::new(bytes.to_vec())).expect("gif");
    assert_eq!(dec.into_frames().count(), 4, "the animation is kept");
}

async fn refused_files_leave_nothing_behind(b: Backend) {
    let app = spawn_app_with(b, &[("APP_UPLOADS__MAX_IMAGE_BYTES", "300000")]).await;
    let u = app.register("refuse").await;
    let check_empty = |what: &'static str| {
        let app = &app;
        async move {
            assert_eq!(
                stored_files(app),
                Vec::<PathBuf>::new(),
                "{what} left files"
            );
            assert_eq!(upload_rows(app).await, 0, "{what} left a row");
        }
    };
    // A text file that calls itself a JPEG.
    let res = upload(
        &app,
        &u.access,
        "image",
        "cat.jpg",
        "image/jpeg",
        b"just some text, honest".to_vec(),
    )
    .await;
    expect_problem(
        res,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;
    check_empty("a text file").await;
    // A JPEG header with garbage after it.
    let mut broken = jpeg_with_gps(64, 64);
    broken.truncate(400);
    broken.extend(vec![0x55; 2000]);
    let res = upload(&app, &u.access, "image", "broken.jpg", "image/jpeg", broken).await;
    expect_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "invalid_media").await;
    check_empty("a damaged JPEG").await;
    // An image bomb: a few hundred bytes declaring 30000×30000; refused from its header.
    let bomb = png_bomb(30_000, 30_000);
    assert!(bomb.len() < 200);
    let started = std::time::Instant::now();
    let res = upload(&app, &u.access, "image", "bomb.png", "image/png", bomb).await;
    expect_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "image_too_large").await;
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "it was not decoded"
    );
    check_empty("an image bomb").await;
    // Over the byte cap (300 kB here): refused while streaming.
    let noise = RgbImage::from_fn(600, 600, |x, y| {
        let v = (x.wrapping_mul(2_654_435_761) ^ y.wrapping_mul(40_503)) as u8;
        image::Rgb([v, v.rotate_left(3), v.rotate_left(5)])
    });
    let big = encode(&DynamicImage::ImageRgb8(noise), ImageFormat::Png);
    assert!(big.len() > 300_000, "{}", big.len());
    let res = upload(&app, &u.access, "image", "big.png", "image/png", big).await;
    expect_problem(res, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
    check_empty("an oversized file").await;
    // Not a form at all; a form without purpose or file.
    let res = app
        .post("/api/v1/media", &json!({"file": "x"}), Some(&u.access))
        .await;
    expect_problem(
        res,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;
    let form = Form::new().part("file", Part::bytes(vec![1, 2, 3]));
    let res = app
        .client
        .post(app.url("/api/v1/media"))
        .bearer_auth(&u.access)
        .multipart(form)
        .send()
        .await
        .expect("req");
    let p = expect_problem(res, StatusCode::BAD_REQUEST, "validation_failed").await;
    assert_eq!(p["field"], "purpose");
    let res = upload(&app, &u.access, "poster", "a.png", "image/png", vec![1]).await;
    expect_problem(res, StatusCode::BAD_REQUEST, "validation_failed").await;
    check_empty("bad forms").await;
    // Without a token.
    let res = app
        .client
        .post(app.url("/api/v1/media"))
        .multipart(Form::new().text("purpose", "image"))
        .send()
        .await
        .expect("req");
    expect_problem(res, StatusCode::UNAUTHORIZED, "unauthorized").await;
}

/// Audio made by ffmpeg: `seconds` of `source` encoded with `args`, into `name`.
fn audio(dir: &Path, name: &str, source: &str, args: &[&str]) -> Vec<u8> {
    let out = dir.join(name);
    let status = std::process::Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", source])
        .args(args)
        .arg(&out)
        .status()
        .expect("ffmpeg runs (make test installs it)");
    assert!(status.success(), "ffmpeg made {name}");
    std::fs::read(&out).expect("audio")
}

async fn voice_notes_are_measured_and_capped(b: Backend) {
    let app = spawn_app(b).await;
    let u = app.register("voice").await;
    let dir = tempfile::tempdir().expect("tmp");
    let three = "sine=frequency=440:duration=3";
    for (name, mime, args, stored) in [
        (
            "a.webm",
            "audio/webm",
            &["-c:a", "libopus", "-b:a", "24k"][..],
            "audio/webm",
        ),
        (
            "a.ogg",
            "audio/ogg",
            &["-c:a", "libopus", "-b:a", "24k"][..],
            "audio/ogg",
        ),
        (
            "a.m4a",
            "audio/mp4",
            &["-c:a", "aac", "-b:a", "48k"][..],
            "audio/mp4",
        ),
    ] {
        let data = audio(dir.path(), name, three, args);
        let body = expect_status(
            upload(&app, &u.access, "voice", name, mime, data).await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(body["kind"], "voice");
        assert_eq!(body["content_type"], stored, "{name}");
        let ms = body["duration_ms"].as_i64().expect("duration");
        assert!((2900..=3200).contains(&ms), "{name}: {ms} ms");
        assert!(body["thumbnail_url"].is_null());
        // Served with ranges, for seeking.
        let res = app
            .client
            .get(app.url(body["url"].as_str().expect("url")))
            .header("range", "bytes=0-99")
            .send()
            .await
            .expect("range");
        assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
        assert!(
            res.headers()["content-range"]
                .to_str()
                .expect("ascii")
                .starts_with("bytes 0-99/")
        );
        assert_eq!(res.bytes().await.expect("bytes").len(), 100);
        let res = app
            .client
            .get(app.url(body["url"].as_str().expect("url")))
            .header("range", "bytes=99999999-")
            .send()
            .await
            .expect("range");
        expect_problem(
            res,
            StatusCode::RANGE_NOT_SATISFIABLE,
            "range_not_satisfiable",
        )
        .await;
    }
    let files_before = stored_files(&app).len();
    let rows_before = upload_rows(&app).await;
    // 65 s, small: refused for its length.
    let long = audio(
        dir.path(),
        "long.ogg",
        "sine=frequency=300:duration=65",
        &["-c:a", "libopus", "-b:a", "12k"],
    );
    assert!(long.len() < 2 * 1024 * 1024);
    let res = upload(&app, &u.access, "voice", "long.ogg", "audio/ogg", long).await;
    expect_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "voice_too_long").await;
    // Over 2 MB (loud noise at the top bitrate), short: refused for its size.
    let big = audio(
        dir.path(),
        "big.webm",
        "anoisesrc=d=45:a=0.8",
        &["-ac", "2", "-c:a", "libopus", "-b:a", "510k"],
    );
    assert!(big.len() > 2 * 1024 * 1024, "{}", big.len());
    let res = upload(&app, &u.access, "voice", "big.webm", "audio/webm", big).await;
    expect_problem(res, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
    // An MP3 (not one of the three), and a picture sent as voice.
    let mp3ish = audio(dir.path(), "a.wav", three, &["-c:a", "pcm_s16le"]);
    let res = upload(&app, &u.access, "voice", "a.webm", "audio/webm", mp3ish).await;
    expect_problem(
        res,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;
    // A WebM holding video, not Opus audio.
    let video = audio(
        dir.path(),
        "v.webm",
        "testsrc=d=1:s=64x64",
        &["-c:v", "libvpx", "-b:v", "50k"],
    );
    let res = upload(&app, &u.access, "voice", "v.webm", "audio/webm", video).await;
    expect_problem(
        res,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;
    assert_eq!(
        stored_files(&app).len(),
        files_before,
        "refusals left files"
    );
    assert_eq!(upload_rows(&app).await, rows_before, "refusals left rows");
}

async fn media_urls_need_a_valid_signature(b: Backend) {
    let app = spawn_app(b).await;
    let u = app.register("sig").await;
    let png = encode(&DynamicImage::ImageRgb8(picture(50, 50)), ImageFormat::Png);
    let a = expect_status(
        upload(&app, &u.access, "image", "a.png", "image/png", png.clone()).await,
        StatusCode::CREATED,
    )
    .await;
    let other = expect_status(
        upload(&app, &u.access, "image", "b.png", "image/png", png).await,
        StatusCode::CREATED,
    )
    .await;
    let id = a["id"].as_i64().expect("id");
    let url = a["url"].as_str().expect("url");
    assert_eq!(fetch(&app, url).await.status(), StatusCode::OK);
    // Unsigned, forged, borrowed from another upload or from the thumbnail, expired.
    let query = url.split_once('?').expect("query").1;
    let other_query = other["url"]
        .as_str()
        .expect("url")
        .split_once('?')
        .expect("q")
        .1;
    let thumb_query = a["thumbnail_url"]
        .as_str()
        .expect("thumb")
        .split_once('?')
        .expect("q")
        .1;
    let signer = luojia::uploads::sign::UploadSigner::new(
        &secrecy::SecretString::from(crate::helpers::JWT_SECRET),
        600,
    );
    let long_ago = chrono::Utc::now().timestamp() - 3600;
    let (exp, sig) = signer.sign(id, luojia::uploads::sign::Variant::Content, long_ago);
    let forged = query.replace("sig=", "sig=AAAA");
    for bad in [
        format!("/api/v1/media/{id}"),
        format!("/api/v1/media/{id}?{forged}"),
        format!("/api/v1/media/{id}?{other_query}"),
        format!("/api/v1/media/{id}?{thumb_query}"),
        format!("/api/v1/media/{id}?exp={exp}&sig={sig}"),
        format!("/api/v1/media/{id}?{}", query.replace("exp=", "exp=1")),
    ] {
        let res = fetch(&app, &bad).await;
        expect_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    }
    // The same signer, now: accepted (so the expired one failed for its time only).
    let (exp, sig) = signer.sign(
        id,
        luojia::uploads::sign::Variant::Content,
        chrono::Utc::now().timestamp(),
    );
    assert_eq!(
        fetch(&app, &format!("/api/v1/media/{id}?exp={exp}&sig={sig}"))
            .await
            .status(),
        StatusCode::OK
    );
}

async fn avatars_are_set_served_and_cleared(b: Backend) {
    let app = spawn_app(b).await;
    let u = app.register("ava").await;
    let v = app.register("ava2").await;
    let wide = encode(
        &DynamicImage::ImageRgb8(picture(600, 300)),
        ImageFormat::Jpeg,
    );
    let av = expect_status(
        upload(
            &app,
            &u.access,
            "avatar",
            "me.jpg",
            "image/jpeg",
            wide.clone(),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(
        (av["width"].as_i64(), av["height"].as_i64()),
        (Some(256), Some(256))
    );
    let public = av["avatar_url"].as_str().expect("avatar_url").to_owned();
    assert!(public.starts_with("/api/v1/avatars/"));
    let id = av["id"].as_i64().expect("id");
    // Someone else's upload, or an upload that is not an avatar, cannot become mine.
    let res = app
        .send(
            reqwest::Method::PUT,
            "/api/v1/me/avatar",
            &json!({"upload_id": id}),
            &v.access,
        )
        .await;
    expect_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    let img = expect_status(
        upload(&app, &u.access, "image", "x.jpg", "image/jpeg", wide).await,
        StatusCode::CREATED,
    )
    .await;
    let res = app
        .send(
            reqwest::Method::PUT,
            "/api/v1/me/avatar",
            &json!({"upload_id": img["id"]}),
            &u.access,
        )
        .await;
    expect_problem(res, StatusCode::BAD_REQUEST, "validation_failed").await;
    // Set: the profile shows it, and anyone can load it (public, cached for long).
    let me = expect_status(
        app.send(
            reqwest::Method::PUT,
            "/api/v1/me/avatar",
            &json!({"upload_id": id}),
            &u.access,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(me["avatar_url"], public.as_str());
    let profile = expect_status(
        app.get(&format!("/api/v1/users/{}", u.id), None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(profile["avatar_url"], public.as_str());
    let res = fetch(&app, &public).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["cache-control"]
            .to_str()
            .expect("ascii")
            .contains("public")
    );
    let pic = image::load_from_memory(&res.bytes().await.expect("bytes")).expect("decodes");
    assert_eq!((pic.width(), pic.height()), (256, 256));
    // A chat image is not reachable as an avatar, nor is a made-up name.
    let image_key = img["url"].as_str().expect("url");
    assert!(image_key.starts_with("/api/v1/media/"));
    for name in [
        "0123456789abcdef0123456789abcdef.jpg",
        "..%2Fjwt_secret",
        "x",
    ] {
        let res = fetch(&app, &format!("/api/v1/avatars/{name}")).await;
        expect_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    }
    // Clear.
    let me = expect_status(
        app.send(
            reqwest::Method::DELETE,
            "/api/v1/me/avatar",
            &json!({}),
            &u.access,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert!(me["avatar_url"].is_null());
    let me = expect_status(app.get("/api/v1/me", Some(&u.access)).await, StatusCode::OK).await;
    assert!(me["avatar_url"].is_null());
}

async fn stickers_are_listed_and_collected(b: Backend) {
    let app = spawn_app_with(b, &[("APP_UPLOADS__MAX_STICKERS", "2")]).await;
    let u = app.register("stk").await;
    let v = app.register("stk2").await;
    let packs = expect_status(app.get("/api/v1/stickers", None).await, StatusCode::OK).await;
    let packs = packs["packs"].as_array().expect("packs").clone();
    assert_eq!(packs.len(), 2);
    for p in &packs {
        let stickers = p["stickers"].as_array().expect("stickers");
        assert!(stickers.len() >= 12);
        assert!(p["name_zh"].is_string() && p["name_en"].is_string());
    }
    let first: &Value = &packs[0]["stickers"][0];
    assert_eq!(
        first["ref"],
        format!(
            "builtin:{}/{}",
            packs[0]["id"].as_str().expect("id"),
            first["id"].as_str().expect("id")
        )
    );
    let res = fetch(&app, first["url"].as_str().expect("url")).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("image/svg+xml")
    );
    assert!(res.text().await.expect("svg").starts_with("<svg"));
    expect_problem(
        fetch(&app, "/api/v1/stickers/luojia/nope.svg").await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;

    let gif = encode(&DynamicImage::ImageRgb8(picture(80, 80)), ImageFormat::Gif);
    let mut ids = Vec::new();
    for _ in 0..3 {
        let s = expect_status(
            upload(
                &app,
                &u.access,
                "sticker",
                "s.gif",
                "image/gif",
                gif.clone(),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        ids.push(s["id"].as_i64().expect("id"));
    }
    let add = |id: i64, token: String| {
        let app = &app;
        async move {
            app.post(
                "/api/v1/me/stickers",
                &json!({"upload_id": id}),
                Some(&token),
            )
            .await
        }
    };
    let added = expect_status(add(ids[0], u.access.clone()).await, StatusCode::CREATED).await;
    assert_eq!(added["upload_id"], ids[0]);
    assert!(added["url"].as_str().expect("url").contains("sig="));
    expect_status(add(ids[0], u.access.clone()).await, StatusCode::CREATED).await; // again: no change
    expect_status(add(ids[1], u.access.clone()).await, StatusCode::CREATED).await;
    expect_problem(
        add(ids[2], u.access.clone()).await,
        StatusCode::CONFLICT,
        "too_many_stickers",
    )
    .await;
    // Not someone else's upload.
    expect_problem(
        add(ids[2], v.access.clone()).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let mine = expect_status(
        app.get("/api/v1/me/stickers", Some(&u.access)).await,
        StatusCode::OK,
    )
    .await;
    let listed: Vec<i64> = mine["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|s| s["upload_id"].as_i64().expect("id"))
        .collect();
    assert_eq!(listed.len(), 2);
    assert!(listed.contains(&ids[0]) && listed.contains(&ids[1]));
    assert_eq!(mine["remaining"], 0);
    let path = format!("/api/v1/me/stickers/{}", ids[0]);
    let empty = json!({});
    let remove = || app.send(reqwest::Method::DELETE, &path, &empty, &u.access);
    assert_eq!(remove().await.status(), StatusCode::NO_CONTENT);
    expect_problem(remove().await, StatusCode::NOT_FOUND, "not_found").await;
    expect_status(add(ids[2], u.access.clone()).await, StatusCode::CREATED).await;
    let theirs = expect_status(
        app.get("/api/v1/me/stickers", Some(&v.access)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(theirs["items"].as_array().expect("items").len(), 0);
}

async fn uploads_are_rate_limited_per_user(b: Backend) {
    let app = spawn_app_with(b, &[("APP_UPLOADS__PER_USER_PER_HOUR", "2")]).await;
    let u = app.register("rl").await;
    let v = app.register("rl2").await;
    let png = encode(&DynamicImage::ImageRgb8(picture(20, 20)), ImageFormat::Png);
    for _ in 0..2 {
        let res = upload(&app, &u.access, "image", "a.png", "image/png", png.clone()).await;
        expect_status(res, StatusCode::CREATED).await;
    }
    let res = upload(&app, &u.access, "image", "a.png", "image/png", png.clone()).await;
    assert!(res.headers().contains_key("retry-after"));
    expect_problem(res, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    // Someone else still may.
    let res = upload(&app, &v.access, "image", "a.png", "image/png", png).await;
    expect_status(res, StatusCode::CREATED).await;
}

/// A picture chosen and never sent goes, row and files, once `unattached_keep_secs` have
/// passed; what was attached to a message, an avatar or a sticker collection stays, and a
/// swept upload can no longer be attached.
async fn unattached_uploads_are_swept(b: Backend) {
    let app = spawn_app_with(
        b,
        &[
            ("APP_UPLOADS__UNATTACHED_KEEP_SECS", "4"),
            ("APP_UPLOADS__SWEEP_INTERVAL_SECS", "1"),
        ],
    )
    .await;
    let u = app.register("swp").await;
    let friend = app.register("swp2").await;
    let c = crate::conversations::direct(&app, &u, &friend).await;
    let jpeg = encode(&DynamicImage::ImageRgb8(picture(64, 48)), ImageFormat::Jpeg);
    let made = |purpose: &'static str| {
        let (app, token, data) = (&app, u.access.clone(), jpeg.clone());
        async move {
            let body = expect_status(
                upload(app, &token, purpose, "p.jpg", "image/jpeg", data).await,
                StatusCode::CREATED,
            )
            .await;
            body["id"].as_i64().expect("id")
        }
    };
    // Never attached: one left alone, one tried once it has gone.
    let left = made("image").await;
    let late = made("image").await;
    // Attached at once: a sent picture, an avatar, a collected sticker.
    let sent = made("image").await;
    expect_status(
        app.post(
            &format!("/api/v1/conversations/{c}/messages"),
            &json!({"client_id": "s", "kind": "image", "upload_id": sent}),
            Some(&u.access),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let avatar = made("avatar").await;
    expect_status(
        app.send(
            reqwest::Method::PUT,
            "/api/v1/me/avatar",
            &json!({"upload_id": avatar}),
            &u.access,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let sticker = made("sticker").await;
    expect_status(
        app.post(
            "/api/v1/me/stickers",
            &json!({"upload_id": sticker}),
            Some(&u.access),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let files_before = stored_files(&app).len();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let ids = || async {
        let mut ids: Vec<i64> = luojia::entities::upload::Entity::find()
            .all(&app.db)
            .await
            .expect("uploads")
            .into_iter()
            .map(|r| r.id)
            .collect();
        ids.sort();
        ids
    };
    while ids().await.contains(&left) {
        assert!(
            std::time::Instant::now() < deadline,
            "not swept within 20 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let mut kept = vec![sent, avatar, sticker];
    kept.sort();
    assert_eq!(ids().await, kept);
    // Both pictures' files (each with its thumbnail) went; the others' stayed.
    assert_eq!(stored_files(&app).len(), files_before - 4);
    let res = app
        .post(
            &format!("/api/v1/conversations/{c}/messages"),
            &json!({"client_id": "l", "kind": "image", "upload_id": late}),
            Some(&u.access),
        )
        .await;
    expect_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    // What stayed still works.
    let me = expect_status(app.get("/api/v1/me", Some(&u.access)).await, StatusCode::OK).await;
    let avatar_url = me["avatar_url"].as_str().expect("avatar");
    assert_eq!(fetch(&app, avatar_url).await.status(), StatusCode::OK);
    let mine = expect_status(
        app.get("/api/v1/me/stickers", Some(&u.access)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(mine["items"].as_array().map(Vec::len), Some(1), "{mine}");
}
