// The bell: the newest notifications, the unread count, and live updates from the socket
// (`notification`, `notifications_read` — another device read some). The reducers are pure
// functions so they are tested without a socket.
import { defineStore } from 'pinia';
import { ref } from 'vue';
import { api, unwrap, type Schemas } from '@/api/client';
import { realtime } from '@/realtime';
import type { ServerFrame } from '@/realtime/protocol';
import { onUserReconnect } from '@/realtime/userChannel';

export type Notification = Schemas['Notification'];

export interface BellState {
  items: Notification[];
  unread: number;
}

/** A pushed notification: first in the list (once), one more unread. */
export function applyNotification(s: BellState, n: Notification): BellState {
  if (s.items.some((i) => i.id === n.id)) return s;
  return { items: [n, ...s.items], unread: s.unread + (n.read ? 0 : 1) };
}

/** Some (`id`) or all (`id` null) were read, here or on another device. */
export function applyRead(s: BellState, frame: Pick<ServerFrame<'notifications_read'>, 'id' | 'unread_count'>): BellState {
  const id = frame.id ?? null;
  return {
    items: s.items.map((i) => (id === null || i.id === id ? { ...i, read: true } : i)),
    unread: frame.unread_count,
  };
}

/** Where clicking a notification goes (a path in the app). */
export function targetOf(n: Notification): string {
  const p = (n.payload ?? {}) as Record<string, unknown>;
  switch (n.kind) {
    case 'friend_request':
    case 'friend_accepted':
      return n.kind === 'friend_request' ? '/friends?tab=requests' : '/friends';
    case 'room_invite':
      if (typeof p.code === 'string') return `/r/${encodeURIComponent(p.code)}`;
      return typeof p.room_id === 'number' ? `/rooms/${p.room_id}` : '/rooms';
    case 'mention':
      if (typeof p.conversation_id === 'number') return `/messages/${p.conversation_id}`;
      return typeof p.room_id === 'number' ? `/rooms/${p.room_id}` : '/';
    default:
      return '/';
  }
}

export const useNotificationsStore = defineStore('notifications', () => {
  const items = ref<Notification[]>([]);
  const unread = ref(0);
  const loading = ref(false);
  const loaded = ref(false);
  const error = ref<unknown>(null);
  let wired = false;

  function set(s: BellState) {
    items.value = s.items;
    unread.value = s.unread;
  }
  const state = (): BellState => ({ items: items.value, unread: unread.value });

  async function load() {
    loading.value = true;
    error.value = null;
    try {
      const page = await unwrap(api.GET('/api/v1/notifications', { params: { query: { limit: 30 } } }));
      set({ items: page.items, unread: page.unread_count });
      loaded.value = true;
    } catch (e) {
      error.value = e;
    } finally {
      loading.value = false;
    }
  }

  /** Subscribe to the socket (once) and load the first page. */
  function start() {
    if (!wired) {
      wired = true;
      realtime().on('notification', (f) => set(applyNotification(state(), f.notification)));
      realtime().on('notifications_read', (f) => set(applyRead(state(), f)));
      onUserReconnect(() => void load());
    }
    void load();
  }

  function reset() {
    set({ items: [], unread: 0 });
    loaded.value = false;
  }

  async function markRead(id: number) {
    const n = items.value.find((i) => i.id === id);
    if (!n || n.read) return;
    await unwrap(api.POST('/api/v1/notifications/{id}/read', { params: { path: { id } } }));
    set(applyRead(state(), { id, unread_count: Math.max(0, unread.value - 1) }));
  }

  async function markAllRead() {
    await unwrap(api.POST('/api/v1/notifications/read-all'));
    set(applyRead(state(), { id: null, unread_count: 0 }));
  }

  return { items, unread, loading, loaded, error, start, reset, load, markRead, markAllRead };
});
