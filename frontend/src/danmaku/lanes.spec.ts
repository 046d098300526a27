import { describe, expect, it } from 'vitest';
import { LaneAllocator, type Placement } from './lanes';

/** Deterministic pseudo-random numbers (mulberry32), so a failure can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Largest horizontal overlap (px) of two scrolling comments of one lane, on the stage, over time. */
function worstScrollOverlap(alloc: LaneAllocator, a: Placement, b: Placement): number {
  const W = alloc.config.width;
  const from = Math.max(a.start, b.start);
  const to = Math.min(a.end, b.end);
  let worst = -Infinity;
  for (let t = from; t <= to; t += 0.005) {
    const ax = alloc.scrollX(a, t);
    const bx = alloc.scrollX(b, t);
    const left = Math.max(ax, bx, 0);
    const right = Math.min(ax + a.width, bx + b.width, W);
    worst = Math.max(worst, right - left);
  }
  return worst;
}

function checkNoOverlap(alloc: LaneAllocator, placed: Placement[]): void {
  for (let i = 0; i < placed.length; i++) {
    for (let j = i + 1; j < placed.length; j++) {
      const a = placed[i]!;
      const b = placed[j]!;
      if (a.mode !== b.mode || a.lane !== b.lane) continue;
      if (a.mode === 'scroll') {
        const overlap = worstScrollOverlap(alloc, a, b);
        expect(overlap, `lane ${a.lane}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`).toBeLessThanOrEqual(1e-6);
      } else {
        const together = Math.min(a.end, b.end) - Math.max(a.start, b.start);
        expect(together).toBeLessThanOrEqual(0);
      }
    }
  }
}

describe('LaneAllocator', () => {
  it('never lets two comments of a lane overlap, for random traffic', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const r = rng(seed);
      const alloc = new LaneAllocator({ width: 800, height: 240, laneHeight: 30, scrollDuration: 6 });
      const placed: Placement[] = [];
      let t = 0;
      for (let n = 0; n < 300; n++) {
        t += r() * 0.4;
        const mode = r() < 0.8 ? 'scroll' : r() < 0.5 ? 'top' : 'bottom';
        const width = 20 + r() * 500;
        const p = alloc.place(mode, width, t);
        if (p) placed.push(p);
      }
      expect(placed.length).toBeGreaterThan(50);
      checkNoOverlap(alloc, placed);
    }
  });

  it('puts a fast (long) comment behind a slow one only when it cannot catch up', () => {
    const alloc = new LaneAllocator({ width: 1000, height: 30, laneHeight: 30, scrollDuration: 10, gap: 0 });
    // Short comment: speed (1000+100)/10 = 110 px/s; its tail is in after 100/110 ≈ 0.91 s.
    expect(alloc.place('scroll', 100, 0)).not.toBeNull();
    // A 900 px comment (190 px/s) at 1 s would catch the first one before it leaves: refused.
    expect(alloc.place('scroll', 900, 1)).toBeNull();
    // The first leaves at 10 s; at 5 s the long one's head needs 190·5 = 950 ≤ 1000 px: fits.
    const p = alloc.place('scroll', 900, 5);
    expect(p?.lane).toBe(0);
  });

  it('waits for the tail and the gap of the previous comment', () => {
    const alloc = new LaneAllocator({ width: 1000, height: 30, laneHeight: 30, scrollDuration: 10, gap: 10 });
    alloc.place('scroll', 100, 0); // 110 px/s: 110 px (tail + gap) after 1 s
    expect(alloc.place('scroll', 50, 0.9)).toBeNull();
    expect(alloc.place('scroll', 50, 1.0)).not.toBeNull();
  });

  it('uses the top lanes first and drops what does not fit (density)', () => {
    const alloc = new LaneAllocator({ width: 1000, height: 300, laneHeight: 30, area: 0.2 });
    expect(alloc.laneCount()).toBe(2);
    expect(alloc.place('top', 50, 0)?.lane).toBe(0);
    expect(alloc.place('top', 50, 0)?.lane).toBe(1);
    expect(alloc.place('top', 50, 0)).toBeNull();
    // Bottom comments have their own lanes.
    expect(alloc.place('bottom', 50, 0)?.lane).toBe(0);
    // One's own comment may use every lane of the stage.
    expect(alloc.place('top', 50, 0, true)?.lane).toBe(2);
    // Expired top comments free their lane.
    expect(alloc.place('top', 50, 4)?.lane).toBe(0);
  });

  it('starts empty again after reset', () => {
    const alloc = new LaneAllocator({ height: 30, laneHeight: 30 });
    expect(alloc.place('scroll', 100, 0)).not.toBeNull();
    expect(alloc.place('scroll', 100, 0)).toBeNull();
    alloc.reset();
    expect(alloc.place('scroll', 100, 0)).not.toBeNull();
  });
});
