//! Measures ingest speed: makes a synthetic source and transcodes it, printing how many
//! times real time each part ran.
//!
//! `cargo run --release -p luojia-media --example ingest_bench -- [WIDTH HEIGHT SECONDS]`
//! (default 1920 1080 30). Work files go to a temporary directory that is removed afterwards.

use std::path::Path;
use std::time::Instant;

use luojia_media::{
    Progress, Stage, SubtitleInput, SynthSpec, TranscodeRequest, synth_source, transcode, write_srt,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<u32> = std::env::args()
        .skip(1)
        .map(|a| a.parse())
        .collect::<Result<_, _>>()?;
    let (width, height, secs) = match args[..] {
        [w, h, s] => (w, h, s),
        [] => (1920, 1080, 30),
        _ => return Err("usage: ingest_bench [WIDTH HEIGHT SECONDS]".into()),
    };
    let work = std::env::temp_dir().join(format!("luojia-ingest-bench-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;
    let result = run(&work, width, height, secs);
    std::fs::remove_dir_all(&work)?;
    result
}

fn run(work: &Path, width: u32, height: u32, secs: u32) -> Result<(), Box<dyn std::error::Error>> {
    let source = work.join("source.mp4");
    let spec = SynthSpec {
        duration_secs: secs,
        width,
        height,
        title: "洛珈影院 ingest bench".into(),
        hue: 200,
    };
    let t = Instant::now();
    synth_source(&source, &spec)?;
    let synth_secs = t.elapsed().as_secs_f64();
    println!(
        "synth   {width}x{height} {secs}s: {synth_secs:.1}s ({:.2}x real time)",
        f64::from(secs) / synth_secs
    );

    let srt = work.join("zh.srt");
    write_srt(&srt, &[(1.0, 3.0, "你好"), (4.0, 6.0, "世界")])?;
    let subtitles = [SubtitleInput {
        lang: "zh-CN".into(),
        label: "简体中文".into(),
        path: srt,
    }];
    let out = work.join("out");
    let req = TranscodeRequest {
        input: &source,
        out_dir: &out,
        subtitles: &subtitles,
        poster: None,
    };
    let t = Instant::now();
    let mut stage_started = Instant::now();
    let mut current: Option<Stage> = None;
    let mut on_progress = |p: Progress| {
        if current.as_ref() != Some(&p.stage) {
            if let Some(stage) = current.take() {
                println!("  {stage:?}: {:.1}s", stage_started.elapsed().as_secs_f64());
            }
            stage_started = Instant::now();
            current = Some(p.stage);
        }
    };
    let output = transcode(&req, &mut on_progress)?;
    let total = t.elapsed().as_secs_f64();
    println!(
        "ingest  {width}x{height} {secs}s: {total:.1}s ({:.2}x real time), renditions: {}",
        f64::from(secs) / total,
        output
            .renditions
            .iter()
            .map(|r| format!("{} {}kbit/s peak", r.name, r.bandwidth / 1000))
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(())
}
