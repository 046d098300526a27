import { describe, expect, it } from 'vitest';
import { resumePoint } from './resume';

describe('resumePoint', () => {
  it('resumes in the middle, starts over near either end', () => {
    expect(resumePoint(null, 100_000)).toBe(0);
    expect(resumePoint(3_000, 100_000)).toBe(0);
    expect(resumePoint(50_000, 100_000)).toBe(50_000);
    expect(resumePoint(90_000, 100_000)).toBe(0);
    expect(resumePoint(50_000, null)).toBe(50_000);
  });
});
