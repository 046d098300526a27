//! End-to-end tests that run the real ffmpeg on tiny synthetic sources and check the
//! results with ffprobe.
//!
//! They need `ffmpeg` and `ffprobe` on PATH. Without them each test prints "skipping" and
//! passes, unless `LUOJIA_REQUIRE_ALL_BACKENDS=1` is set (as in CI), where they fail.

use std::path::{Path, PathBuf};
use std::process::Command;

use luojia_media::{
    MediaError, Progress, Stage, SubtitleInput, SynthSpec, TranscodeOutput, TranscodeRequest,
    ffmpeg_available, probe, synth_source, transcode, write_srt,
};
use serde_json::Value;

/// True when ffmpeg is usable; otherwise skips (or fails when it is required).
fn ffmpeg_or_skip() -> bool {
    match ffmpeg_available() {
        Ok(()) => true,
        Err(e) => {
            if std::env::var("LUOJIA_REQUIRE_ALL_BACKENDS").as_deref() == Ok("1") {
                panic!("ffmpeg is required (LUOJIA_REQUIRE_ALL_BACKENDS=1) but unavailable: {e}");
            }
            eprintln!("skipping: ffmpeg/ffprobe not available ({e})");
            false
        }
    }
}

fn synth(dir: &Path, name: &str, width: u32, height: u32, secs: u32, title: &str) -> PathBuf {
    let path = dir.join(name);
    let spec = SynthSpec {
        duration_secs: secs,
        width,
        height,
        title: title.into(),
        hue: 120,
    };
    synth_source(&path, &spec).expect("synthetic source");
    path
}

/// Runs ffmpeg with the given arguments (test fixtures only).
fn ffmpeg(args: &[&str]) {
    let status = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-y"])
        .args(args)
        .status()
        .expect("run ffmpeg");
    assert!(status.success(), "ffmpeg {args:?} failed");
}

/// Runs ffprobe with JSON output.
fn ffprobe(args: &[&str], input: &Path) -> Value {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-print_format", "json"])
        .args(args)
        .arg(input)
        .output()
        .expect("run ffprobe");
    assert!(
        out.status.success(),
        "ffprobe {args:?} {} failed: {}",
        input.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("ffprobe JSON")
}

fn streams(v: &Value) -> Vec<Value> {
    v["streams"].as_array().cloned().unwrap_or_default()
}

fn run(req: &TranscodeRequest<'_>) -> (Result<TranscodeOutput, MediaError>, Vec<Progress>) {
    let mut seen = Vec::new();
    let result = transcode(req, &mut |p| seen.push(p));
    (result, seen)
}

fn assert_progress_is_sane(seen: &[Progress]) {
    assert_eq!(seen.first().map(|p| &p.stage), Some(&Stage::Probe));
    let last = seen.last().expect("at least one progress report");
    assert_eq!((&last.stage, last.fraction), (&Stage::Done, 1.0));
    assert!(
        seen.windows(2).all(|w| w[0].fraction <= w[1].fraction),
        "progress went backwards: {seen:?}"
    );
    assert!(seen.iter().all(|p| (0.0..=1.0).contains(&p.fraction)));
}

/// `(duration, uri)` of each segment of a media playlist.
fn segments(playlist: &Path) -> Vec<(f64, String)> {
    let text = std::fs::read_to_string(playlist).expect("media playlist");
    let mut out = Vec::new();
    let mut pending = None;
    for line in text.lines() {
        if let Some(v) = line.strip_prefix("#EXTINF:") {
            pending = Some(
                v.trim_end_matches(',')
                    .parse::<f64>()
                    .expect("EXTINF duration"),
            );
        } else if !line.starts_with('#') && !line.is_empty() {
            out.push((pending.take().expect("EXTINF before URI"), line.to_owned()));
        }
    }
    out
}

/// Keyframe times of the first video stream.
fn keyframe_times(input: &Path) -> Vec<f64> {
    let v = ffprobe(
        &[
            "-skip_frame",
            "nokey",
            "-select_streams",
            "v:0",
            "-show_entries",
            "frame=pts_time",
        ],
        input,
    );
    v["frames"]
        .as_array()
        .expect("frames array")
        .iter()
        .map(|f| {
            f["pts_time"]
                .as_str()
                .and_then(|t| t.parse().ok())
                .expect("pts_time")
        })
        .collect()
}

fn assert_dir_gone_or_empty(dir: &Path) {
    if dir.exists() {
        let left: Vec<_> = std::fs::read_dir(dir).expect("read out_dir").collect();
        assert!(left.is_empty(), "{} still holds {left:?}", dir.display());
    }
}

/// A tiny source without audio, with two subtitle tracks: one rendition at source size,
/// a silent audio track, subtitles, poster from a frame, sprite, preview.
#[test]
fn small_silent_source_with_subtitles() {
    if !ffmpeg_or_skip() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let with_audio = synth(dir.path(), "a.mp4", 320, 180, 6, "测试 Test");
    let source = dir.path().join("silent.mp4");
    let (a, s) = (with_audio.to_str().unwrap(), source.to_str().unwrap());
    ffmpeg(&["-i", a, "-an", "-c", "copy", s]);

    let zh = dir.path().join("zh.srt");
    write_srt(&zh, &[(1.0, 2.5, "你好，世界"), (3.0, 5.0, "第二句")]).unwrap();
    let en = dir.path().join("en.srt");
    write_srt(&en, &[(1.0, 2.5, "Hello, world")]).unwrap();
    let subtitles = [
        SubtitleInput {
            lang: "zh-CN".into(),
            label: "简体中文".into(),
            path: zh,
        },
        SubtitleInput {
            lang: "en".into(),
            label: "English".into(),
            path: en,
        },
    ];
    let out = dir.path().join("out");
    let (result, seen) = run(&TranscodeRequest {
        input: &source,
        out_dir: &out,
        subtitles: &subtitles,
        poster: None,
    });
    let output = result.unwrap();
    assert_progress_is_sane(&seen);

    assert!(!output.probe.has_audio);
    let sizes: Vec<_> = output
        .renditions
        .iter()
        .map(|r| (r.name.as_str(), r.width, r.height))
        .collect();
    assert_eq!(sizes, vec![("180p", 320, 180)]);
    let r = &output.renditions[0];
    assert!(r.codecs.contains("mp4a.40.2"));
    assert!(r.bandwidth >= r.average_bandwidth.unwrap());

    // The master playlist: written by us, relative URIs, subtitle group.
    let master = std::fs::read_to_string(out.join(&output.master_playlist)).unwrap();
    assert!(master.starts_with("#EXTM3U\n"));
    assert!(master.contains("LANGUAGE=\"zh-CN\",DEFAULT=YES"));
    assert!(master.contains("NAME=\"English\",LANGUAGE=\"en\",DEFAULT=NO"));
    assert!(master.contains("SUBTITLES=\"subs\""));
    assert!(master.contains("\n180p/index.m3u8\n"));
    assert!(!master.contains("://") && !master.contains("URI=\"/"));

    // ffprobe reads the whole thing through the master playlist; audio is there (silent).
    let probed = ffprobe(&["-show_streams"], &out.join("master.m3u8"));
    let types: Vec<_> = streams(&probed)
        .iter()
        .map(|s| s["codec_type"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert!(types.contains(&"video".to_owned()), "{types:?}");
    assert!(types.contains(&"audio".to_owned()), "{types:?}");

    // Subtitles: WebVTT with the timestamp map, a one-segment playlist.
    assert_eq!(output.subtitles.len(), 2);
    assert_eq!(output.subtitles[0].path, Path::new("subs/zh-CN.vtt"));
    let vtt = std::fs::read_to_string(out.join("subs/zh-CN.vtt")).unwrap();
    assert!(vtt.starts_with("WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:"), "{vtt}");
    // ffmpeg leaves the hours out below one hour, which WebVTT allows.
    assert!(vtt.contains("00:01.000 --> 00:02.500\n你好，世界"), "{vtt}");
    let sub_playlist = std::fs::read_to_string(out.join("subs/zh-CN.m3u8")).unwrap();
    assert!(
        sub_playlist.contains("#EXT-X-TARGETDURATION:6\n"),
        "{sub_playlist}"
    );
    assert!(sub_playlist.contains("\nzh-CN.vtt\n#EXT-X-ENDLIST"));

    // Sprite: 6 one-second tiles of 160x90 in one row.
    let sprite = ffprobe(&["-show_streams"], &out.join(&output.sprite));
    assert_eq!(streams(&sprite)[0]["width"], 960);
    assert_eq!(streams(&sprite)[0]["height"], 90);
    let thumbs = std::fs::read_to_string(out.join(&output.sprite_vtt)).unwrap();
    assert_eq!(thumbs.matches("sprite.jpg#xywh=").count(), 6);
    assert!(thumbs.contains("00:00:05.000 --> 00:00:06.000\nsprite.jpg#xywh=800,0,160,90"));

    // Poster from a frame at the source's size.
    let poster = ffprobe(&["-show_streams"], &out.join(&output.poster));
    assert_eq!(streams(&poster)[0]["width"], 320);

    // Preview: the whole (short) movie, H.264 + AAC, moov atom first.
    let preview = ffprobe(
        &["-show_streams", "-show_format"],
        &out.join(&output.preview),
    );
    let codecs: Vec<_> = streams(&preview)
        .iter()
        .map(|s| s["codec_name"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(codecs, vec!["h264", "aac"]);
    let secs: f64 = preview["format"]["duration"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((secs - 6.0).abs() < 0.3, "preview lasts {secs}");
    let bytes = std::fs::read(out.join(&output.preview)).unwrap();
    let find = |tag: &[u8]| bytes.windows(4).position(|w| w == tag).unwrap();
    assert!(find(b"moov") < find(b"mdat"), "preview is not faststart");
}

/// A 720p source: three renditions, 4 s segments, keyframes every 2 s at the same times in
/// every rendition, a poster from a given image.
#[test]
fn hd_source_ladder_segments_and_keyframes() {
    if !ffmpeg_or_skip() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let source = synth(dir.path(), "hd.mp4", 1280, 720, 10, "Keyframes");
    let image = dir.path().join("cover.png");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "smptehdbars=size=1600x900",
        "-frames:v",
        "1",
        image.to_str().unwrap(),
    ]);
    let out = dir.path().join("out");
    let (result, seen) = run(&TranscodeRequest {
        input: &source,
        out_dir: &out,
        subtitles: &[],
        poster: Some(&image),
    });
    let output = result.unwrap();
    assert_progress_is_sane(&seen);
    let ladder_stage = Stage::Renditions {
        names: vec!["360p".into(), "480p".into(), "720p".into()],
    };
    let ladder_reports = seen.iter().filter(|p| p.stage == ladder_stage).count();
    assert!(
        ladder_reports >= 2,
        "too few ladder progress reports: {seen:?}"
    );

    let names: Vec<_> = output.renditions.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, vec!["360p", "480p", "720p"]);
    assert!(
        output
            .renditions
            .iter()
            .all(|r| r.height <= 720 && r.width <= 1280)
    );

    let master = std::fs::read_to_string(out.join("master.m3u8")).unwrap();
    assert_eq!(master.matches("#EXT-X-STREAM-INF:").count(), 3);
    assert!(
        master.contains("RESOLUTION=1280x720,FRAME-RATE=30.000,CODECS=\"avc1.64001f,mp4a.40.2\"")
    );
    assert!(!master.contains("SUBTITLES="));
    let probed = ffprobe(&["-show_streams"], &out.join("master.m3u8"));
    let heights: Vec<_> = streams(&probed)
        .iter()
        .filter(|s| s["codec_type"] == "video")
        .map(|s| s["height"].as_u64().unwrap())
        .collect();
    assert_eq!(heights.len(), 3, "{heights:?}");
    assert!(heights.iter().all(|h| *h <= 720));

    let mut reference_keyframes: Option<Vec<f64>> = None;
    for r in &output.renditions {
        let playlist = out.join(r.playlist_path());
        let segs = segments(&playlist);
        assert!(segs.len() >= 2, "{}: {segs:?}", r.name);
        for (i, (d, uri)) in segs.iter().enumerate() {
            assert!(
                !uri.contains('/'),
                "segment URI should be a bare file name: {uri}"
            );
            if i + 1 < segs.len() {
                assert!((3.5..=6.0).contains(d), "{} segment {i} lasts {d}", r.name);
            }
        }
        let keys = keyframe_times(&playlist);
        assert!(keys.len() >= 5, "{}: {keys:?}", r.name);
        for w in keys.windows(2) {
            let gap = w[1] - w[0];
            assert!(
                (gap - 2.0).abs() < 0.05,
                "{}: keyframe gap {gap} in {keys:?}",
                r.name
            );
        }
        match &reference_keyframes {
            None => reference_keyframes = Some(keys),
            Some(reference) => assert_eq!(&keys, reference, "{} keyframes differ", r.name),
        }
    }

    let poster = ffprobe(&["-show_streams"], &out.join("poster.jpg"));
    assert_eq!(streams(&poster)[0]["width"], 1280);
    assert_eq!(streams(&poster)[0]["height"], 720);
    // 10 tiles of 160x90, preview of 480p.
    let sprite = ffprobe(&["-show_streams"], &out.join("thumbs/sprite.jpg"));
    assert_eq!(streams(&sprite)[0]["width"], 1600);
    let preview = ffprobe(&["-show_streams"], &out.join("preview.mp4"));
    assert_eq!(streams(&preview)[0]["height"], 480);
}

#[test]
fn missing_input_is_input_missing() {
    if !ffmpeg_or_skip() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let (result, _) = run(&TranscodeRequest {
        input: &dir.path().join("nope.mp4"),
        out_dir: &out,
        subtitles: &[],
        poster: None,
    });
    assert!(
        matches!(result, Err(MediaError::InputMissing(_))),
        "{result:?}"
    );
    assert!(!out.exists());
    assert!(matches!(
        probe(&dir.path().join("nope.mp4")),
        Err(MediaError::InputMissing(_))
    ));
}

#[test]
fn text_file_is_not_a_video() {
    if !ffmpeg_or_skip() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("movie.mp4");
    std::fs::write(&fake, "this is not a movie\n".repeat(100)).unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let (result, _) = run(&TranscodeRequest {
        input: &fake,
        out_dir: &out,
        subtitles: &[],
        poster: None,
    });
    match result {
        Err(MediaError::NotAVideo { reason, .. }) => {
            assert!(reason.contains("not a recognised media file"), "{reason}")
        }
        other => panic!("expected NotAVideo, got {other:?}"),
    }
    assert_dir_gone_or_empty(&out);
}

#[test]
fn audio_only_file_is_not_a_video() {
    if !ffmpeg_or_skip() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let song = dir.path().join("song.m4a");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:duration=2",
        "-c:a",
        "aac",
        song.to_str().unwrap(),
    ]);
    let out = dir.path().join("out");
    let (result, _) = run(&TranscodeRequest {
        input: &song,
        out_dir: &out,
        subtitles: &[],
        poster: None,
    });
    match result {
        Err(MediaError::NotAVideo { reason, .. }) => assert!(reason.contains("audio only")),
        other => panic!("expected NotAVideo, got {other:?}"),
    }
    assert_dir_gone_or_empty(&out);
}

/// A failure after the renditions were written (a broken poster image) removes everything.
#[test]
fn late_failure_cleans_up_and_reports_the_step() {
    if !ffmpeg_or_skip() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let source = synth(dir.path(), "s.mp4", 320, 180, 2, "");
    let broken = dir.path().join("poster.png");
    std::fs::write(&broken, "not a png").unwrap();

    let created = dir.path().join("created");
    let (result, seen) = run(&TranscodeRequest {
        input: &source,
        out_dir: &created,
        subtitles: &[],
        poster: Some(&broken),
    });
    match result {
        Err(MediaError::Ffmpeg { step, stderr_tail }) => {
            assert_eq!(step, "poster");
            assert!(!stderr_tail.is_empty());
        }
        other => panic!("expected an ffmpeg error, got {other:?}"),
    }
    assert!(
        seen.iter()
            .any(|p| matches!(p.stage, Stage::Renditions { .. }))
    );
    assert!(
        !created.exists(),
        "the directory the job created is removed"
    );

    // An existing empty directory is kept, but emptied.
    let existing = dir.path().join("existing");
    std::fs::create_dir(&existing).unwrap();
    let (result, _) = run(&TranscodeRequest {
        input: &source,
        out_dir: &existing,
        subtitles: &[],
        poster: Some(&broken),
    });
    assert!(matches!(result, Err(MediaError::Ffmpeg { .. })));
    assert!(existing.is_dir());
    assert_dir_gone_or_empty(&existing);

    // A non-empty directory is refused and left alone.
    std::fs::write(existing.join("keep.txt"), "x").unwrap();
    let (result, _) = run(&TranscodeRequest {
        input: &source,
        out_dir: &existing,
        subtitles: &[],
        poster: None,
    });
    assert!(
        matches!(result, Err(MediaError::OutDirNotEmpty(_))),
        "{result:?}"
    );
    assert!(existing.join("keep.txt").exists());
}
