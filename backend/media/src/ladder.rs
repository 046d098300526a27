//! Choosing the renditions (the "bitrate ladder") for a source.
//!
//! The rungs are 360p, 480p, 720p and 1080p, each a bounding box (640x360, 854x480,
//! 1280x720, 1920x1080) that is turned upright for portrait sources. A rung is used when
//! the source fills it in at least one direction, i.e. when fitting the source into the box
//! needs no upscaling; the rendition keeps the source's aspect ratio inside the box. So a
//! 1920x800 film gets a "1080p" rendition of 1920x800 and a "720p" one of 1280x534, and a
//! 1080x1920 phone clip gets a 1080x1920 "1080p" rendition. No rendition is ever larger than
//! the source in either direction.
//!
//! A source smaller than the 360p box in both directions gets exactly one rendition at its
//! own size (rounded down to even numbers), named after its short side, e.g. "180p".
//!
//! Sizes are always even, because 4:2:0 chroma needs it. The nominal video bitrate of a rung
//! is scaled by the share of the box's pixels the rendition actually uses. It is a cap
//! (x264 runs in capped-CRF mode), so easy content comes out smaller.

use crate::probe::ProbeInfo;

/// One output variant of the HLS ladder.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendition {
    /// Name and directory of the rendition, e.g. "720p".
    pub name: String,
    /// Encoded width in pixels (even).
    pub width: u32,
    /// Encoded height in pixels (even).
    pub height: u32,
    /// Video bitrate cap (x264 `-maxrate`) in kbit/s.
    pub video_kbps: u32,
    /// AAC bitrate in kbit/s.
    pub audio_kbps: u32,
    /// `BANDWIDTH` of the variant in bit/s. From [`ladder`] this is the nominal
    /// `(video + audio) * 1.1`; after [`crate::transcode`] it is the peak segment bitrate
    /// measured on the produced segments (RFC 8216 §4.3.4.2).
    pub bandwidth: u64,
    /// `AVERAGE-BANDWIDTH` in bit/s, known only after encoding (`None` from [`ladder`]).
    pub average_bandwidth: Option<u64>,
    /// Output frame rate (also `FRAME-RATE` in the master playlist).
    pub frame_rate: f64,
    /// RFC 6381 codecs string, e.g. "avc1.64001f,mp4a.40.2" (H.264 High + AAC-LC).
    pub codecs: String,
}

impl Rendition {
    /// The media playlist of this rendition, relative to the output directory.
    pub fn playlist_path(&self) -> String {
        format!("{}/index.m3u8", self.name)
    }

    /// The H.264 level this rendition is encoded at, as x264 wants it ("3.1").
    pub(crate) fn level_arg(&self) -> String {
        let idc = h264_level_idc(self.width, self.height, self.frame_rate);
        format!("{}.{}", idc / 10, idc % 10)
    }
}

struct Rung {
    name: &'static str,
    box_w: u32,
    box_h: u32,
    video_kbps: u32,
    audio_kbps: u32,
}

const RUNGS: [Rung; 4] = [
    Rung {
        name: "360p",
        box_w: 640,
        box_h: 360,
        video_kbps: 800,
        audio_kbps: 96,
    },
    Rung {
        name: "480p",
        box_w: 854,
        box_h: 480,
        video_kbps: 1400,
        audio_kbps: 128,
    },
    Rung {
        name: "720p",
        box_w: 1280,
        box_h: 720,
        video_kbps: 2800,
        audio_kbps: 128,
    },
    Rung {
        name: "1080p",
        box_w: 1920,
        box_h: 1080,
        video_kbps: 5000,
        audio_kbps: 160,
    },
];

/// Lowest video bitrate we ever ask for, in kbit/s.
const MIN_VIDEO_KBPS: u32 = 100;

/// Headroom of the nominal `BANDWIDTH` over the sum of the bitrate caps.
const NOMINAL_HEADROOM: f64 = 1.1;

/// The renditions to encode for a source, lowest first. Never empty.
pub fn ladder(probe: &ProbeInfo) -> Vec<Rendition> {
    let fps = output_frame_rate(probe.frame_rate);
    let (src_w, src_h) = (probe.width.max(2), probe.height.max(2));
    let portrait = src_h > src_w;
    let mut out: Vec<Rendition> = RUNGS
        .iter()
        .filter_map(|rung| {
            let (bw, bh) = if portrait {
                (rung.box_h, rung.box_w)
            } else {
                (rung.box_w, rung.box_h)
            };
            let (w, h) = fit_without_upscaling(src_w, src_h, bw, bh)?;
            Some(make_rendition(
                rung.name.to_owned(),
                rung,
                w,
                h,
                bw,
                bh,
                fps,
            ))
        })
        .collect();
    if out.is_empty() {
        let lowest = &RUNGS[0];
        let (w, h) = (even_floor(src_w), even_floor(src_h));
        let name = format!("{}p", w.min(h));
        out.push(make_rendition(
            name,
            lowest,
            w,
            h,
            lowest.box_w,
            lowest.box_h,
            fps,
        ));
    }
    out
}

fn make_rendition(
    name: String,
    rung: &Rung,
    width: u32,
    height: u32,
    box_w: u32,
    box_h: u32,
    frame_rate: f64,
) -> Rendition {
    let area_share = f64::from(width) * f64::from(height) / (f64::from(box_w) * f64::from(box_h));
    let video_kbps =
        round_to_50((f64::from(rung.video_kbps) * area_share.min(1.0)) as u32).max(MIN_VIDEO_KBPS);
    let audio_kbps = rung.audio_kbps;
    let bandwidth = (f64::from(video_kbps + audio_kbps) * 1000.0 * NOMINAL_HEADROOM).round() as u64;
    let level = h264_level_idc(width, height, frame_rate);
    Rendition {
        name,
        width,
        height,
        video_kbps,
        audio_kbps,
        bandwidth,
        average_bandwidth: None,
        frame_rate,
        codecs: format!("avc1.6400{level:02x},mp4a.40.2"),
    }
}

/// Fits `src` into the box keeping the aspect ratio; `None` if that would upscale.
fn fit_without_upscaling(src_w: u32, src_h: u32, box_w: u32, box_h: u32) -> Option<(u32, u32)> {
    let scale = (f64::from(box_w) / f64::from(src_w)).min(f64::from(box_h) / f64::from(src_h));
    if scale > 1.0 + 1e-9 {
        return None;
    }
    let w = even_round(f64::from(src_w) * scale).min(even_floor(src_w));
    let h = even_round(f64::from(src_h) * scale).min(even_floor(src_h));
    Some((w, h))
}

/// Nearest even number, at least 2.
fn even_round(x: f64) -> u32 {
    (((x / 2.0).round() as u32) * 2).max(2)
}

/// Largest even number not above `x`, at least 2.
fn even_floor(x: u32) -> u32 {
    (x & !1).max(2)
}

fn round_to_50(kbps: u32) -> u32 {
    (kbps + 25) / 50 * 50
}

/// The frame rate we encode at: the source's, halved until it is at most 60, or 30 when
/// the source does not say.
pub(crate) fn output_frame_rate(source: f64) -> f64 {
    if !source.is_finite() || source < 1.0 {
        return 30.0;
    }
    let mut fps = source;
    while fps > 60.5 {
        fps /= 2.0;
    }
    fps
}

/// The frame rate as an ffmpeg `-r` value, exact for the NTSC rates (30000/1001 etc.).
pub(crate) fn rate_arg(fps: f64) -> String {
    for base in [24_u32, 30, 48, 60] {
        let ntsc = f64::from(base) * 1000.0 / 1001.0;
        if (fps - ntsc).abs() < 0.005 {
            return format!("{}/1001", base * 1000);
        }
    }
    let s = format!("{fps:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// Frames per GOP so that a keyframe falls every 2 seconds.
pub(crate) fn gop_frames(fps: f64) -> u32 {
    ((fps * 2.0).round() as u32).max(1)
}

/// The smallest H.264 level (×10, e.g. 31 for 3.1) that allows this size and rate,
/// from ITU-T H.264 table A-1 (macroblocks per second and per frame), starting at 3.0.
fn h264_level_idc(width: u32, height: u32, fps: f64) -> u32 {
    // (level_idc, MaxMBPS, MaxFS)
    const LEVELS: [(u32, f64, u32); 8] = [
        (30, 40_500.0, 1_620),
        (31, 108_000.0, 3_600),
        (32, 216_000.0, 5_120),
        (40, 245_760.0, 8_192),
        (42, 522_240.0, 8_704),
        (50, 589_824.0, 22_080),
        (51, 983_040.0, 36_864),
        (52, 2_073_600.0, 36_864),
    ];
    let mbs_w = width.div_ceil(16);
    let mbs_h = height.div_ceil(16);
    let frame_mbs = mbs_w * mbs_h;
    let longest = mbs_w.max(mbs_h);
    LEVELS
        .iter()
        .find(|(_, mbps, fs)| {
            let side_ok = f64::from(longest) <= (8.0 * f64::from(*fs)).sqrt();
            frame_mbs <= *fs && side_ok && f64::from(frame_mbs) * fps <= *mbps
        })
        .map_or(52, |(idc, _, _)| *idc)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(width: u32, height: u32) -> ProbeInfo {
        ProbeInfo {
            duration_secs: 60.0,
            width,
            height,
            frame_rate: 30.0,
            has_audio: true,
            video_codec: "h264".into(),
        }
    }

    fn sizes(width: u32, height: u32) -> Vec<(String, u32, u32)> {
        ladder(&source(width, height))
            .into_iter()
            .map(|r| (r.name, r.width, r.height))
            .collect()
    }

    fn s(name: &str, w: u32, h: u32) -> (String, u32, u32) {
        (name.to_owned(), w, h)
    }

    #[test]
    fn full_hd_source_gets_all_four_rungs() {
        assert_eq!(
            sizes(1920, 1080),
            vec![
                s("360p", 640, 360),
                s("480p", 854, 480),
                s("720p", 1280, 720),
                s("1080p", 1920, 1080)
            ]
        );
    }

    #[test]
    fn nothing_is_taller_or_wider_than_the_source() {
        for (w, h) in [
            (1280, 720),
            (1000, 700),
            (3840, 2160),
            (1921, 1081),
            (641, 359),
        ] {
            for r in ladder(&source(w, h)) {
                assert!(r.width <= w && r.height <= h, "{w}x{h} -> {r:?}");
            }
        }
        assert_eq!(sizes(3840, 2160).len(), 4);
        assert_eq!(sizes(1280, 720).last().unwrap().0, "720p");
    }

    #[test]
    fn sizes_are_even_and_keep_the_aspect_ratio() {
        // 2.4:1 scope film with odd dimensions.
        for r in ladder(&source(1919, 799)) {
            assert_eq!(r.width % 2, 0, "{r:?}");
            assert_eq!(r.height % 2, 0, "{r:?}");
            let aspect = f64::from(r.width) / f64::from(r.height);
            assert!((aspect - 1919.0 / 799.0).abs() < 0.03, "{r:?}");
        }
        assert_eq!(
            sizes(1920, 800),
            vec![
                s("360p", 640, 266),
                s("480p", 854, 356),
                s("720p", 1280, 534),
                s("1080p", 1920, 800)
            ]
        );
    }

    #[test]
    fn portrait_sources_use_upright_boxes() {
        assert_eq!(
            sizes(1080, 1920),
            vec![
                s("360p", 360, 640),
                s("480p", 480, 854),
                s("720p", 720, 1280),
                s("1080p", 1080, 1920)
            ]
        );
        // A narrow portrait clip smaller than the 480p box gets only 360p.
        assert_eq!(sizes(400, 720), vec![s("360p", 356, 640)]);
    }

    #[test]
    fn tiny_sources_get_one_rendition_at_their_own_size() {
        assert_eq!(sizes(320, 180), vec![s("180p", 320, 180)]);
        assert_eq!(sizes(321, 181), vec![s("180p", 320, 180)]);
        assert_eq!(sizes(120, 160), vec![s("120p", 120, 160)]);
        assert_eq!(sizes(1, 1), vec![s("2p", 2, 2)]);
        let tiny = &ladder(&source(320, 180))[0];
        assert!(tiny.video_kbps >= MIN_VIDEO_KBPS && tiny.video_kbps < 800);
    }

    #[test]
    fn bitrates_follow_the_pixels_and_bandwidth_has_headroom() {
        let l = ladder(&source(1920, 1080));
        assert_eq!(l[0].video_kbps, 800);
        assert_eq!(l[3].video_kbps, 5000);
        assert_eq!(l[3].bandwidth, 5_676_000);
        assert!(l.iter().all(|r| r.average_bandwidth.is_none()));
        let scope = ladder(&source(1920, 800));
        assert_eq!(scope[3].video_kbps, 3700);
    }

    #[test]
    fn codecs_carry_the_right_h264_level() {
        let l = ladder(&source(1920, 1080));
        let codecs: Vec<&str> = l.iter().map(|r| r.codecs.as_str()).collect();
        assert_eq!(
            codecs,
            vec![
                "avc1.64001e,mp4a.40.2",
                "avc1.64001f,mp4a.40.2",
                "avc1.64001f,mp4a.40.2",
                "avc1.640028,mp4a.40.2"
            ]
        );
        assert_eq!(l[3].level_arg(), "4.0");
        let mut fast = source(1920, 1080);
        fast.frame_rate = 60.0;
        assert_eq!(ladder(&fast)[3].codecs, "avc1.64002a,mp4a.40.2");
    }

    #[test]
    fn frame_rates_are_capped_and_written_exactly() {
        assert_eq!(output_frame_rate(120.0), 60.0);
        assert_eq!(output_frame_rate(100.0), 50.0);
        assert_eq!(output_frame_rate(59.94), 59.94);
        assert_eq!(output_frame_rate(0.0), 30.0);
        assert_eq!(output_frame_rate(f64::NAN), 30.0);
        assert_eq!(rate_arg(30000.0 / 1001.0), "30000/1001");
        assert_eq!(rate_arg(25.0), "25");
        assert_eq!(rate_arg(12.5), "12.5");
        assert_eq!(gop_frames(30.0), 60);
        assert_eq!(gop_frames(30000.0 / 1001.0), 60);
        assert_eq!(gop_frames(25.0), 50);
    }
}
