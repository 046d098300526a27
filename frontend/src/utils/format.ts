/** `1:02:03` or `12:34` from milliseconds. */
export function formatClock(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const mm = h ? String(m).padStart(2, '0') : String(m);
  return `${h ? `${h}:` : ''}${mm}:${String(s).padStart(2, '0')}`;
}

/** Fraction watched, 0 to 1 (0 when the duration is unknown). */
export function progressOf(positionMs: number, durationMs: number | null | undefined): number {
  if (!durationMs || durationMs <= 0) return 0;
  return Math.min(1, Math.max(0, positionMs / durationMs));
}

/** A rating out of 10 with one decimal, or null when nobody rated. */
export function formatRating(avg: number, count: number): string | null {
  return count > 0 ? avg.toFixed(1) : null;
}
