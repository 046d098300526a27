/**
 * Lane allocator for the danmaku layer.
 *
 * The stage is cut into horizontal lanes of one line each. A comment gets a lane only if it can
 * never overlap the comment before it in that lane, at any time, so the layer never has to move
 * or hide a comment once it is shown.
 *
 * Times are in seconds of the *media* clock (the video's `currentTime`), so pausing, seeking and
 * playback-rate changes need no special cases: a comment's position is a pure function of it.
 *
 * Scrolling comments all take the same `scrollDuration` to cross the stage, so a long one moves
 * faster than a short one. Comment A (entered at `tA`, speed `vA`, width `wA`) and a new comment B
 * entering the same lane at `tB` never overlap iff
 *   1. A's tail has entered the stage (plus a gap) by `tB`:  vA·(tB − tA) ≥ wA + gap, and
 *   2. B, if faster, cannot catch A before A has left: B's head is still on the stage when A's
 *      tail reaches the left edge:  W − vB·(tA + D − tB) ≥ 0.
 * With one duration for all, the last comment of a lane is the binding one (it entered last and
 * leaves last), so a lane only remembers its last comment.
 *
 * Top and bottom comments stand still in the middle for `fixedDuration`; a lane of theirs is free
 * once its comment has expired. Each mode has its own lanes (top ones count from the top, bottom
 * ones from the bottom), as on the big Chinese video sites.
 */

export type DanmakuMode = 'scroll' | 'top' | 'bottom';

export interface LaneConfig {
  /** Stage width in px. */
  width: number;
  /** Stage height in px. */
  height: number;
  /** Height of one lane in px (font size × line height). */
  laneHeight: number;
  /** Share of the stage height that lanes may use, 0 to 1 (the "density" setting). */
  area: number;
  /** Seconds a scrolling comment takes to cross the stage. */
  scrollDuration: number;
  /** Seconds a top/bottom comment stays. */
  fixedDuration: number;
  /** Minimum px between two scrolling comments of a lane. */
  gap: number;
}

export const DEFAULT_LANE_CONFIG: LaneConfig = {
  width: 1280,
  height: 720,
  laneHeight: 32,
  area: 1,
  scrollDuration: 8,
  fixedDuration: 4,
  gap: 16,
};

/** One placed comment: where it is and when. */
export interface Placement {
  mode: DanmakuMode;
  lane: number;
  /** Media time (s) it entered. */
  start: number;
  /** Media time (s) it leaves. */
  end: number;
  /** Width in px. */
  width: number;
  /** Scroll speed in px/s (0 for top/bottom). */
  speed: number;
}

interface ScrollTail {
  start: number;
  speed: number;
  width: number;
}

export class LaneAllocator {
  private cfg: LaneConfig;
  private scroll: (ScrollTail | undefined)[] = [];
  private top: number[] = [];
  private bottom: number[] = [];

  constructor(cfg: Partial<LaneConfig> = {}) {
    this.cfg = { ...DEFAULT_LANE_CONFIG, ...cfg };
  }

  get config(): Readonly<LaneConfig> {
    return this.cfg;
  }

  /** Number of lanes the density setting allows (at least one). */
  laneCount(): number {
    const { height, laneHeight, area } = this.cfg;
    return Math.max(1, Math.floor((height * Math.min(1, Math.max(0, area))) / laneHeight));
  }

  /** New stage size or settings: placed comments keep their lanes; new ones use the new size. */
  resize(cfg: Partial<LaneConfig>): void {
    this.cfg = { ...this.cfg, ...cfg };
  }

  /** Forget every lane (after a seek everything on screen is cleared). */
  reset(): void {
    this.scroll = [];
    this.top = [];
    this.bottom = [];
  }

  /** Where the left edge of a scrolling placement is at media time `t` (px from the left). */
  scrollX(p: Placement, t: number): number {
    return this.cfg.width - p.speed * (t - p.start);
  }

  /**
   * Find a lane for a comment `width` px wide entering at media time `t`.
   * Returns null when no lane is free: the caller drops the comment (that is what density means).
   * `anyLane` ignores the density limit (one's own comment is always shown if the stage has room).
   */
  place(mode: DanmakuMode, width: number, t: number, anyLane = false): Placement | null {
    const lanes = anyLane
      ? Math.max(1, Math.floor(this.cfg.height / this.cfg.laneHeight))
      : this.laneCount();
    if (mode === 'scroll') return this.placeScroll(width, t, lanes);
    const expiries = mode === 'top' ? this.top : this.bottom;
    const end = t + this.cfg.fixedDuration;
    for (let lane = 0; lane < lanes; lane++) {
      const busyUntil = expiries[lane];
      if (busyUntil === undefined || busyUntil <= t) {
        expiries[lane] = end;
        return { mode, lane, start: t, end, width, speed: 0 };
      }
    }
    return null;
  }

  private placeScroll(width: number, t: number, lanes: number): Placement | null {
    const { width: stage, scrollDuration: d, gap } = this.cfg;
    const speed = (stage + width) / d;
    for (let lane = 0; lane < lanes; lane++) {
      const prev = this.scroll[lane];
      if (prev === undefined || scrollFits(prev, speed, t, stage, d, gap)) {
        this.scroll[lane] = { start: t, speed, width };
        return { mode: 'scroll', lane, start: t, end: t + d, width, speed };
      }
    }
    return null;
  }
}

function scrollFits(
  prev: ScrollTail,
  speed: number,
  t: number,
  stage: number,
  d: number,
  gap: number,
): boolean {
  const elapsed = t - prev.start;
  if (elapsed < 0) return false;
  if (prev.speed * elapsed < prev.width + gap) return false;
  if (speed <= prev.speed) return true;
  return stage - speed * (prev.start + d - t) >= 0;
}
