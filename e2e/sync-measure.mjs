// Measuring sync from the frames on screen, shared by e2e/room.test.mjs and the "watch"
// benchmark (scripts/bench/lib/watch-sync.mjs). A frame is { at, err }: the wall-clock instant it
// was shown (performance.timeOrigin + requestVideoFrameCallback expectedDisplayTime) and its
// mediaTime minus the room's expected position at that instant (ms).

/** p50 / p95 / max of |x| (ms, one decimal); nulls when empty. */
export function stats(xs) {
  const v = xs.map(Math.abs).sort((a, b) => a - b);
  if (!v.length) return { n: 0, p50: null, p95: null, max: null };
  const q = (p) => v[Math.min(v.length - 1, Math.floor(p * v.length))];
  const r = (x) => Math.round(x * 10) / 10;
  return { n: v.length, p50: r(q(0.5)), p95: r(q(0.95)), max: r(v.at(-1)) };
}

/**
 * Drift between two pages: for each frame of `fa`, the frame of `fb` shown nearest in time
 * (at most 20 ms apart); the difference of their errors against the same timeline is their
 * position difference mapped to one instant.
 */
export function pairDrift(fa, fb) {
  const d = [];
  let j = 0;
  for (const f of fa) {
    while (j + 1 < fb.length && Math.abs(fb[j + 1].at - f.at) <= Math.abs(fb[j].at - f.at)) j++;
    if (fb[j] && Math.abs(fb[j].at - f.at) <= 20) d.push(f.err - fb[j].err);
  }
  return d;
}
