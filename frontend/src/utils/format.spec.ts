import { describe, expect, it } from 'vitest';
import { formatClock, formatRating, progressOf } from './format';

describe('format', () => {
  it('formats clocks', () => {
    expect(formatClock(0)).toBe('0:00');
    expect(formatClock(754_000)).toBe('12:34');
    expect(formatClock(3_723_000)).toBe('1:02:03');
    expect(formatClock(-5)).toBe('0:00');
  });
  it('clamps progress', () => {
    expect(progressOf(50, 100)).toBe(0.5);
    expect(progressOf(500, 100)).toBe(1);
    expect(progressOf(5, null)).toBe(0);
  });
  it('shows no rating without votes', () => {
    expect(formatRating(0, 0)).toBeNull();
    expect(formatRating(8.25, 3)).toBe('8.3');
  });
});
