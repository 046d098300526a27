import { describe, expect, it } from 'vitest';
import { formatClock, resumePoint } from './formatTime';

describe('formatClock', () => {
  it('prints minutes and hours', () => {
    expect(formatClock(0)).toBe('0:00');
    expect(formatClock(754_000)).toBe('12:34');
    expect(formatClock(3_754_999)).toBe('1:02:34');
  });
});

describe('resumePoint', () => {
  it('resumes in the middle, starts over near either end', () => {
    expect(resumePoint(null, 100_000)).toBe(0);
    expect(resumePoint(3_000, 100_000)).toBe(0);
    expect(resumePoint(50_000, 100_000)).toBe(50_000);
    expect(resumePoint(90_000, 100_000)).toBe(0);
    expect(resumePoint(50_000, null)).toBe(50_000);
  });
});
