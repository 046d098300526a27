// The messages view's rules as pure functions, so Vitest checks them without a socket or a
// server: ordering and de-duplication by `seq`, gap detection, unread counts (muted ones out
// of the total), previews and day separators. The store (`stores/conversations.ts`) holds
// the state and calls these.
import type { Schemas } from '@/api/client';

export type Conversation = Schemas['ConversationResponse'];
export type Message = Schemas['ConversationMessage'];
export type NewMessage = Schemas['NewMessage'];

/**
 * `incoming` merged into `existing` (both ordered by `seq`): one message per `seq`, oldest
 * first. A message seen again replaces the old copy (a recall or fresh attachment URLs).
 */
export function mergeMessages(existing: readonly Message[], incoming: readonly Message[]): Message[] {
  if (incoming.length === 0) return existing as Message[];
  const bySeq = new Map<number, Message>();
  for (const m of existing) bySeq.set(m.seq, m);
  for (const m of incoming) bySeq.set(m.seq, m);
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}

/**
 * Whether a live message leaves a hole after what we have (`currentSeq`: the newest `seq`
 * we know we are complete up to). Then the client waits a moment (the missing frame may
 * still come) and asks for `after_seq=currentSeq`.
 */
export function isAhead(currentSeq: number, seq: number): boolean {
  return seq > currentSeq + 1;
}

/** The newest `seq` we hold, or `fallback`. */
export function newestSeq(messages: readonly Message[], fallback = 0): number {
  const last = messages[messages.length - 1];
  return last ? Math.max(last.seq, fallback) : fallback;
}

/**
 * A conversation read from the server, against the row we hold: an answer that left before
 * a live message arrived (a lower `last_seq`) must not take that message back out.
 */
export function fresherRow(held: Conversation | undefined, read: Conversation): Conversation {
  return held && held.last_seq > read.last_seq ? held : read;
}

/** Most recently active first; ties by id so the order is stable. */
export function sortConversations(list: readonly Conversation[]): Conversation[] {
  return [...list].sort(
    (a, b) => Date.parse(b.last_activity_at) - Date.parse(a.last_activity_at) || b.id - a.id,
  );
}

/**
 * A live message changes its conversation's row: last message, activity time, newest seq
 * and, when someone else sent it and it is not read yet, one more unread. My own messages
 * count as read (the server moves my `last_read_seq` when it stores them).
 */
export function applyMessage(c: Conversation, m: Message, myId: number | null): Conversation {
  if (m.seq <= c.last_seq) {
    // Already counted (a duplicate or a late frame): only a newer copy of the last message matters.
    return c.last_message?.seq === m.seq ? { ...c, last_message: m } : c;
  }
  const mine = m.sender_id != null && m.sender_id === myId;
  return {
    ...c,
    last_seq: m.seq,
    last_message: m,
    last_activity_at: m.created_at,
    last_read_seq: mine ? m.seq : c.last_read_seq,
    unread: mine ? 0 : c.unread + (m.seq > c.last_read_seq ? 1 : 0),
  };
}

/**
 * Someone read up to `seq`: me (on any device: my unread clears everywhere) or, in a direct
 * conversation, the peer (read receipts). `held` are the messages the client has, used to
 * count what stays unread after a partial read; `null` when the count is unknown (reload).
 */
export function applyRead(
  c: Conversation,
  userId: number,
  seq: number,
  myId: number | null,
  held: readonly Message[] = [],
): Conversation | null {
  if (userId !== myId) {
    if ((c.peer_last_read_seq ?? 0) >= seq) return c;
    return { ...c, peer_last_read_seq: seq };
  }
  if (seq <= c.last_read_seq) return c;
  if (seq >= c.last_seq) return { ...c, last_read_seq: seq, unread: 0 };
  const newest = newestSeq(held);
  const oldestHeld = held[0]?.seq ?? Infinity;
  // We can count only if we hold every message after `seq`.
  if (newest < c.last_seq || oldestHeld > seq + 1) return null;
  const unread = held.filter((m) => m.seq > seq && m.sender_id !== myId).length;
  return { ...c, last_read_seq: seq, unread };
}

/** Unread over every conversation that is not muted, plus what the list has not loaded yet. */
export function totalUnread(list: readonly Conversation[], offList = 0): number {
  return list.reduce((n, c) => n + (c.muted ? 0 : c.unread), 0) + Math.max(0, offList);
}

/** A recalled message: its content is gone for everyone. */
export function recalled(m: Message): Message {
  return {
    ...m,
    recalled: true,
    text: '',
    sticker: undefined,
    attachment: undefined,
    room: undefined,
    movie: undefined,
  };
}

/** Preview keys (under `messages.preview.`) by message kind, for the list. */
export type PreviewKind = 'text' | 'image' | 'voice' | 'sticker' | 'roomInvite' | 'movieShare' | 'recalled' | 'system';

export function previewKind(m: Message): PreviewKind {
  if (m.recalled) return 'recalled';
  switch (m.kind) {
    case 'text':
      return 'text';
    case 'image':
      return 'image';
    case 'voice':
      return 'voice';
    case 'sticker':
      return 'sticker';
    case 'room_invite':
      return 'roomInvite';
    case 'movie_share':
      return 'movieShare';
    default:
      return 'system';
  }
}

/** The local calendar day of an instant, `YYYY-MM-DD`. */
export function dayKey(iso: string): string {
  const d = new Date(iso);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

export type ThreadItem = { kind: 'day'; key: string; day: string } | { kind: 'message'; key: string; message: Message };

/** Messages with a day separator before the first message of each day. */
export function withDaySeparators(messages: readonly Message[]): ThreadItem[] {
  const out: ThreadItem[] = [];
  let day = '';
  for (const m of messages) {
    const d = dayKey(m.created_at);
    if (d !== day) {
      day = d;
      out.push({ kind: 'day', key: `day-${d}`, day: m.created_at });
    }
    out.push({ kind: 'message', key: `m-${m.seq}`, message: m });
  }
  return out;
}

/**
 * The seq of my newest message the peer has read (where "已读" goes), or null: the newest of
 * my messages with `seq <= peerRead`, and only if it is my newest message overall or every
 * later one of mine is also read (then the last read one is the newest of mine).
 */
export function readReceiptSeq(messages: readonly Message[], myId: number | null, peerRead: number | null | undefined): number | null {
  if (myId == null || !peerRead) return null;
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i]!;
    if (m.sender_id !== myId || m.kind === 'system') continue;
    return m.seq <= peerRead ? m.seq : null;
  }
  return null;
}

/** Whether I may still recall my message (2 minutes, with a little slack for clock skew). */
export function canRecall(m: Message, myId: number | null, now: number, windowMs = 120_000): boolean {
  return m.sender_id === myId && !m.recalled && m.kind !== 'system' && now - Date.parse(m.created_at) < windowMs - 2_000;
}
