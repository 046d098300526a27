/** `754000` → `12:34`, `3754000` → `1:02:34`. */
export function formatClock(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const mm = h > 0 ? String(m).padStart(2, '0') : String(m);
  return `${h > 0 ? `${h}:` : ''}${mm}:${String(s).padStart(2, '0')}`;
}

/**
 * Where to resume: the saved position, unless it is too close to either end to be worth it
 * (the first 5 s, or the last 15 s / past 95 %, when the viewer has finished the movie).
 */
export function resumePoint(positionMs: number | null | undefined, durationMs: number | null | undefined): number {
  if (!positionMs || positionMs < 5000) return 0;
  if (durationMs && (positionMs > durationMs - 15_000 || positionMs > durationMs * 0.95)) return 0;
  return positionMs;
}
