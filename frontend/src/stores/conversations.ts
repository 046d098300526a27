// Direct and group conversations: the list (paged, most recent first), each open
// conversation's messages ordered by `seq`, unread counts, sending with an outbox, read
// marking and typing. Live frames come on the tab's one socket (`realtime/userChannel.ts`);
// the rules are pure functions in `messages/logic.ts` and `messages/outbox.ts`.
import { defineStore } from 'pinia';
import { computed, ref, shallowRef, triggerRef, watch } from 'vue';
import { api, ApiError, unwrap } from '@/api/client';
import { clientId } from '@/composables/useDanmaku';
import {
  applyMessage,
  applyRead,
  fresherRow,
  isAhead,
  mergeMessages,
  newestSeq,
  recalled,
  sortConversations,
  totalUnread,
  type Conversation,
  type Message,
  type NewMessage,
} from '@/messages/logic';
import { Outbox, type Pending } from '@/messages/outbox';
import { realtime } from '@/realtime';
import { onUserReconnect } from '@/realtime/userChannel';
import { useAuthStore } from '@/stores/auth';

export type { Conversation, Message, Pending };

/** How long a frame ahead of a gap waits for the missing ones before asking for them. */
export const GAP_WAIT_MS = 300;
/** Typing is sent at most this often while typing, and shown this long. */
export const TYPING_SEND_MS = 3_000;
export const TYPING_SHOW_MS = 5_000;

export interface Thread {
  messages: Message[];
  /** Complete up to this `seq` (gaps below it are messages we may not see). */
  current: number;
  /** Older messages exist. */
  more: boolean;
  loading: boolean;
  loadingOlder: boolean;
  error: unknown;
  /** When the attachments' signed URLs were last issued (they last 10 minutes). */
  fetchedAt: number;
}

/** Attachment URLs older than this are asked for again. */
export const URL_REFRESH_MS = 8 * 60_000;

interface Typist {
  name: string;
  until: number;
}

export const useConversationsStore = defineStore('conversations', () => {
  const auth = useAuthStore();
  /** The signed-in user's id: from the profile, or from the socket's `welcome` until that loads. */
  const socketUserId = ref<number | null>(null);
  const myId = computed(() => auth.me?.id ?? socketUserId.value);

  const list = ref<Conversation[]>([]);
  const nextCursor = ref<string | null>(null);
  const loading = ref(false);
  const loadingMore = ref(false);
  const loaded = ref(false);
  const error = ref<unknown>(null);
  /** Unread in conversations the list has not loaded yet (from `GET /conversations/unread`). */
  const offList = ref(0);
  const threads = shallowRef(new Map<number, Thread>());
  const pending = ref<Pending[]>([]);
  const typing = ref<Record<number, Record<number, Typist>>>({});
  /** Bumped on `conversation_changed`, so an open settings panel reloads its members. */
  const changes = ref<Record<number, number>>({});
  /** The conversation on screen (read marking happens only for it). */
  const visibleId = ref<number | null>(null);
  /**
   * What was typed and not sent, per conversation: it outlives the composer (switching
   * conversations, the pane remounting) and shows in the list as a draft. Kept in the
   * tab's sessionStorage per user, so a reload keeps it and closing the tab does not.
   */
  const drafts = ref<Record<number, string>>({});
  const DRAFTS_PREFIX = 'luojia.drafts.';
  const draftsKey = (user: number) => `${DRAFTS_PREFIX}${user}`;
  function readDrafts(user: number): Record<number, string> {
    try {
      const v: unknown = JSON.parse(sessionStorage.getItem(draftsKey(user)) ?? '{}');
      if (!v || typeof v !== 'object') return {};
      return Object.fromEntries(Object.entries(v).filter(([k, t]) => Number.isSafeInteger(Number(k)) && typeof t === 'string'));
    } catch {
      return {};
    }
  }
  function writeDrafts() {
    const me = myId.value;
    if (me == null) return;
    try {
      if (Object.keys(drafts.value).length) sessionStorage.setItem(draftsKey(me), JSON.stringify(drafts.value));
      else sessionStorage.removeItem(draftsKey(me));
    } catch {
      /* storage full or blocked: the drafts last while the page does */
    }
  }
  watch(
    myId,
    (me) => {
      if (me != null) drafts.value = { ...readDrafts(me), ...drafts.value };
    },
    { immediate: true },
  );

  const total = computed(() => totalUnread(list.value, offList.value));
  const gapTimers = new Map<number, number>();
  const lastTypingSent = new Map<number, number>();
  let wired = false;

  const outbox = new Outbox({
    send: (conversation_id, body) => realtime().send({ type: 'message_send', conversation_id, ...body }),
    uuid: clientId,
    now: () => Date.now(),
    setTimeout: (fn, ms) => window.setTimeout(fn, ms),
    clearTimeout: (h) => window.clearTimeout(h as number),
    onChange: (items) => (pending.value = items),
  });

  function byId(id: number): Conversation | undefined {
    return list.value.find((c) => c.id === id);
  }

  /**
   * Local changes to the list, numbered: a list page read before a change must not undo it
   * (a group created, or a conversation left, while `loadList` was on its way).
   */
  let listChanges = 0;
  const changedAt = new Map<number, number>();

  function upsert(c: Conversation) {
    changedAt.set(c.id, ++listChanges);
    list.value = sortConversations([c, ...list.value.filter((x) => x.id !== c.id)]);
  }

  /** A row read from the server (never older than the one we hold). */
  function upsertRead(c: Conversation) {
    upsert(fresherRow(byId(c.id), c));
  }

  function patch(id: number, f: (c: Conversation) => Conversation | null) {
    const c = byId(id);
    if (!c) return;
    const next = f(c);
    if (next === null) void refreshOne(id);
    else if (next !== c) upsert(next);
  }

  function thread(id: number): Thread | undefined {
    return threads.value.get(id);
  }

  function setThread(id: number, t: Thread) {
    threads.value.set(id, t);
    triggerRef(threads);
  }

  function editThread(id: number, f: (t: Thread) => Partial<Thread>) {
    const t = threads.value.get(id);
    if (t) setThread(id, { ...t, ...f(t) });
  }

  async function loadList() {
    loading.value = true;
    error.value = null;
    const since = listChanges;
    const changedSince = (id: number) => (changedAt.get(id) ?? 0) > since;
    try {
      const [page, unread] = await Promise.all([
        unwrap(api.GET('/api/v1/conversations', { params: { query: { limit: 50 } } })),
        unwrap(api.GET('/api/v1/conversations/unread')),
      ]);
      // Rows added or removed here while the page was read are newer than the page.
      const read = page.items.filter((c) => byId(c.id) || !changedSince(c.id)).map((c) => fresherRow(byId(c.id), c));
      const ids = new Set(read.map((c) => c.id));
      const meanwhile = list.value.filter((c) => !ids.has(c.id) && changedSince(c.id));
      list.value = sortConversations([...read, ...meanwhile]);
      nextCursor.value = page.next_cursor ?? null;
      offList.value = nextCursor.value ? unread.total - totalUnread(list.value) : 0;
      loaded.value = true;
    } catch (e) {
      error.value = e;
    } finally {
      loading.value = false;
    }
  }

  async function loadMore() {
    if (!nextCursor.value || loadingMore.value) return;
    loadingMore.value = true;
    try {
      const page = await unwrap(
        api.GET('/api/v1/conversations', { params: { query: { limit: 50, cursor: nextCursor.value } } }),
      );
      const before = totalUnread(list.value);
      const known = new Set(list.value.map((c) => c.id));
      list.value = sortConversations([...list.value, ...page.items.filter((c) => !known.has(c.id))]);
      nextCursor.value = page.next_cursor ?? null;
      offList.value = nextCursor.value ? offList.value - (totalUnread(list.value) - before) : 0;
    } finally {
      loadingMore.value = false;
    }
  }

  /** Read one conversation from the server into the list; a failure throws. */
  async function fetchOne(id: number): Promise<Conversation> {
    const c = await unwrap(api.GET('/api/v1/conversations/{id}', { params: { path: { id } } }));
    upsertRead(c);
    return byId(id) ?? c;
  }

  /** Read one conversation again (it changed, or a count is unknown); `null` on any failure. */
  async function refreshOne(id: number): Promise<Conversation | null> {
    return fetchOne(id).catch(() => null);
  }

  /**
   * The conversation's row, read from the server if the list does not hold it: `null` when
   * it is not there for us (404/403); other failures (network, 5xx) throw.
   */
  async function ensure(id: number): Promise<Conversation | null> {
    try {
      return byId(id) ?? (await fetchOne(id));
    } catch (e) {
      if (e instanceof ApiError && (e.status === 404 || e.status === 403)) return null;
      throw e;
    }
  }

  /** Open a conversation: its newest page of messages (once; later frames keep it current). */
  async function open(id: number) {
    const t = thread(id);
    if (t && !t.error) {
      void refreshUrls(id).catch(() => {});
      return;
    }
    setThread(id, { messages: [], current: 0, more: false, loading: true, loadingOlder: false, error: null, fetchedAt: Date.now() });
    try {
      const page = await unwrap(
        api.GET('/api/v1/conversations/{id}/messages', { params: { path: { id }, query: { limit: 30 } } }),
      );
      const cur = thread(id);
      setThread(id, {
        messages: mergeMessages(page.messages, cur?.messages ?? []),
        current: Math.max(page.last_seq, cur?.current ?? 0),
        more: page.more,
        loading: false,
        loadingOlder: false,
        error: null,
        fetchedAt: Date.now(),
      });
    } catch (e) {
      editThread(id, () => ({ loading: false, error: e }));
    }
  }

  /**
   * The held messages again, for fresh signed URLs of their pictures and voice notes (they
   * last 10 minutes): when a conversation is opened again later, and every few minutes
   * while it is open.
   */
  async function refreshUrls(id: number, olderThanMs = URL_REFRESH_MS) {
    const t = thread(id);
    if (!t || t.loading || Date.now() - t.fetchedAt < olderThanMs || t.messages.length === 0) return;
    const last = newestSeq(t.messages);
    let after = t.messages[0]!.seq - 1;
    const fresh: Message[] = [];
    for (let i = 0; i < 20 && after < last; i++) {
      const page = await unwrap(
        api.GET('/api/v1/conversations/{id}/messages', { params: { path: { id }, query: { after_seq: after, limit: 100 } } }),
      );
      fresh.push(...page.messages);
      if (!page.more || page.messages.length === 0) break;
      after = newestSeq(page.messages, after);
    }
    editThread(id, (cur) => ({ messages: mergeMessages(cur.messages, fresh), fetchedAt: Date.now() }));
  }

  /** The page before the oldest message held (infinite history upward). */
  async function loadOlder(id: number) {
    const t = thread(id);
    if (!t || !t.more || t.loadingOlder || t.messages.length === 0) return;
    editThread(id, () => ({ loadingOlder: true }));
    try {
      const page = await unwrap(
        api.GET('/api/v1/conversations/{id}/messages', {
          params: { path: { id }, query: { before_seq: t.messages[0]!.seq, limit: 30 } },
        }),
      );
      editThread(id, (cur) => ({ messages: mergeMessages(cur.messages, page.messages), more: page.more, loadingOlder: false }));
    } catch (e) {
      editThread(id, () => ({ loadingOlder: false }));
      throw e;
    }
  }

  /** Everything after what we are complete up to (a gap, or a reconnect). */
  async function catchUp(id: number) {
    for (let i = 0; i < 20; i++) {
      const t = thread(id);
      if (!t || t.loading) return;
      const page = await unwrap(
        api.GET('/api/v1/conversations/{id}/messages', {
          params: { path: { id }, query: { after_seq: t.current, limit: 100 } },
        }),
      );
      editThread(id, (cur) => ({
        messages: mergeMessages(cur.messages, page.messages),
        current: page.more ? newestSeq(page.messages, cur.current) : Math.max(page.last_seq, cur.current),
      }));
      for (const m of page.messages) noteMessage(m);
      if (!page.more) break;
    }
    if (id === visibleId.value) markRead(id);
  }

  function scheduleCatchUp(id: number) {
    if (gapTimers.has(id)) return;
    gapTimers.set(
      id,
      window.setTimeout(() => {
        gapTimers.delete(id);
        void catchUp(id).catch(() => {});
      }, GAP_WAIT_MS),
    );
  }

  /** A message reached us (live, acknowledged, or caught up): the list row and the outbox. */
  function noteMessage(m: Message) {
    if (m.client_id && m.sender_id === myId.value) outbox.ack(m.client_id);
    if (byId(m.conversation_id)) patch(m.conversation_id, (c) => applyMessage(c, m, myId.value));
    else void refreshOne(m.conversation_id);
    if (m.sender_id != null) stopTyping(m.conversation_id, m.sender_id);
  }

  function receive(m: Message) {
    noteMessage(m);
    const t = thread(m.conversation_id);
    if (!t || t.loading) return;
    const messages = mergeMessages(t.messages, [m]);
    let current = t.current;
    if (isAhead(current, m.seq)) {
      scheduleCatchUp(m.conversation_id);
    } else {
      // Consecutive: advance over it and over any held ones that follow.
      const held = new Set(messages.map((x) => x.seq));
      current = Math.max(current, m.seq);
      while (held.has(current + 1)) current++;
    }
    setThread(m.conversation_id, { ...t, messages, current });
    if (m.conversation_id === visibleId.value) markRead(m.conversation_id);
  }

  function stopTyping(conversationId: number, userId: number) {
    const c = typing.value[conversationId];
    if (c && c[userId]) {
      const { [userId]: _gone, ...rest } = c;
      typing.value = { ...typing.value, [conversationId]: rest };
    }
  }

  function pruneTyping() {
    const now = Date.now();
    let changed = false;
    const next: Record<number, Record<number, Typist>> = {};
    for (const [cid, users] of Object.entries(typing.value)) {
      const keep: Record<number, Typist> = {};
      for (const [uid, ty] of Object.entries(users)) {
        if (ty.until > now) keep[Number(uid)] = ty;
        else changed = true;
      }
      next[Number(cid)] = keep;
    }
    if (changed) typing.value = next;
  }

  function setDraft(id: number, text: string) {
    if (text.trim()) drafts.value[id] = text;
    else if (id in drafts.value) delete drafts.value[id];
    else return;
    writeDrafts();
  }

  function forget(id: number) {
    setDraft(id, '');
    changedAt.set(id, ++listChanges);
    list.value = list.value.filter((c) => c.id !== id);
    threads.value.delete(id);
    triggerRef(threads);
    outbox.forget(id);
  }

  /** Subscribe to the socket's conversation frames (once) and load the list. */
  function start() {
    if (!wired) {
      wired = true;
      const rt = realtime();
      socketUserId.value = rt.userId;
      rt.on('welcome', (f) => (socketUserId.value = f.user_id));
      rt.on('message', (f) => receive(f.message));
      rt.on('message_ack', (f) => {
        outbox.ack(f.client_id);
        receive(f.message);
      });
      rt.on('message_read', (f) => {
        patch(f.conversation_id, (c) => applyRead(c, f.user_id, f.seq, myId.value, thread(c.id)?.messages ?? []));
      });
      rt.on('message_recalled', (f) => {
        editThread(f.conversation_id, (t) => ({
          messages: t.messages.map((m) => (m.seq === f.seq ? recalled(m) : m)),
        }));
        patch(f.conversation_id, (c) =>
          c.last_message?.seq === f.seq ? { ...c, last_message: recalled(c.last_message) } : c,
        );
      });
      rt.on('typing', (f) => {
        if (f.user_id === myId.value) return;
        const users = { ...(typing.value[f.conversation_id] ?? {}) };
        users[f.user_id] = { name: f.name, until: Date.now() + TYPING_SHOW_MS };
        typing.value = { ...typing.value, [f.conversation_id]: users };
        window.setTimeout(pruneTyping, TYPING_SHOW_MS + 50);
      });
      rt.on('conversation_changed', (f) => {
        changes.value = { ...changes.value, [f.conversation_id]: (changes.value[f.conversation_id] ?? 0) + 1 };
        void refreshOne(f.conversation_id);
      });
      rt.on('conversation_removed', (f) => forget(f.conversation_id));
      rt.on('error', (f) => {
        if (f.conversation_id && f.req_id) outbox.refuse(f.req_id, f.code);
      });
      onUserReconnect(() => {
        if (!auth.isLoggedIn) return;
        void loadList();
        for (const id of threads.value.keys()) void catchUp(id).catch(() => {});
        outbox.reconnected();
      });
    }
    void auth.ensureMe().catch(() => {});
    return loadList();
  }

  /** Send a message (shown as "sending…" until acknowledged). */
  function send(conversationId: number, body: Omit<NewMessage, 'client_id'>): Pending {
    lastTypingSent.delete(conversationId);
    return outbox.submit(conversationId, body);
  }

  function retry(clientId: string) {
    outbox.retry(clientId);
  }

  function discard(clientId: string) {
    outbox.discard(clientId);
  }

  /** Mark what is on screen read (when the window has focus), on every device. */
  function markRead(id: number) {
    if (typeof document !== 'undefined' && (document.visibilityState !== 'visible' || !document.hasFocus())) return;
    const c = byId(id);
    const t = thread(id);
    if (!c) return;
    const seq = Math.max(newestSeq(t?.messages ?? []), t?.current ?? 0, c.last_seq);
    if (seq <= c.last_read_seq && c.unread === 0) return;
    if (!realtime().send({ type: 'message_read', conversation_id: id, seq })) {
      void unwrap(api.POST('/api/v1/conversations/{id}/read', { params: { path: { id } }, body: { seq } })).catch(() => {});
    }
    patch(id, (cur) => applyRead(cur, myId.value ?? -1, seq, myId.value, t?.messages ?? []) ?? { ...cur, unread: 0 });
  }

  /** "I am typing", at most every 3 s. */
  function sendTyping(id: number) {
    const now = Date.now();
    if (now - (lastTypingSent.get(id) ?? 0) < TYPING_SEND_MS) return;
    lastTypingSent.set(id, now);
    realtime().send({ type: 'typing', conversation_id: id });
  }

  function typists(id: number): string[] {
    const now = Date.now();
    return Object.values(typing.value[id] ?? {})
      .filter((t) => t.until > now)
      .map((t) => t.name);
  }

  async function recall(id: number, seq: number) {
    const m = await unwrap(
      api.POST('/api/v1/conversations/{id}/messages/{seq}/recall', { params: { path: { id, seq } } }),
    );
    editThread(id, (t) => ({ messages: mergeMessages(t.messages, [m]) }));
  }

  async function hide(id: number, seq: number) {
    await unwrap(api.DELETE('/api/v1/conversations/{id}/messages/{seq}', { params: { path: { id, seq } } }));
    editThread(id, (t) => ({ messages: t.messages.filter((m) => m.seq !== seq) }));
  }

  async function search(id: number, q: string) {
    return unwrap(api.GET('/api/v1/conversations/{id}/messages', { params: { path: { id }, query: { q, limit: 50 } } }));
  }

  /** The direct conversation with a friend (created on first use). */
  async function openDirect(userId: number): Promise<Conversation> {
    const c = await unwrap(api.POST('/api/v1/conversations/direct', { body: { user_id: userId } }));
    upsert(c);
    return c;
  }

  async function createGroup(name: string, memberIds: number[]): Promise<Conversation> {
    const c = await unwrap(api.POST('/api/v1/conversations/groups', { body: { name, member_ids: memberIds } }));
    upsert(c);
    return c;
  }

  async function mute(id: number, muted: boolean) {
    await unwrap(api.PUT('/api/v1/conversations/{id}/mute', { params: { path: { id } }, body: { muted } }));
    patch(id, (c) => ({ ...c, muted }));
  }

  async function leave(id: number) {
    const me = myId.value;
    if (me == null) return;
    await unwrap(api.DELETE('/api/v1/conversations/{id}/members/{user_id}', { params: { path: { id, user_id: me } } }));
    forget(id);
  }

  function reset() {
    list.value = [];
    nextCursor.value = null;
    loaded.value = false;
    offList.value = 0;
    threads.value = new Map();
    drafts.value = {};
    // Signed out: no draft stays in this tab, whoever wrote it.
    try {
      for (const k of Object.keys(sessionStorage)) if (k.startsWith(DRAFTS_PREFIX)) sessionStorage.removeItem(k);
    } catch {
      /* storage blocked: nothing was kept */
    }
    for (const p of outbox.list()) outbox.discard(p.client_id);
  }

  return {
    list,
    nextCursor,
    loading,
    loadingMore,
    loaded,
    error,
    total,
    threads,
    pending,
    typing,
    changes,
    visibleId,
    drafts,
    setDraft,
    myId,
    start,
    loadList,
    loadMore,
    refreshOne,
    ensure,
    byId,
    thread,
    open,
    loadOlder,
    catchUp,
    refreshUrls,
    send,
    retry,
    discard,
    markRead,
    sendTyping,
    typists,
    recall,
    hide,
    search,
    openDirect,
    createGroup,
    mute,
    leave,
    upsert,
    reset,
  };
});
