//! Seek-preview thumbnails: one sprite image plus a WebVTT index.
//!
//! This is the format players (video.js, Plyr, Vidstack, hls.js UIs) understand: each cue of
//! `thumbs/thumbs.vtt` covers an interval of the movie and points at a tile of
//! `thumbs/sprite.jpg` with a media fragment, `sprite.jpg#xywh=x,y,w,h`. One image means one
//! request for the whole movie.
//!
//! One tile is taken every `interval` seconds, with the interval the smallest whole number
//! of seconds that keeps the count at or below [`MAX_TILES`]. Tiles are [`TILE_WIDTH`] px
//! wide with the movie's aspect ratio, [`COLUMNS`] to a row. The tiles are cut from the
//! lowest rendition rather than the source: decoding 360p is far cheaper than decoding the
//! original, and 160 px tiles gain nothing from more.

use std::fmt::Write as _;

use crate::subtitles::timestamp;

/// Most tiles in a sprite.
pub(crate) const MAX_TILES: u32 = 100;
/// Width of a tile in pixels.
pub(crate) const TILE_WIDTH: u32 = 160;
/// Tiles per row.
pub(crate) const COLUMNS: u32 = 10;

/// Directory of the sprite and its index inside the output directory.
pub(crate) const THUMBS_DIR: &str = "thumbs";
pub(crate) const SPRITE_NAME: &str = "sprite.jpg";
pub(crate) const SPRITE_VTT_NAME: &str = "thumbs.vtt";

/// Geometry of a sprite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SpritePlan {
    /// Seconds between tiles.
    pub interval_secs: u32,
    /// Number of tiles.
    pub count: u32,
    pub columns: u32,
    pub rows: u32,
    pub tile_width: u32,
    pub tile_height: u32,
}

impl SpritePlan {
    /// Plans a sprite for a movie of this duration and display size.
    pub(crate) fn new(duration_secs: f64, width: u32, height: u32) -> SpritePlan {
        let duration = if duration_secs.is_finite() {
            duration_secs.max(0.0)
        } else {
            0.0
        };
        let interval_secs = ((duration / f64::from(MAX_TILES)).ceil() as u32).max(1);
        let count = ((duration / f64::from(interval_secs)).ceil() as u32).clamp(1, MAX_TILES);
        let columns = count.min(COLUMNS);
        let rows = count.div_ceil(columns);
        let aspect = f64::from(height.max(1)) / f64::from(width.max(1));
        let tile_height = ((((f64::from(TILE_WIDTH) * aspect) / 2.0).round() as u32) * 2).max(2);
        SpritePlan {
            interval_secs,
            count,
            columns,
            rows,
            tile_width: TILE_WIDTH,
            tile_height,
        }
    }

    /// The ffmpeg filter that samples, scales and tiles the frames.
    pub(crate) fn filter(&self) -> String {
        format!(
            "setpts=PTS-STARTPTS,fps=1/{},scale={}:{},tile={}x{}",
            self.interval_secs, self.tile_width, self.tile_height, self.columns, self.rows
        )
    }

    /// The WebVTT index: one cue per tile, the last one ending at the end of the movie.
    pub(crate) fn vtt(&self, duration_secs: f64) -> String {
        let mut vtt = String::from("WEBVTT\n");
        for i in 0..self.count {
            let start = f64::from(i * self.interval_secs);
            let end = if i + 1 == self.count {
                duration_secs.max(start + 0.001)
            } else {
                f64::from((i + 1) * self.interval_secs)
            };
            let x = (i % self.columns) * self.tile_width;
            let y = (i / self.columns) * self.tile_height;
            let _ = write!(
                vtt,
                "\n{} --> {}\n{SPRITE_NAME}#xywh={x},{y},{},{}\n",
                timestamp(start, '.'),
                timestamp(end, '.'),
                self.tile_width,
                self.tile_height
            );
        }
        vtt
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_movies_get_one_tile_per_second() {
        let p = SpritePlan::new(6.0, 320, 180);
        assert_eq!(
            p,
            SpritePlan {
                interval_secs: 1,
                count: 6,
                columns: 6,
                rows: 1,
                tile_width: 160,
                tile_height: 90
            }
        );
        assert_eq!(
            p.filter(),
            "setpts=PTS-STARTPTS,fps=1/1,scale=160:90,tile=6x1"
        );
    }

    #[test]
    fn long_movies_stay_within_the_tile_budget() {
        let p = SpritePlan::new(7200.0, 1920, 1080);
        assert_eq!(
            (p.interval_secs, p.count, p.columns, p.rows),
            (72, 100, 10, 10)
        );
        let p = SpritePlan::new(100.5, 1920, 1080);
        assert_eq!((p.interval_secs, p.count), (2, 51));
        assert_eq!(p.rows, 6);
        for d in [0.0, 0.4, 1.0, 99.0, 100.0, 101.0, 999.9, 86_400.0] {
            let p = SpritePlan::new(d, 1280, 720);
            assert!((1..=MAX_TILES).contains(&p.count), "{d}: {p:?}");
            assert!(f64::from(p.count * p.interval_secs) >= d, "{d}: {p:?}");
            assert!(p.columns * p.rows >= p.count);
        }
    }

    #[test]
    fn tiles_keep_the_aspect_ratio_and_are_even() {
        assert_eq!(SpritePlan::new(10.0, 1080, 1920).tile_height, 284);
        assert_eq!(SpritePlan::new(10.0, 1920, 800).tile_height, 66);
        assert_eq!(SpritePlan::new(10.0, 0, 0).tile_height, 160);
    }

    #[test]
    fn vtt_cues_point_at_the_right_tiles() {
        let p = SpritePlan::new(23.5, 1280, 720);
        assert_eq!(
            (p.interval_secs, p.count, p.columns, p.rows),
            (1, 24, 10, 3)
        );
        let vtt = p.vtt(23.5);
        assert!(
            vtt.starts_with(
                "WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nsprite.jpg#xywh=0,0,160,90\n"
            )
        );
        // Tile 11 is the second of the second row.
        assert!(vtt.contains("\n00:00:11.000 --> 00:00:12.000\nsprite.jpg#xywh=160,90,160,90\n"));
        // The last cue ends with the movie.
        assert!(vtt.ends_with("\n00:00:23.000 --> 00:00:23.500\nsprite.jpg#xywh=480,180,160,90\n"));
        assert_eq!(vtt.matches("-->").count(), 24);
    }
}
