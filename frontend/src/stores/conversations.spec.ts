// The store wired to a fake socket and a fake API: a frame ahead of a gap waits, then asks
// for `after_seq`; a frame seen twice counts once; muted conversations stay out of the
// total; a message sent while disconnected goes out again after the reconnect with the same
// client_id and its "sending…" bubble goes on the ack.
import { createPinia, setActivePinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Conversation, Message } from '@/messages/logic';
import { conv, msg } from '@/messages/fixtures';

type Handler = (frame: unknown) => void;
const socket = {
  connected: true,
  userId: 1 as number | null,
  sent: [] as Record<string, unknown>[],
  handlers: new Map<string, Handler[]>(),
  on(type: string, h: Handler) {
    this.handlers.set(type, [...(this.handlers.get(type) ?? []), h]);
    return () => {};
  },
  send(frame: Record<string, unknown>) {
    if (!this.connected) return false;
    this.sent.push(frame);
    return true;
  },
  emit(frame: { type: string } & Record<string, unknown>) {
    for (const h of this.handlers.get(frame.type) ?? []) h(frame);
  },
};
const reconnects: (() => void)[] = [];
const GET = vi.fn();

vi.mock('@/api/client', () => ({
  api: { GET: (...a: unknown[]) => GET(...a), POST: vi.fn(async () => ({})), PUT: vi.fn(), DELETE: vi.fn() },
  unwrap: async (p: unknown) => p,
}));
vi.mock('@/realtime', () => ({ realtime: () => socket }));
vi.mock('@/realtime/userChannel', () => ({ onUserReconnect: (fn: () => void) => reconnects.push(fn) }));
vi.mock('@/stores/auth', () => ({
  useAuthStore: () => ({ me: { id: 1 }, isLoggedIn: true, ensureMe: async () => ({ id: 1 }) }),
}));

const { useConversationsStore, GAP_WAIT_MS } = await import('./conversations');

/** Routes the fake GETs: the list, the unread total, and message pages by their query. */
function serve(list: Conversation[], pages: (query: Record<string, number>) => { messages: Message[]; more: boolean; last_seq: number }) {
  GET.mockImplementation(async (path: string, opts?: { params?: { query?: Record<string, number> } }) => {
    if (path === '/api/v1/conversations') return { items: list, next_cursor: null };
    if (path === '/api/v1/conversations/unread') return { total: list.reduce((n, c) => n + (c.muted ? 0 : c.unread), 0) };
    if (path === '/api/v1/conversations/{id}/messages') return pages(opts?.params?.query ?? {});
    if (path === '/api/v1/conversations/{id}') return list[0];
    throw new Error(`unexpected GET ${path}`);
  });
}

beforeEach(() => {
  setActivePinia(createPinia());
  socket.sent = [];
  socket.connected = true;
  socket.handlers.clear();
  reconnects.length = 0;
  GET.mockReset();
  vi.spyOn(document, 'hasFocus').mockReturnValue(false);
});
afterEach(() => vi.useRealTimers());

describe('conversations store', () => {
  it('a frame ahead of a gap waits, then fetches after_seq, and the thread is complete in order', async () => {
    serve([conv()], (q) =>
      q.after_seq === 3 ? { messages: [msg(4), msg(5)], more: false, last_seq: 5 } : { messages: [msg(1), msg(2), msg(3)], more: false, last_seq: 3 },
    );
    const store = useConversationsStore();
    await store.start();
    await store.open(7);
    vi.useFakeTimers();
    socket.emit({ type: 'message', message: msg(5) });
    await vi.advanceTimersByTimeAsync(GAP_WAIT_MS - 50);
    expect(GET.mock.calls.some((c) => c[1]?.params?.query?.after_seq === 3)).toBe(false);
    await vi.advanceTimersByTimeAsync(100);
    expect(GET.mock.calls.some((c) => c[1]?.params?.query?.after_seq === 3)).toBe(true);
    vi.useRealTimers();
    await vi.waitFor(() => expect(store.thread(7)?.messages.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]));
    expect(store.thread(7)?.current).toBe(5);
  });

  it('the next frame needs no fetch; the same frame twice is one message and one unread', async () => {
    serve([conv()], () => ({ messages: [msg(1), msg(2), msg(3)], more: false, last_seq: 3 }));
    const store = useConversationsStore();
    await store.start();
    await store.open(7);
    const calls = GET.mock.calls.length;
    socket.emit({ type: 'message', message: msg(4) });
    socket.emit({ type: 'message', message: msg(4) });
    expect(store.thread(7)?.messages.map((m) => m.seq)).toEqual([1, 2, 3, 4]);
    expect(store.thread(7)?.current).toBe(4);
    expect(store.byId(7)?.unread).toBe(1);
    expect(store.total).toBe(1);
    expect(GET.mock.calls.length).toBe(calls);
  });

  it('a list page read before a group was created (or a conversation left) does not undo it', async () => {
    serve([conv()], () => ({ messages: [], more: false, last_seq: 0 }));
    const store = useConversationsStore();
    await store.start();
    // The next list load (a reconnect) is slow: meanwhile a group is created and 7 is left.
    let answer!: (v: unknown) => void;
    GET.mockImplementation(async (path: string) => {
      if (path === '/api/v1/conversations') return new Promise((r) => (answer = r));
      if (path === '/api/v1/conversations/unread') return { total: 0 };
      throw new Error(`unexpected GET ${path}`);
    });
    const loading = store.loadList();
    const group = conv({ id: 9, kind: 'group', name: '周末观影小组', last_seq: 5 });
    GET.mockImplementation(async () => group);
    socket.emit({ type: 'conversation_removed', conversation_id: 7 });
    socket.emit({ type: 'message', message: msg(5, { conversation_id: 9 }) });
    await vi.waitFor(() => expect(store.byId(9)).toBeDefined());
    answer({ items: [conv()], next_cursor: null });
    await loading;
    expect(store.list.map((c) => c.id)).toEqual([9]);
  });

  it('muted conversations are out of the total', async () => {
    serve([conv({ id: 7, unread: 2 }), conv({ id: 8, unread: 5, muted: true })], () => ({ messages: [], more: false, last_seq: 0 }));
    const store = useConversationsStore();
    await store.start();
    expect(store.total).toBe(2);
  });

  it('reading on another device clears the badge here', async () => {
    serve([conv({ last_seq: 6, last_read_seq: 3, unread: 3 })], () => ({ messages: [], more: false, last_seq: 6 }));
    const store = useConversationsStore();
    await store.start();
    socket.emit({ type: 'message_read', conversation_id: 7, user_id: 1, seq: 6 });
    expect(store.total).toBe(0);
  });

  it('a message sent while disconnected goes out after the reconnect with the same client_id, once acknowledged it is no longer pending', async () => {
    serve([conv()], () => ({ messages: [msg(1), msg(2), msg(3)], more: false, last_seq: 3 }));
    const store = useConversationsStore();
    await store.start();
    await store.open(7);
    socket.connected = false;
    const p = store.send(7, { kind: 'text', text: '离线时写的' });
    expect(socket.sent).toHaveLength(0);
    expect(store.pending.map((x) => x.status)).toEqual(['sending']);
    socket.connected = true;
    for (const fn of reconnects) fn();
    const resent = socket.sent.filter((f) => f.type === 'message_send');
    expect(resent).toEqual([expect.objectContaining({ conversation_id: 7, client_id: p.client_id, text: '离线时写的' })]);
    const stored = msg(4, { sender_id: 1, client_id: p.client_id, text: '离线时写的' });
    socket.emit({ type: 'message_ack', conversation_id: 7, client_id: p.client_id, seq: 4, duplicate: false, message: stored });
    socket.emit({ type: 'message', message: stored });
    expect(store.pending).toHaveLength(0);
    expect(store.thread(7)?.messages.filter((m) => m.client_id === p.client_id)).toHaveLength(1);
    expect(store.byId(7)?.unread).toBe(0);
  });

  it('drafts are kept per conversation; a blank one is none; leaving or signing out drops them', async () => {
    serve([conv(), conv({ id: 8 })], () => ({ messages: [], more: false, last_seq: 0 }));
    const store = useConversationsStore();
    await store.start();
    store.setDraft(7, '还没写完');
    store.setDraft(8, '   ');
    expect(store.drafts).toEqual({ 7: '还没写完' });
    store.setDraft(8, '周末看吗');
    await store.leave(8);
    expect(store.drafts).toEqual({ 7: '还没写完' });
    store.reset();
    expect(store.drafts).toEqual({});
  });

  it('drafts survive a reload of the tab (sessionStorage, per user) and go on sign-out', async () => {
    serve([conv()], () => ({ messages: [], more: false, last_seq: 0 }));
    sessionStorage.clear();
    useConversationsStore().setDraft(7, '刷新也还在');
    expect(JSON.parse(sessionStorage.getItem('luojia.drafts.1') ?? '{}')).toEqual({ 7: '刷新也还在' });
    setActivePinia(createPinia()); // a reload
    const again = useConversationsStore();
    expect(again.drafts).toEqual({ 7: '刷新也还在' });
    again.reset();
    expect(sessionStorage.getItem('luojia.drafts.1')).toBeNull();
  });
});
