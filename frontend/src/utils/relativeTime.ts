// "3 分钟前" / "3 minutes ago" for a past instant, with Intl.RelativeTimeFormat.

const STEPS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['second', 60],
  ['minute', 60],
  ['hour', 24],
  ['day', 30],
  ['month', 12],
  ['year', Number.POSITIVE_INFINITY],
];

/** How long ago `iso` was, relative to `now` (ms), in `locale`. */
export function timeAgo(iso: string, now: number, locale: string): string {
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return '';
  let value = Math.max(0, (now - then) / 1000);
  const fmt = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' });
  for (const [unit, size] of STEPS) {
    if (value < size) return fmt.format(-Math.floor(value), unit);
    value /= size;
  }
  return '';
}
