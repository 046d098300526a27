import { describe, expect, it } from 'vitest';
import { applyNotification, applyRead, targetOf, type Notification } from './notifications';

const n = (id: number, kind: Notification['kind'], payload: Record<string, unknown> = {}, read = false): Notification => ({
  id,
  kind,
  actor: { id: 7, name: '小明', avatar_url: null },
  payload,
  read,
  created_at: '2026-11-25T10:00:00Z',
});

describe('the bell', () => {
  it('adds a pushed notification once and counts it unread', () => {
    let s = applyNotification({ items: [n(1, 'friend_request')], unread: 1 }, n(2, 'friend_accepted'));
    expect(s.items.map((i) => i.id)).toEqual([2, 1]);
    expect(s.unread).toBe(2);
    s = applyNotification(s, n(2, 'friend_accepted'));
    expect(s.unread).toBe(2);
  });
  it('follows reads from any device: one, or all', () => {
    const s = { items: [n(2, 'mention'), n(1, 'friend_request')], unread: 2 };
    const one = applyRead(s, { id: 1, unread_count: 1 });
    expect(one.items.map((i) => i.read)).toEqual([false, true]);
    expect(one.unread).toBe(1);
    const all = applyRead(one, { id: null, unread_count: 0 });
    expect(all.items.every((i) => i.read)).toBe(true);
    expect(all.unread).toBe(0);
  });
  it('opens the right page', () => {
    expect(targetOf(n(1, 'friend_request'))).toBe('/friends?tab=requests');
    expect(targetOf(n(1, 'friend_accepted'))).toBe('/friends');
    expect(targetOf(n(1, 'room_invite', { room_id: 4, code: 'ab c' }))).toBe('/r/ab%20c');
    expect(targetOf(n(1, 'room_invite', { room_id: 4 }))).toBe('/rooms/4');
    expect(targetOf(n(1, 'mention', { conversation_id: 9 }))).toBe('/messages/9');
    expect(targetOf(n(1, 'mention', { room_id: 5 }))).toBe('/rooms/5');
  });
});
