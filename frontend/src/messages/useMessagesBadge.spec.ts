import { describe, expect, it } from 'vitest';
import { titleWithUnread } from './useMessagesBadge';

describe('titleWithUnread', () => {
  it('puts the count in front, replaces an old one, and drops it at zero', () => {
    expect(titleWithUnread('消息 - 珞珈在线影院', 3)).toBe('(3) 消息 - 珞珈在线影院');
    expect(titleWithUnread('(3) 消息 - 珞珈在线影院', 5)).toBe('(5) 消息 - 珞珈在线影院');
    expect(titleWithUnread('(5) 消息 - 珞珈在线影院', 0)).toBe('消息 - 珞珈在线影院');
    expect(titleWithUnread('x', 120)).toBe('(99+) x');
  });
});
