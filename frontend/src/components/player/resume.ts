/**
 * Where to resume: the saved position, unless it is too close to either end to be worth it
 * (the first 5 s, or the last 15 s / past 95 %, when the viewer has finished the movie).
 */
export function resumePoint(positionMs: number | null | undefined, durationMs: number | null | undefined): number {
  if (!positionMs || positionMs < 5000) return 0;
  if (durationMs && (positionMs > durationMs - 15_000 || positionMs > durationMs * 0.95)) return 0;
  return positionMs;
}
