// Test fixtures: a message and a conversation row with sensible defaults (conversation 7,
// the peer is user 2, me user 1).
import type { Conversation, Message } from './logic';

export function msg(seq: number, over: Partial<Message> = {}): Message {
  return {
    conversation_id: 7,
    seq,
    sender_id: 2,
    sender_name: 'peer',
    client_id: null,
    kind: 'text',
    text: `m${seq}`,
    recalled: false,
    created_at: new Date(Date.UTC(2026, 0, 1, 12, 0, seq)).toISOString(),
    ...over,
  };
}

export function conv(over: Partial<Conversation> = {}): Conversation {
  return {
    id: 7,
    kind: 'direct',
    name: 'peer',
    member_count: 2,
    my_role: 'member',
    muted: false,
    last_seq: 3,
    last_read_seq: 3,
    unread: 0,
    joined_seq: 0,
    last_activity_at: '2026-01-01T00:00:00Z',
    created_at: '2026-01-01T00:00:00Z',
    ...over,
  } as Conversation;
}
