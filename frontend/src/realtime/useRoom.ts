// One room's live state over the shared socket: the anchor, online members, chat by seq
// (history pages over REST), the wait-for-everyone banner, and why we were removed.
import { computed, onBeforeUnmount, ref, shallowRef, triggerRef } from 'vue';
import { api, unwrap, type Schemas } from '@/api/client';
import { clientId } from '@/composables/useDanmaku';
import { useAuthStore } from '@/stores/auth';
import { realtime } from './index';
import type { ChatMessage, Danmaku, MemberPresence, PlaybackState, ServerFrame } from './protocol';

export type Room = Schemas['RoomResponse'];

export function useRoom(roomId: number) {
  const socket = realtime();
  const auth = useAuthStore();
  const room = shallowRef<Room | null>(null);
  const playback = ref<PlaybackState | null>(null);
  const members = shallowRef(new Map<number, MemberPresence>());
  const memberCount = ref(0);
  const messages = shallowRef(new Map<number, ChatMessage>());
  const waiting = ref<{ for: number[]; deadline: number } | null>(null);
  const removed = ref<string | null>(null);
  const lastError = ref<ServerFrame<'error'> | null>(null);
  const joined = ref(false);
  const olderDone = ref(false);
  const loadingOlder = ref(false);
  /** Live danmaku handlers (the page shows them at once). */
  const danmakuListeners = new Set<(d: Danmaku) => void>();
  let reqSeq = 0;
  /** The player's last status, sent again after every (re)join. */
  let lastStatus: 'ready' | 'buffering' | null = null;

  const sortedMessages = computed(() => [...messages.value.values()].sort((a, b) => a.seq - b.seq));
  const onlineMembers = computed(() =>
    [...members.value.values()].filter((m) => m.online).sort((a, b) => roleRank(b.role) - roleRank(a.role) || a.user_id - b.user_id),
  );
  const myId = computed(() => auth.me?.id ?? null);
  const me = computed(() => (myId.value !== null ? members.value.get(myId.value) : undefined));
  const myRole = computed(() => me.value?.role ?? room.value?.my_role ?? 'member');
  /** When a moderator's mute on me ends, as the room last said (it may have passed). */
  const myMutedUntil = computed(() => me.value?.muted_until ?? null);
  const canControl = computed(() => room.value?.control_mode === 'everyone' || myRole.value === 'owner' || myRole.value === 'moderator');
  const canModerate = computed(() => myRole.value === 'owner' || myRole.value === 'moderator');
  const waitingNames = computed(() => (waiting.value?.for ?? []).map((id) => members.value.get(id)?.name ?? `#${id}`));

  function putMembers(list: MemberPresence[], replace = false) {
    const m = replace ? new Map<number, MemberPresence>() : members.value;
    for (const p of list) m.set(p.user_id, p);
    members.value = m;
    triggerRef(members);
  }

  function putMessages(list: ChatMessage[]) {
    const m = messages.value;
    for (const msg of list) m.set(msg.seq, msg); // keyed by seq: an overlap is one message
    triggerRef(messages);
  }

  const mine = (f: { room_id?: number | null }) => f.room_id === roomId;
  const offs = [
    socket.on('joined', (f) => {
      if (!mine(f)) return;
      joined.value = true;
      // A (re)join starts this connection's membership afresh: the room would show us as
      // still joining until our player's status changed again.
      if (lastStatus) socket.send({ type: 'player_status', room_id: roomId, status: lastStatus });
      playback.value = f.playback;
      memberCount.value = f.member_count;
      putMembers(f.members, true);
      if (f.reload) {
        messages.value = new Map();
        olderDone.value = false;
      }
      putMessages(f.messages);
    }),
    socket.on('chat', (f) => mine(f.message) && putMessages([f.message])),
    socket.on('chat_ack', (f) => mine(f) && putMessages([f.message])),
    socket.on('message_deleted', (f) => {
      if (!mine(f)) return;
      const m = messages.value.get(f.seq);
      if (m) putMessages([{ ...m, deleted: true, text: '' }]);
    }),
    socket.on('playback_state', (f) => {
      if (!mine(f)) return;
      playback.value = f.state;
    }),
    socket.on('waiting', (f) => {
      if (!mine(f)) return;
      waiting.value = f.waiting_for.length ? { for: f.waiting_for, deadline: f.deadline } : null;
    }),
    socket.on('presence', (f) => {
      if (!mine(f)) return;
      putMembers([f.member]);
    }),
    socket.on('presence_batch', (f) => {
      if (!mine(f)) return;
      putMembers(f.members);
    }),
    socket.on('member_count', (f) => {
      if (mine(f)) memberCount.value = f.member_count;
    }),
    socket.on('danmaku', (f) => {
      if (!mine(f)) return;
      for (const l of danmakuListeners) l(f.danmaku);
    }),
    socket.on('removed', (f) => {
      if (!mine(f)) return;
      removed.value = f.reason;
      joined.value = false;
    }),
    socket.on('error', (f) => {
      if (f.room_id !== undefined && f.room_id !== null && !mine(f)) return;
      lastError.value = f;
    }),
  ];

  async function load() {
    const path = { params: { path: { id: roomId } } };
    let r = await unwrap(api.GET('/api/v1/rooms/{id}', path));
    // Opened from the public list: become a member first (invite links do this on /r/:code).
    if (!r.my_role) r = await unwrap(api.POST('/api/v1/rooms/{id}/join', path));
    room.value = r;
    memberCount.value = r.member_count;
    socket.join(roomId);
  }

  /** One older page of chat (scrolling up). */
  async function loadOlder() {
    if (loadingOlder.value || olderDone.value) return;
    const first = sortedMessages.value[0];
    if (first && first.seq <= 1) {
      olderDone.value = true;
      return;
    }
    loadingOlder.value = true;
    try {
      const page = await unwrap(
        api.GET('/api/v1/rooms/{id}/messages', {
          params: { path: { id: roomId }, query: { ...(first ? { before: first.seq } : {}), limit: 50 } },
        }),
      );
      putMessages(page.items);
      if (page.items.length < 50) olderDone.value = true;
    } finally {
      loadingOlder.value = false;
    }
  }

  function sendChat(text: string, positionMs: number | null) {
    socket.sendChat({ room_id: roomId, client_id: clientId(), text, ...(positionMs !== null ? { position_ms: Math.round(positionMs) } : {}) });
  }

  function sendDanmaku(text: string, mode: Schemas['DanmakuMode'], color: string, positionMs: number) {
    return socket.send({ type: 'danmaku', room_id: roomId, client_id: clientId(), text, mode, color, position_ms: Math.round(positionMs) });
  }

  function command(
    cmd:
      | { action: 'play' }
      | { action: 'pause' }
      | { action: 'seek'; position_ms: number }
      | { action: 'rate'; rate: number }
      | { action: 'change_movie'; movie_id: number },
  ) {
    return socket.send({ type: 'playback', room_id: roomId, req_id: `r${++reqSeq}`, ...cmd });
  }

  function reportStatus(status: 'ready' | 'buffering') {
    lastStatus = status;
    if (joined.value) socket.send({ type: 'player_status', room_id: roomId, status });
  }

  async function moderate(userId: number, action: 'kick' | 'ban' | 'unban' | 'mute' | 'unmute' | 'moderator' | 'member' | 'transfer') {
    const path = { params: { path: { id: roomId, user_id: userId } } };
    switch (action) {
      case 'kick':
        return unwrap(api.POST('/api/v1/rooms/{id}/members/{user_id}/kick', path));
      case 'ban':
        return unwrap(api.POST('/api/v1/rooms/{id}/members/{user_id}/ban', path));
      case 'unban':
        return unwrap(api.DELETE('/api/v1/rooms/{id}/bans/{user_id}', path));
      case 'mute':
        return unwrap(api.POST('/api/v1/rooms/{id}/members/{user_id}/mute', { ...path, body: { minutes: 10 } }));
      case 'unmute':
        return unwrap(api.DELETE('/api/v1/rooms/{id}/members/{user_id}/mute', path));
      case 'moderator':
      case 'member':
        return unwrap(api.PUT('/api/v1/rooms/{id}/members/{user_id}/role', { ...path, body: { role: action } }));
      case 'transfer':
        await unwrap(api.POST('/api/v1/rooms/{id}/transfer', { params: { path: { id: roomId } }, body: { user_id: userId } }));
        room.value = await unwrap(api.GET('/api/v1/rooms/{id}', { params: { path: { id: roomId } } }));
        return;
    }
  }

  async function leaveRoom() {
    socket.leave(roomId);
    await unwrap(api.POST('/api/v1/rooms/{id}/leave', { params: { path: { id: roomId } } }));
  }

  onBeforeUnmount(() => {
    for (const off of offs) off();
    if (socket.isJoined(roomId)) socket.leave(roomId);
  });

  return {
    socket,
    room,
    playback,
    members,
    memberCount,
    onlineMembers,
    messages: sortedMessages,
    waiting,
    waitingNames,
    removed,
    lastError,
    joined,
    olderDone,
    loadingOlder,
    myRole,
    myMutedUntil,
    myId,
    canControl,
    canModerate,
    load,
    loadOlder,
    sendChat,
    sendDanmaku,
    onDanmaku: (l: (d: Danmaku) => void) => danmakuListeners.add(l),
    command,
    reportStatus,
    moderate,
    leaveRoom,
    pendingChats: () => socket.pendingChats(roomId),
  };
}

function roleRank(role: string): number {
  return role === 'owner' ? 2 : role === 'moderator' ? 1 : 0;
}
