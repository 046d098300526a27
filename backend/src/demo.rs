//! `luojia seed-demo`: a small catalog of synthetic movies made with ffmpeg, so a fresh
//! `make run` shows something that plays. Sources are cached under
//! `<data_dir>/demo-src/` and ingested through the normal pipeline; a second run finds
//! every movie already ingested and returns at once.

use std::path::Path;

use anyhow::Context;
use luojia_media::{SubtitleInput, SynthSpec};
use sea_orm::DatabaseConnection;

use crate::config::Settings;
use crate::ingest::{IngestJob, IngestOutcome, MovieMeta, ingest, progress_bar};

struct DemoMovie {
    slug: &'static str,
    title: &'static str,
    original_title: &'static str,
    year: i32,
    synopsis: &'static str,
    director: &'static str,
    cast: &'static [&'static str],
    genres: &'static [&'static str],
    tags: &'static [&'static str],
    width: u32,
    height: u32,
    secs: u32,
    hue: u32,
    /// (lang, label, cues)
    subtitles: &'static [(&'static str, &'static str, &'static [&'static str])],
}

const DEMO: &[DemoMovie] = &[
    DemoMovie {
        slug: "luojia-spring",
        title: "珞珈山的春天",
        original_title: "Spring on Luojia Hill",
        year: 2024,
        synopsis: "樱花盛开的三月，一群室友决定在毕业前一起看完一百部电影。",
        director: "林晓",
        cast: &["陈一鸣", "周雨桐", "Alex Wang"],
        genres: &["drama", "family"],
        tags: &["校园", "樱花", "friendship"],
        width: 1280,
        height: 720,
        secs: 36,
        hue: 0,
        subtitles: &[
            (
                "zh-CN",
                "简体中文",
                &[
                    "三月的珞珈山。",
                    "樱花开了。",
                    "我们一起看电影吧！",
                    "一百部，一部都不能少。",
                ],
            ),
            (
                "en",
                "English",
                &[
                    "Luojia Hill in March.",
                    "The cherry blossoms are out.",
                    "Let's watch movies together!",
                    "A hundred of them, not one less.",
                ],
            ),
        ],
    },
    DemoMovie {
        slug: "star-courier",
        title: "星际信使",
        original_title: "The Star Courier",
        year: 2023,
        synopsis: "一名快递员驾驶旧飞船穿越小行星带，只为准时送达一封信。",
        director: "Mara Chen",
        cast: &["吴桐", "Lena Park"],
        genres: &["sci_fi", "adventure"],
        tags: &["space", "太空"],
        width: 1920,
        height: 1080,
        secs: 24,
        hue: 120,
        subtitles: &[],
    },
    DemoMovie {
        slug: "east-lake-nights",
        title: "东湖夜话",
        original_title: "Night Talks by East Lake",
        year: 2022,
        synopsis: "两位陌生人在东湖边的长椅上，从日落聊到天明。",
        director: "苏然",
        cast: &["李想", "王安"],
        genres: &["romance", "drama"],
        tags: &["武汉", "night"],
        width: 854,
        height: 480,
        secs: 20,
        hue: 240,
        subtitles: &[("zh-CN", "简体中文", &["今晚的月亮真圆。", "你也睡不着吗？"])],
    },
    DemoMovie {
        slug: "cherry-avenue-chase",
        title: "樱花大道追踪",
        original_title: "Chase on Cherry Avenue",
        year: 2021,
        synopsis: "一枚失窃的校徽，一场横穿校园的追逐。",
        director: "赵峰",
        cast: &["韩冰", "Tom Li"],
        genres: &["action", "thriller"],
        tags: &["校园", "chase"],
        width: 1280,
        height: 720,
        secs: 16,
        hue: 60,
        subtitles: &[],
    },
    DemoMovie {
        slug: "cats-and-blossoms",
        title: "樱花与猫",
        original_title: "Cats Under Cherry Blossoms",
        year: 2025,
        synopsis: "校园里的猫们开了一次关于谁最可爱的会议。",
        director: "小鱼",
        cast: &["橘子", "雪球"],
        genres: &["animation", "comedy", "family"],
        tags: &["cats", "猫"],
        width: 640,
        height: 360,
        secs: 12,
        hue: 300,
        subtitles: &[],
    },
];

fn cues(lines: &[&str], secs: u32) -> Vec<(f64, f64, String)> {
    let step = f64::from(secs) / lines.len().max(1) as f64;
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            (
                i as f64 * step + 0.5,
                (i + 1) as f64 * step - 0.5,
                (*l).to_owned(),
            )
        })
        .collect()
}

fn make_sources(
    dir: &Path,
    m: &DemoMovie,
) -> anyhow::Result<(std::path::PathBuf, Vec<SubtitleInput>)> {
    std::fs::create_dir_all(dir)?;
    let video = dir.join(format!("{}.mp4", m.slug));
    if !video.exists() {
        let tmp = dir.join(format!(".{}.mp4", m.slug));
        luojia_media::synth_source(
            &tmp,
            &SynthSpec {
                duration_secs: m.secs,
                width: m.width,
                height: m.height,
                title: format!("{} · {}", m.title, m.original_title),
                hue: m.hue,
            },
        )?;
        std::fs::rename(&tmp, &video)?;
    }
    let mut subs = Vec::new();
    for (lang, label, lines) in m.subtitles {
        let path = dir.join(format!("{}.{lang}.srt", m.slug));
        if !path.exists() {
            let c = cues(lines, m.secs);
            let borrowed: Vec<(f64, f64, &str)> =
                c.iter().map(|(a, b, t)| (*a, *b, t.as_str())).collect();
            luojia_media::write_srt(&path, &borrowed)?;
        }
        subs.push(SubtitleInput {
            lang: (*lang).to_owned(),
            label: (*label).to_owned(),
            path,
        });
    }
    Ok((video, subs))
}

pub async fn seed(settings: &Settings, db: &DatabaseConnection) -> anyhow::Result<()> {
    luojia_media::ffmpeg_available().context("the demo catalog is made with ffmpeg")?;
    let dir = settings.data_dir.join("demo-src");
    for (i, m) in DEMO.iter().enumerate() {
        let src_dir = dir.clone();
        let (video, subtitles) =
            tokio::task::spawn_blocking(move || make_sources(&src_dir, m)).await??;
        let job = IngestJob {
            input: video,
            meta: MovieMeta {
                title: Some(m.title.to_owned()),
                original_title: Some(m.original_title.to_owned()),
                year: Some(m.year),
                synopsis: Some(m.synopsis.to_owned()),
                director: Some(m.director.to_owned()),
                cast: m.cast.iter().map(|s| (*s).to_owned()).collect(),
                genres: m.genres.iter().map(|s| (*s).to_owned()).collect(),
                tags: m.tags.iter().map(|s| (*s).to_owned()).collect(),
            },
            movie_id: None,
            subtitles,
            poster: None,
            force: false,
        };
        let label = format!("[{}/{}] {}", i + 1, DEMO.len(), m.title);
        match ingest(settings, db, job, progress_bar(label.clone())).await? {
            IngestOutcome::Ingested(id) => eprintln!("{label}: ready (movie {id})"),
            IngestOutcome::Unchanged(id) => eprintln!("{label}: already there (movie {id})"),
        }
    }
    Ok(())
}
