// Friends and their presence, requests in and out, and blocks. The friends list is read whole
// (pages of 100) and kept current by `friend_presence` frames; the reducer is pure for tests.
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import { api, unwrap, type Schemas } from '@/api/client';
import { realtime } from '@/realtime';
import type { ServerFrame } from '@/realtime/protocol';
import { onUserReconnect } from '@/realtime/userChannel';

export type Friend = Schemas['FriendView'];
export type FriendRequest = Schemas['FriendRequestView'];
export type Blocked = Schemas['BlockedUser'];
export type UserHit = Schemas['UserHit'];

/** A friend came online or went offline: their row changes, nobody else's. */
export function applyPresence(friends: Friend[], f: Pick<ServerFrame<'friend_presence'>, 'user_id' | 'online' | 'last_seen'>): Friend[] {
  return friends.map((x) =>
    x.user.id === f.user_id ? { ...x, online: f.online, last_seen: f.online ? null : (f.last_seen ?? x.last_seen ?? null) } : x,
  );
}

/** Online first, then by name. */
export function sortFriends(friends: Friend[]): Friend[] {
  return [...friends].sort(
    (a, b) => Number(b.online) - Number(a.online) || a.user.nickname.localeCompare(b.user.nickname, 'zh-CN'),
  );
}

async function allPages<T>(fetch: (cursor: string | null) => Promise<{ items: T[]; next_cursor?: string | null }>, max = 20): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < max; i++) {
    const page = await fetch(cursor);
    out.push(...page.items);
    cursor = page.next_cursor ?? null;
    if (!cursor) break;
  }
  return out;
}

const pageQuery = (cursor: string | null) => ({ params: { query: { limit: 100, ...(cursor ? { cursor } : {}) } } });

export const useFriendsStore = defineStore('friends', () => {
  const friends = ref<Friend[]>([]);
  const incoming = ref<FriendRequest[]>([]);
  const outgoing = ref<FriendRequest[]>([]);
  const blocked = ref<Blocked[]>([]);
  const loading = ref(false);
  const loaded = ref(false);
  const error = ref<unknown>(null);
  let wired = false;

  const sorted = computed(() => sortFriends(friends.value));
  const onlineCount = computed(() => friends.value.filter((f) => f.online).length);

  async function load() {
    loading.value = true;
    error.value = null;
    try {
      const [f, i, o, b] = await Promise.all([
        allPages((c) => unwrap(api.GET('/api/v1/friends', pageQuery(c)))),
        allPages((c) => unwrap(api.GET('/api/v1/friends/requests/incoming', pageQuery(c)))),
        allPages((c) => unwrap(api.GET('/api/v1/friends/requests/outgoing', pageQuery(c)))),
        allPages((c) => unwrap(api.GET('/api/v1/blocks', pageQuery(c)))),
      ]);
      friends.value = f;
      incoming.value = i;
      outgoing.value = o;
      blocked.value = b;
      loaded.value = true;
    } catch (e) {
      error.value = e;
    } finally {
      loading.value = false;
    }
  }

  /** Subscribe to presence and to new requests (once), and load everything. */
  function start() {
    if (!wired) {
      wired = true;
      realtime().on('friend_presence', (f) => (friends.value = applyPresence(friends.value, f)));
      realtime().on('notification', (f) => {
        if (f.notification.kind === 'friend_request' || f.notification.kind === 'friend_accepted') void load();
      });
      onUserReconnect(() => void load());
    }
    return load();
  }

  async function search(q: string, cursor: string | null) {
    return unwrap(api.GET('/api/v1/users/search', { params: { query: { q, limit: 20, ...(cursor ? { cursor } : {}) } } }));
  }

  async function sendRequest(userId: number, note: string) {
    const res = await unwrap(api.POST('/api/v1/friends/requests', { body: { user_id: userId, ...(note.trim() ? { note: note.trim() } : {}) } }));
    await load();
    return res;
  }

  async function accept(id: number) {
    await unwrap(api.POST('/api/v1/friends/requests/{id}/accept', { params: { path: { id } } }));
    await load();
  }

  async function decline(id: number) {
    await unwrap(api.POST('/api/v1/friends/requests/{id}/decline', { params: { path: { id } } }));
    incoming.value = incoming.value.filter((r) => r.id !== id);
  }

  async function cancel(id: number) {
    await unwrap(api.DELETE('/api/v1/friends/requests/{id}', { params: { path: { id } } }));
    outgoing.value = outgoing.value.filter((r) => r.id !== id);
  }

  async function remove(userId: number) {
    await unwrap(api.DELETE('/api/v1/friends/{user_id}', { params: { path: { user_id: userId } } }));
    friends.value = friends.value.filter((f) => f.user.id !== userId);
  }

  async function block(userId: number) {
    await unwrap(api.PUT('/api/v1/blocks/{user_id}', { params: { path: { user_id: userId } } }));
    await load();
  }

  async function unblock(userId: number) {
    await unwrap(api.DELETE('/api/v1/blocks/{user_id}', { params: { path: { user_id: userId } } }));
    blocked.value = blocked.value.filter((b) => b.user.id !== userId);
  }

  return {
    friends,
    sorted,
    onlineCount,
    incoming,
    outgoing,
    blocked,
    loading,
    loaded,
    error,
    start,
    load,
    search,
    sendRequest,
    accept,
    decline,
    cancel,
    remove,
    block,
    unblock,
  };
});
