import { describe, expect, it } from 'vitest';
import {
  applyMessage,
  applyRead,
  canRecall,
  fresherRow,
  isAhead,
  mergeMessages,
  previewKind,
  readReceiptSeq,
  recalled,
  sortConversations,
  totalUnread,
  withDaySeparators,
} from './logic';
import { conv, msg } from './fixtures';

const ME = 1;
const PEER = 2;

describe('mergeMessages', () => {
  it('orders by seq and keeps one message per seq', () => {
    const merged = mergeMessages([msg(1), msg(3)], [msg(2), msg(3), msg(1)]);
    expect(merged.map((m) => m.seq)).toEqual([1, 2, 3]);
  });

  it('takes the newer copy of a message seen again (a recall)', () => {
    const merged = mergeMessages([msg(1), msg(2)], [recalled(msg(2))]);
    expect(merged[1]!.recalled).toBe(true);
    expect(merged[1]!.text).toBe('');
  });

  it('an older page goes in front', () => {
    expect(mergeMessages([msg(5), msg(6)], [msg(3), msg(4)]).map((m) => m.seq)).toEqual([3, 4, 5, 6]);
  });
});

describe('gaps', () => {
  it('the next seq is not a gap; one further is', () => {
    expect(isAhead(4, 5)).toBe(false);
    expect(isAhead(4, 4)).toBe(false);
    expect(isAhead(4, 6)).toBe(true);
  });
});

describe('applyMessage', () => {
  it("counts someone else's new message as unread and moves the row's last message", () => {
    const c = applyMessage(conv(), msg(4), ME);
    expect(c.unread).toBe(1);
    expect(c.last_seq).toBe(4);
    expect(c.last_message?.seq).toBe(4);
  });

  it('does not count a message twice (a duplicate frame)', () => {
    const once = applyMessage(conv(), msg(4), ME);
    expect(applyMessage(once, msg(4), ME).unread).toBe(1);
  });

  it('my own message counts as read', () => {
    const c = applyMessage(conv({ unread: 2, last_read_seq: 1 }), msg(4, { sender_id: ME }), ME);
    expect(c.unread).toBe(0);
    expect(c.last_read_seq).toBe(4);
  });
});

describe('applyRead', () => {
  it('reading everything on another device clears the badge', () => {
    const c = applyRead(conv({ last_seq: 6, unread: 3 }), ME, 6, ME);
    expect(c?.unread).toBe(0);
    expect(c?.last_read_seq).toBe(6);
  });

  it('a partial read counts what is left from the messages held', () => {
    const held = [msg(4), msg(5), msg(6)];
    const c = applyRead(conv({ last_seq: 6, unread: 3 }), ME, 4, ME, held);
    expect(c?.unread).toBe(2);
  });

  it('a partial read without the messages asks for a reload', () => {
    expect(applyRead(conv({ last_seq: 6, unread: 3 }), ME, 4, ME, [])).toBeNull();
  });

  it("the peer's read moves the read receipt, not my unread", () => {
    const c = applyRead(conv({ unread: 2, peer_last_read_seq: 1 }), PEER, 3, ME);
    expect(c?.peer_last_read_seq).toBe(3);
    expect(c?.unread).toBe(2);
  });

  it('an older read changes nothing', () => {
    const c0 = conv({ last_read_seq: 5, last_seq: 5 });
    expect(applyRead(c0, ME, 4, ME)).toBe(c0);
  });
});

describe('fresherRow', () => {
  it('an answer older than a live message does not take it back', () => {
    const live = applyMessage(conv(), msg(4), ME);
    expect(fresherRow(live, conv())).toBe(live);
    const renamed = conv({ last_seq: 4, name: 'new' });
    expect(fresherRow(live, renamed)).toBe(renamed);
    expect(fresherRow(undefined, renamed)).toBe(renamed);
  });
});

describe('totals and order', () => {
  it('muted conversations are out of the total', () => {
    const list = [conv({ id: 1, unread: 2 }), conv({ id: 2, unread: 5, muted: true }), conv({ id: 3, unread: 1 })];
    expect(totalUnread(list)).toBe(3);
    expect(totalUnread(list, 4)).toBe(7);
    expect(totalUnread(list, -2)).toBe(3);
  });

  it('most recent activity first', () => {
    const list = sortConversations([
      conv({ id: 1, last_activity_at: '2026-01-01T00:00:00Z' }),
      conv({ id: 2, last_activity_at: '2026-01-03T00:00:00Z' }),
      conv({ id: 3, last_activity_at: '2026-01-02T00:00:00Z' }),
    ]);
    expect(list.map((c) => c.id)).toEqual([2, 3, 1]);
  });
});

describe('presentation', () => {
  it('previews by kind, recalled first', () => {
    expect(previewKind(msg(1, { kind: 'image' }))).toBe('image');
    expect(previewKind(msg(1, { kind: 'room_invite' }))).toBe('roomInvite');
    expect(previewKind(recalled(msg(1)))).toBe('recalled');
    expect(previewKind(msg(1, { kind: 'system' }))).toBe('system');
  });

  it('a day separator before the first message of each day', () => {
    const a = msg(1, { created_at: '2026-01-01T10:00:00' });
    const b = msg(2, { created_at: '2026-01-01T11:00:00' });
    const c = msg(3, { created_at: '2026-01-02T09:00:00' });
    expect(withDaySeparators([a, b, c]).map((i) => i.kind)).toEqual(['day', 'message', 'message', 'day', 'message']);
  });

  it('"read" goes under my newest message only when the peer read it', () => {
    const list = [msg(1, { sender_id: ME }), msg(2), msg(3, { sender_id: ME })];
    expect(readReceiptSeq(list, ME, 3)).toBe(3);
    expect(readReceiptSeq(list, ME, 2)).toBeNull();
    expect(readReceiptSeq(list, ME, 0)).toBeNull();
  });

  it('recall only my own, within two minutes', () => {
    const now = Date.parse('2026-01-01T12:00:00Z');
    const fresh = msg(1, { sender_id: ME, created_at: new Date(now - 60_000).toISOString() });
    const old = msg(2, { sender_id: ME, created_at: new Date(now - 130_000).toISOString() });
    expect(canRecall(fresh, ME, now)).toBe(true);
    expect(canRecall(old, ME, now)).toBe(false);
    expect(canRecall({ ...fresh, sender_id: PEER }, ME, now)).toBe(false);
  });
});
