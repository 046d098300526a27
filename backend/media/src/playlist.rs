//! HLS playlists we write ourselves, and reading the ones ffmpeg wrote.
//!
//! ffmpeg writes the media playlist of each rendition (`<name>/index.m3u8`). The master
//! playlist and the subtitle playlists are written here, because we want full control over
//! what the player sees:
//!
//! * every URI is relative (the files are served under a tokenized URL path, so an absolute
//!   path or host would bypass or break the token);
//! * `BANDWIDTH` is the *measured* peak segment bitrate as RFC 8216 §4.3.4.2 defines it (the
//!   largest bitrate of any run of consecutive segments lasting 0.5–1.5 × the target
//!   duration), computed from the segment files' sizes, so it includes the MPEG-TS overhead
//!   the player actually downloads. `AVERAGE-BANDWIDTH` is total bits / total duration.
//! * `CODECS` always lists `mp4a.40.2`, which is truthful because every rendition has an
//!   AAC track (a silent one is added when the source has no audio).
//! * subtitles form one `SUBTITLES="subs"` group; each track is a one-segment playlist
//!   pointing at its whole `.vtt` file. The first track is `DEFAULT=YES`.

use std::fmt::Write as _;

use crate::ladder::Rendition;
use crate::subtitles::SubtitleTrack;

/// `EXT-X-VERSION` of the master playlist; matches the media playlists ffmpeg writes with
/// `independent_segments`.
const MASTER_VERSION: u32 = 6;

/// GROUP-ID of the subtitle renditions.
pub(crate) const SUBTITLE_GROUP: &str = "subs";

/// The text of `master.m3u8`. Renditions are listed in the given order (lowest first, so
/// players that start with the first variant start fast).
pub(crate) fn master_playlist(renditions: &[Rendition], subtitles: &[SubtitleTrack]) -> String {
    let mut m = String::new();
    let _ = writeln!(m, "#EXTM3U");
    let _ = writeln!(m, "#EXT-X-VERSION:{MASTER_VERSION}");
    let _ = writeln!(m, "#EXT-X-INDEPENDENT-SEGMENTS");
    if !subtitles.is_empty() {
        m.push('\n');
    }
    for (i, track) in subtitles.iter().enumerate() {
        let _ = writeln!(
            m,
            "#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"{SUBTITLE_GROUP}\",NAME=\"{}\",LANGUAGE=\"{}\",\
             DEFAULT={},AUTOSELECT=YES,FORCED=NO,URI=\"{}\"",
            quoted_string(&track.label),
            quoted_string(&track.lang),
            if i == 0 { "YES" } else { "NO" },
            quoted_string(&uri(&track.playlist)),
        );
    }
    for r in renditions {
        m.push('\n');
        let _ = write!(m, "#EXT-X-STREAM-INF:BANDWIDTH={}", r.bandwidth);
        if let Some(avg) = r.average_bandwidth {
            let _ = write!(m, ",AVERAGE-BANDWIDTH={avg}");
        }
        let _ = write!(
            m,
            ",RESOLUTION={}x{},FRAME-RATE={:.3},CODECS=\"{}\"",
            r.width, r.height, r.frame_rate, r.codecs
        );
        if !subtitles.is_empty() {
            let _ = write!(m, ",SUBTITLES=\"{SUBTITLE_GROUP}\"");
        }
        let _ = writeln!(m, ",CLOSED-CAPTIONS=NONE");
        let _ = writeln!(m, "{}", r.playlist_path());
    }
    m
}

/// The media playlist of one subtitle track: a single segment, the whole `.vtt` file
/// (`vtt_name` is relative to the playlist), lasting the whole movie.
pub(crate) fn subtitle_playlist(vtt_name: &str, duration_secs: f64) -> String {
    let target = duration_secs.ceil().max(1.0) as u64;
    format!(
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:{target}\n#EXT-X-MEDIA-SEQUENCE:0\n\
         #EXT-X-PLAYLIST-TYPE:VOD\n#EXTINF:{duration_secs:.3},\n{vtt_name}\n#EXT-X-ENDLIST\n"
    )
}

/// A relative path as a playlist URI (always `/`-separated).
fn uri(path: &std::path::Path) -> String {
    path.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// Makes a value safe inside an attribute's double quotes (RFC 8216 quoted-string: no `"`,
/// CR or LF).
fn quoted_string(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '"' => '\'',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect()
}

/// One segment of a media playlist.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Segment {
    pub duration_secs: f64,
    /// URI as written in the playlist (relative to it).
    pub uri: String,
}

/// A parsed media playlist: target duration and segments.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MediaPlaylist {
    pub target_duration: f64,
    pub segments: Vec<Segment>,
}

/// Reads `#EXT-X-TARGETDURATION` and the `#EXTINF` + URI pairs of a media playlist.
pub(crate) fn parse_media_playlist(text: &str) -> MediaPlaylist {
    let mut target_duration = 0.0;
    let mut segments = Vec::new();
    let mut pending: Option<f64> = None;
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if let Some(v) = line.strip_prefix("#EXT-X-TARGETDURATION:") {
            target_duration = v.trim().parse().unwrap_or(0.0);
        } else if let Some(v) = line.strip_prefix("#EXTINF:") {
            let number = v.split(',').next().unwrap_or_default().trim();
            pending = number.parse().ok();
        } else if !line.starts_with('#')
            && let Some(duration_secs) = pending.take()
        {
            segments.push(Segment {
                duration_secs,
                uri: line.to_owned(),
            });
        }
    }
    MediaPlaylist {
        target_duration,
        segments,
    }
}

/// Peak and average bitrate (bit/s) of a rendition from its segments' durations and sizes.
///
/// The peak follows RFC 8216 §4.3.4.2: the largest bitrate of any run of consecutive
/// segments whose total duration is between 0.5 and 1.5 times the target duration. When no
/// run qualifies (a very short video), the average is used. Returns `None` without segments.
pub(crate) fn measured_bandwidth(sizes: &[(f64, u64)], target_duration: f64) -> Option<(u64, u64)> {
    let total_secs: f64 = sizes.iter().map(|(d, _)| d).sum();
    let total_bytes: u64 = sizes.iter().map(|(_, b)| b).sum();
    if total_secs <= 0.0 {
        return None;
    }
    let average = total_bytes as f64 * 8.0 / total_secs;
    let (low, high) = (0.5 * target_duration, 1.5 * target_duration);
    let mut peak: Option<f64> = None;
    for start in 0..sizes.len() {
        let (mut secs, mut bytes) = (0.0, 0_u64);
        for (d, b) in &sizes[start..] {
            secs += d;
            bytes += b;
            if secs > high + 1e-6 {
                break;
            }
            if secs >= low - 1e-6 && secs > 0.0 {
                let rate = bytes as f64 * 8.0 / secs;
                peak = Some(peak.map_or(rate, |p: f64| p.max(rate)));
            }
        }
    }
    let peak = peak.unwrap_or(average).max(average);
    Some((peak.ceil() as u64, average.ceil() as u64))
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn rendition(name: &str, w: u32, h: u32, bandwidth: u64, avg: Option<u64>) -> Rendition {
        Rendition {
            name: name.into(),
            width: w,
            height: h,
            video_kbps: 800,
            audio_kbps: 96,
            bandwidth,
            average_bandwidth: avg,
            frame_rate: 30.0,
            codecs: "avc1.64001e,mp4a.40.2".into(),
        }
    }

    fn track(lang: &str, label: &str) -> SubtitleTrack {
        SubtitleTrack {
            lang: lang.into(),
            label: label.into(),
            path: PathBuf::from(format!("subs/{lang}.vtt")),
            playlist: PathBuf::from("subs").join(format!("{lang}.m3u8")),
        }
    }

    #[test]
    fn master_without_subtitles() {
        let text = master_playlist(
            &[
                rendition("360p", 640, 360, 1_000_000, Some(700_000)),
                rendition("720p", 1280, 720, 3_000_000, None),
            ],
            &[],
        );
        assert_eq!(
            text,
            "#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-INDEPENDENT-SEGMENTS\n\n\
             #EXT-X-STREAM-INF:BANDWIDTH=1000000,AVERAGE-BANDWIDTH=700000,RESOLUTION=640x360,\
             FRAME-RATE=30.000,CODECS=\"avc1.64001e,mp4a.40.2\",CLOSED-CAPTIONS=NONE\n\
             360p/index.m3u8\n\n\
             #EXT-X-STREAM-INF:BANDWIDTH=3000000,RESOLUTION=1280x720,\
             FRAME-RATE=30.000,CODECS=\"avc1.64001e,mp4a.40.2\",CLOSED-CAPTIONS=NONE\n\
             720p/index.m3u8\n"
        );
    }

    #[test]
    fn master_with_subtitles_has_a_group_and_one_default() {
        let text = master_playlist(
            &[rendition("360p", 640, 360, 1_000_000, None)],
            &[track("zh-CN", "简体中文"), track("en", "English \"CC\"")],
        );
        assert!(text.contains(
            "#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"subs\",NAME=\"简体中文\",LANGUAGE=\"zh-CN\",\
             DEFAULT=YES,AUTOSELECT=YES,FORCED=NO,URI=\"subs/zh-CN.m3u8\"\n"
        ));
        assert!(text.contains(
            "NAME=\"English 'CC'\",LANGUAGE=\"en\",DEFAULT=NO,AUTOSELECT=YES,FORCED=NO,URI=\"subs/en.m3u8\""
        ));
        assert!(text.contains(",SUBTITLES=\"subs\",CLOSED-CAPTIONS=NONE\n360p/index.m3u8\n"));
        // No absolute URIs anywhere.
        assert!(!text.contains("URI=\"/") && !text.contains("://"));
        assert!(
            text.lines()
                .filter(|l| !l.starts_with('#'))
                .all(|l| !l.starts_with('/'))
        );
    }

    #[test]
    fn subtitle_playlist_is_one_segment_of_the_whole_movie() {
        assert_eq!(
            subtitle_playlist("zh-CN.vtt", 61.2),
            "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:62\n#EXT-X-MEDIA-SEQUENCE:0\n\
             #EXT-X-PLAYLIST-TYPE:VOD\n#EXTINF:61.200,\nzh-CN.vtt\n#EXT-X-ENDLIST\n"
        );
        assert!(subtitle_playlist("en.vtt", 0.2).contains("#EXT-X-TARGETDURATION:1\n"));
    }

    #[test]
    fn parses_ffmpeg_media_playlists() {
        let text = "#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:0\n\
                    #EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-INDEPENDENT-SEGMENTS\n\
                    #EXTINF:4.000000,\nseg_00000.ts\n#EXTINF:4.000000,\nseg_00001.ts\n\
                    #EXTINF:1.533333,\nseg_00002.ts\n#EXT-X-ENDLIST\n";
        let p = parse_media_playlist(text);
        assert_eq!(p.target_duration, 4.0);
        let durations: Vec<f64> = p.segments.iter().map(|s| s.duration_secs).collect();
        assert_eq!(durations, vec![4.0, 4.0, 1.533333]);
        assert_eq!(p.segments[2].uri, "seg_00002.ts");
    }

    #[test]
    fn peak_bandwidth_uses_windows_around_the_target_duration() {
        // 4 s segments of 1 MB, one of 2 MB, and a tiny last segment.
        let sizes = [
            (4.0, 1_000_000),
            (4.0, 2_000_000),
            (4.0, 1_000_000),
            (0.5, 200_000),
        ];
        let (peak, avg) = measured_bandwidth(&sizes, 4.0).unwrap();
        assert_eq!(peak, 4_000_000);
        assert_eq!(avg, (4_200_000.0_f64 * 8.0 / 12.5).ceil() as u64);
        // The 0.5 s segment alone (3.2 Mbit/s) is too short to be a window, but
        // together with its neighbour (4.5 s) it is one.
        let sizes = [(4.0, 500_000), (0.5, 200_000)];
        let (peak, _) = measured_bandwidth(&sizes, 4.0).unwrap();
        assert_eq!(peak, (700_000.0_f64 * 8.0 / 4.5).ceil() as u64);
    }

    #[test]
    fn short_videos_fall_back_to_the_average() {
        let (peak, avg) = measured_bandwidth(&[(1.0, 100_000)], 4.0).unwrap();
        assert_eq!(peak, 800_000);
        assert_eq!(avg, 800_000);
        assert_eq!(measured_bandwidth(&[], 4.0), None);
    }
}
