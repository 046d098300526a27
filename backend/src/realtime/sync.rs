//! Synchronized playback as pure functions.
//!
//! The server owns each room's *anchor*: "at server time `anchor_time` the movie was at
//! `position_ms`, playing (or not) at `rate`". Every client estimates its clock offset to
//! the server (see `docs/realtime.md`) and computes the expected position as
//! `position_ms + (server_now - anchor_time) * rate` while playing. Commands take effect
//! at a slightly future server time (`lead_ms`), so that every member can apply them at
//! the same moment instead of as they arrive. `version` increases with every change, and
//! a store writes a state only over the version it was computed from.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::protocol::PlaybackAction;
use crate::rooms::domain::PresenceStatus;

pub const MIN_RATE: f64 = 0.5;
pub const MAX_RATE: f64 = 2.0;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PlaybackState {
    pub movie_id: Option<i64>,
    pub playing: bool,
    /// Position (ms) at `anchor_time`.
    pub position_ms: f64,
    pub rate: f64,
    /// Server time (ms since the epoch) the position refers to.
    pub anchor_time: i64,
    pub version: i64,
}

impl PlaybackState {
    pub fn new(movie_id: Option<i64>, now: i64) -> Self {
        Self {
            movie_id,
            playing: false,
            position_ms: 0.0,
            rate: 1.0,
            anchor_time: now,
            version: 0,
        }
    }

    /// Where the movie is (or will be) at server time `t`.
    pub fn position_at(&self, t: i64) -> f64 {
        if self.playing {
            (self.position_ms + (t - self.anchor_time) as f64 * self.rate).max(0.0)
        } else {
            self.position_ms
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncError {
    Forbidden,
    Invalid(&'static str),
}

/// The state after `action`, effective at `now + lead_ms`. `duration_ms` (when known)
/// bounds seeks.
pub fn apply(
    state: &PlaybackState,
    action: &PlaybackAction,
    now: i64,
    lead_ms: i64,
    duration_ms: Option<i64>,
) -> Result<PlaybackState, SyncError> {
    let at = now + lead_ms;
    let mut next = state.clone();
    next.version = state.version + 1;
    next.anchor_time = at;
    next.position_ms = state.position_at(at);
    match action {
        PlaybackAction::Play => next.playing = true,
        PlaybackAction::Pause => next.playing = false,
        PlaybackAction::Seek { position_ms } => {
            let max = duration_ms.unwrap_or(i64::MAX);
            if *position_ms < 0 || *position_ms > max {
                return Err(SyncError::Invalid("position is outside the movie"));
            }
            next.position_ms = *position_ms as f64;
        }
        PlaybackAction::Rate { rate } => {
            if !(MIN_RATE..=MAX_RATE).contains(rate) || !rate.is_finite() {
                return Err(SyncError::Invalid("rate must be between 0.5 and 2"));
            }
            next.rate = *rate;
        }
        PlaybackAction::ChangeMovie { movie_id } => {
            next.movie_id = Some(*movie_id);
            next.playing = false;
            next.position_ms = 0.0;
            next.rate = 1.0;
        }
    }
    if let Some(d) = duration_ms
        && next.position_ms > d as f64
    {
        next.position_ms = d as f64;
        next.playing = false;
    }
    Ok(next)
}

/// Whether a requested play may start: the members not ready yet, or none.
pub fn not_ready(statuses: impl IntoIterator<Item = (i64, PresenceStatus)>) -> Vec<i64> {
    let mut waiting: Vec<i64> = statuses
        .into_iter()
        .filter(|(_, s)| *s != PresenceStatus::Ready)
        .map(|(id, _)| id)
        .collect();
    waiting.sort_unstable();
    waiting.dedup();
    waiting
}

#[cfg(test)]
mod tests {
    use super::*;

    fn playing_at(pos: f64, t: i64) -> PlaybackState {
        PlaybackState {
            movie_id: Some(1),
            playing: true,
            position_ms: pos,
            rate: 1.0,
            anchor_time: t,
            version: 3,
        }
    }

    #[test]
    fn position_advances_only_while_playing() {
        let s = playing_at(1000.0, 10_000);
        assert_eq!(s.position_at(12_000), 3000.0);
        let mut paused = s.clone();
        paused.playing = false;
        assert_eq!(paused.position_at(99_000), 1000.0);
        let mut fast = s;
        fast.rate = 2.0;
        assert_eq!(fast.position_at(11_000), 3000.0);
    }

    #[test]
    fn pause_freezes_the_position_at_the_effective_time() {
        let s = playing_at(0.0, 0);
        let p = apply(&s, &PlaybackAction::Pause, 5_000, 300, None).expect("pause");
        assert!(!p.playing);
        assert_eq!(p.position_ms, 5_300.0);
        assert_eq!(p.anchor_time, 5_300);
        assert_eq!(p.version, 4);
    }

    #[test]
    fn play_resumes_from_the_paused_position_in_the_future() {
        let mut s = playing_at(7_000.0, 0);
        s.playing = false;
        let p = apply(&s, &PlaybackAction::Play, 60_000, 500, None).expect("play");
        assert!(p.playing);
        assert_eq!(p.position_ms, 7_000.0);
        assert_eq!(p.anchor_time, 60_500);
        assert_eq!(p.position_at(61_500), 8_000.0);
    }

    #[test]
    fn seeks_are_bounded_and_rates_checked() {
        let s = playing_at(0.0, 0);
        assert_eq!(
            apply(&s, &PlaybackAction::Seek { position_ms: -1 }, 0, 0, None),
            Err(SyncError::Invalid("position is outside the movie"))
        );
        assert!(
            apply(
                &s,
                &PlaybackAction::Seek {
                    position_ms: 10_001
                },
                0,
                0,
                Some(10_000)
            )
            .is_err()
        );
        let p = apply(
            &s,
            &PlaybackAction::Seek { position_ms: 4_000 },
            100,
            200,
            Some(10_000),
        )
        .expect("seek");
        assert_eq!(
            (p.position_ms, p.playing, p.anchor_time),
            (4_000.0, true, 300)
        );
        assert!(apply(&s, &PlaybackAction::Rate { rate: 3.0 }, 0, 0, None).is_err());
        assert!(apply(&s, &PlaybackAction::Rate { rate: f64::NAN }, 0, 0, None).is_err());
        assert_eq!(
            apply(&s, &PlaybackAction::Rate { rate: 1.5 }, 0, 0, None)
                .expect("rate")
                .rate,
            1.5
        );
    }

    #[test]
    fn playing_past_the_end_stops_at_the_end() {
        let s = playing_at(9_000.0, 0);
        let p = apply(&s, &PlaybackAction::Pause, 5_000, 0, Some(10_000)).expect("pause");
        assert_eq!(p.position_ms, 10_000.0);
    }

    #[test]
    fn change_movie_resets() {
        let s = playing_at(9_000.0, 0);
        let p = apply(
            &s,
            &PlaybackAction::ChangeMovie { movie_id: 7 },
            1_000,
            300,
            None,
        )
        .expect("change");
        assert_eq!(
            (p.movie_id, p.playing, p.position_ms, p.rate),
            (Some(7), false, 0.0, 1.0)
        );
    }

    #[test]
    fn gate_lists_members_not_ready() {
        use PresenceStatus::*;
        assert!(not_ready([(1, Ready), (2, Ready)]).is_empty());
        assert_eq!(
            not_ready([(3, Buffering), (1, Ready), (2, Joining), (3, Buffering)]),
            vec![2, 3]
        );
    }

    /// The shared vectors (`sync_vectors.json`) that the browser's sync engine checks too.
    #[test]
    fn shared_vectors_agree() {
        let v: serde_json::Value =
            serde_json::from_str(include_str!("sync_vectors.json")).expect("vectors parse");
        let state = |c: &serde_json::Value| -> PlaybackState {
            serde_json::from_value(c["state"].clone()).expect("state")
        };
        let cases = v["position_at"].as_array().expect("position_at");
        assert!(!cases.is_empty());
        for c in cases {
            let t = c["t"].as_i64().expect("t");
            let want = c["expected"].as_f64().expect("expected");
            assert!(
                (state(c).position_at(t) - want).abs() < 1e-9,
                "position_at: {}",
                c["name"]
            );
        }
        let cases = v["apply"].as_array().expect("apply");
        assert!(!cases.is_empty());
        for c in cases {
            let action: PlaybackAction =
                serde_json::from_value(c["action"].clone()).expect("action");
            let got = apply(
                &state(c),
                &action,
                c["now"].as_i64().expect("now"),
                c["lead_ms"].as_i64().expect("lead_ms"),
                c["duration_ms"].as_i64(),
            );
            match c.get("expected") {
                Some(e) => {
                    let want: PlaybackState = serde_json::from_value(e.clone()).expect("expected");
                    assert_eq!(got, Ok(want), "apply: {}", c["name"]);
                }
                None => assert!(
                    matches!(got, Err(SyncError::Invalid(_))),
                    "apply: {} should be refused",
                    c["name"]
                ),
            }
        }
    }
}
