import { describe, expect, it } from 'vitest';
import { applyPresence, sortFriends, type Friend } from './friends';

const friend = (id: number, nickname: string, online: boolean, last_seen: string | null = null): Friend => ({
  user: { id, username: `u${id}`, nickname, bio: '', avatar_url: null, created_at: '2026-11-01T00:00:00Z' },
  online,
  last_seen,
  since: '2026-11-02T00:00:00Z',
});

describe('friends presence', () => {
  it('changes only the friend the frame is about', () => {
    const list = [friend(1, 'a', false, '2026-11-20T00:00:00Z'), friend(2, 'b', true)];
    const on = applyPresence(list, { user_id: 1, online: true, last_seen: null });
    expect(on[0]).toMatchObject({ online: true, last_seen: null });
    expect(on[1]).toBe(list[1]);
    const off = applyPresence(on, { user_id: 1, online: false, last_seen: '2026-11-25T10:00:00Z' });
    expect(off[0]).toMatchObject({ online: false, last_seen: '2026-11-25T10:00:00Z' });
  });
  it('ignores strangers', () => {
    const list = [friend(1, 'a', false)];
    expect(applyPresence(list, { user_id: 9, online: true, last_seen: null })).toEqual(list);
  });
  it('lists online friends first, then by name', () => {
    const out = sortFriends([friend(1, '乙', false), friend(2, '甲', true), friend(3, '丙', true)]).map((f) => f.user.id);
    expect(out[0]).not.toBe(1);
    expect(out[2]).toBe(1);
  });
});
