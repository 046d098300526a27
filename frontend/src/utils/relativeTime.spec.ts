import { describe, expect, it } from 'vitest';
import { timeAgo } from './relativeTime';

describe('timeAgo', () => {
  const now = Date.parse('2026-11-25T12:00:00Z');
  it('says how long ago, in the unit that fits', () => {
    expect(timeAgo('2026-11-25T11:57:00Z', now, 'zh-CN')).toBe('3分钟前');
    expect(timeAgo('2026-11-25T09:00:00Z', now, 'en')).toBe('3 hours ago');
    expect(timeAgo('2026-11-24T12:00:00Z', now, 'en')).toBe('yesterday');
    expect(timeAgo('2026-11-25T11:59:59Z', now, 'en')).toBe('1 second ago');
  });
  it('never says the future, and ignores bad input', () => {
    expect(timeAgo('2026-11-25T12:00:05Z', now, 'en')).toBe('now');
    expect(timeAgo('nonsense', now, 'en')).toBe('');
  });
});
