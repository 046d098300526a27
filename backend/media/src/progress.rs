//! Progress reporting for a whole transcode job.
//!
//! A job is a fixed list of steps planned up front, each with an estimated cost (roughly
//! "seconds of 720p x264 work", see [`crate::transcode`]). The overall fraction is
//! `(cost of finished steps + cost of the current step × its own fraction) / total cost`,
//! where the current step's fraction comes from ffmpeg's `out_time`. Because the plan is
//! fixed and each step's fraction is clamped to 0..=1, the overall fraction can only grow;
//! [`Tracker`] additionally never reports a smaller number than before, and reports exactly
//! 1.0 only with [`Stage::Done`].

/// The step a job is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stage {
    /// Reading the input with ffprobe.
    Probe,
    /// Encoding the HLS ladder: all renditions in one ffmpeg run.
    Renditions {
        /// Names of the renditions being encoded, lowest first, e.g. ["360p", "720p"].
        names: Vec<String>,
    },
    /// Converting subtitles to WebVTT and writing their playlists.
    Subtitles,
    /// Writing `poster.jpg`.
    Poster,
    /// Writing the seek-preview sprite and its WebVTT index.
    Sprite,
    /// Encoding `preview.mp4`.
    Preview,
    /// Everything is written; `fraction` is 1.0.
    Done,
}

/// A progress report: the current stage and how much of the whole job is done.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    /// What the job is doing now.
    pub stage: Stage,
    /// Share of the whole job that is done, 0..=1, never decreasing.
    pub fraction: f64,
}

/// Smallest change of the overall fraction worth a report (ffmpeg reports every 0.5 s,
/// and twice per block; this drops the duplicates).
const MIN_STEP: f64 = 0.0005;

/// Turns per-step fractions into monotonic whole-job progress reports.
pub(crate) struct Tracker<'a> {
    sink: &'a mut dyn FnMut(Progress),
    plan: Vec<(Stage, f64)>,
    total: f64,
    /// Index of the current step in `plan`; `None` before the first `begin`.
    current: Option<usize>,
    /// Sum of the costs of the finished steps.
    finished_cost: f64,
    last: f64,
}

impl<'a> Tracker<'a> {
    /// A tracker for the given steps and their estimated costs, in execution order.
    pub(crate) fn new(sink: &'a mut dyn FnMut(Progress), plan: Vec<(Stage, f64)>) -> Self {
        let plan: Vec<(Stage, f64)> = plan
            .into_iter()
            .map(|(stage, cost)| (stage, if cost.is_finite() { cost.max(0.0) } else { 0.0 }))
            .collect();
        let total = plan.iter().map(|(_, c)| c).sum();
        Tracker {
            sink,
            plan,
            total,
            current: None,
            finished_cost: 0.0,
            last: 0.0,
        }
    }

    /// Finishes the current step (if any) and starts the next one in the plan, which must
    /// be `stage`.
    pub(crate) fn begin(&mut self, stage: &Stage) {
        let next = match self.current {
            Some(i) => {
                self.finished_cost += self.plan[i].1;
                i + 1
            }
            None => 0,
        };
        debug_assert!(
            self.plan.get(next).is_some_and(|(s, _)| s == stage),
            "step {stage:?} is not the next one in the plan"
        );
        self.current = Some(next.min(self.plan.len().saturating_sub(1)));
        let fraction = self.overall(0.0);
        self.last = fraction;
        (self.sink)(Progress {
            stage: stage.clone(),
            fraction,
        });
    }

    /// Reports that the current step is `local` (0..=1) done.
    pub(crate) fn update(&mut self, local: f64) {
        let Some(i) = self.current else { return };
        let fraction = self.overall(local);
        if fraction >= self.last + MIN_STEP {
            self.last = fraction;
            (self.sink)(Progress {
                stage: self.plan[i].0.clone(),
                fraction,
            });
        }
    }

    /// Reports [`Stage::Done`] with fraction 1.0.
    pub(crate) fn done(&mut self) {
        self.last = 1.0;
        (self.sink)(Progress {
            stage: Stage::Done,
            fraction: 1.0,
        });
    }

    /// The whole-job fraction when the current step is `local` done; below 1.0 until
    /// [`Tracker::done`], never below the last report.
    fn overall(&self, local: f64) -> f64 {
        let Some(i) = self.current else {
            return self.last;
        };
        if self.total <= 0.0 {
            return self.last;
        }
        let local = if local.is_finite() {
            local.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let raw = (self.finished_cost + self.plan[i].1 * local) / self.total;
        raw.clamp(self.last, 0.999)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn renditions(names: &[&str]) -> Stage {
        Stage::Renditions {
            names: names.iter().map(|n| n.to_string()).collect(),
        }
    }

    fn run(steps: &[(Stage, Vec<f64>)], costs: &[f64]) -> Vec<Progress> {
        let mut seen = Vec::new();
        let mut sink = |p: Progress| seen.push(p);
        let plan = steps
            .iter()
            .zip(costs)
            .map(|((s, _), c)| (s.clone(), *c))
            .collect();
        let mut tracker = Tracker::new(&mut sink, plan);
        for (stage, updates) in steps {
            tracker.begin(stage);
            for u in updates {
                tracker.update(*u);
            }
        }
        tracker.done();
        seen
    }

    #[test]
    fn fractions_are_weighted_by_cost_and_monotonic() {
        let steps = vec![
            (renditions(&["360p"]), vec![0.5, 1.0]),
            (Stage::Subtitles, vec![0.25, 0.2, 1.0, 1.0]),
            (Stage::Preview, vec![0.5, f64::NAN, 2.0]),
        ];
        let seen = run(&steps, &[1.0, 3.0, 0.0]);
        let fractions: Vec<f64> = seen.iter().map(|p| p.fraction).collect();
        assert!(fractions.windows(2).all(|w| w[0] <= w[1]), "{fractions:?}");
        assert_eq!(seen.first().unwrap().stage, renditions(&["360p"]));
        assert_eq!(seen.first().unwrap().fraction, 0.0);
        // Renditions half done = 0.5 of 4 cost units.
        assert!(seen.iter().any(|p| p.fraction == 0.125));
        // Subtitles a quarter done: (1 + 0.75) / 4.
        assert!(
            seen.iter()
                .any(|p| p.fraction == 0.4375 && p.stage == Stage::Subtitles)
        );
        assert_eq!(
            seen.last().unwrap(),
            &Progress {
                stage: Stage::Done,
                fraction: 1.0
            }
        );
        assert!(seen[..seen.len() - 1].iter().all(|p| p.fraction < 1.0));
    }

    #[test]
    fn duplicate_updates_are_not_reported_twice() {
        let steps = vec![(Stage::Sprite, vec![0.3, 0.3, 0.3])];
        let seen = run(&steps, &[1.0]);
        let sprite_reports = seen.iter().filter(|p| p.stage == Stage::Sprite).count();
        // One for `begin` and one for the first 0.3.
        assert_eq!(sprite_reports, 2);
    }

    #[test]
    fn zero_total_cost_still_ends_at_one() {
        let steps = vec![(Stage::Poster, vec![0.5])];
        let seen = run(&steps, &[0.0]);
        assert_eq!(seen.last().unwrap().fraction, 1.0);
        assert!(seen.iter().all(|p| p.fraction.is_finite()));
    }
}
