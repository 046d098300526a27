import { describe, expect, it } from 'vitest';
import { RealtimeSocket, type SocketDeps, type Transport } from './socket';
import type { ClientMessage, ServerMessage } from './protocol';

/** A fake WebSocket: records what is sent; the test plays the server. */
class FakeTransport implements Transport {
  sent: ClientMessage[] = [];
  closed: number | null = null;
  onopen: (() => void) | null = null;
  onmessage: ((data: unknown) => void) | null = null;
  onclose: ((code: number, reason: string) => void) | null = null;
  /** Drop the connection right after this many sends (the frame is lost). */
  dropAfter = Infinity;

  send(data: string): void {
    if (this.closed !== null) throw new Error('send on a closed socket');
    this.sent.push(JSON.parse(data) as ClientMessage);
    if (this.sent.length >= this.dropAfter) this.drop(1006);
  }
  close(code = 1000): void {
    this.closed = code;
  }
  server(frame: ServerMessage): void {
    this.onmessage?.(JSON.stringify(frame));
  }
  drop(code: number, reason = ''): void {
    this.closed = code;
    this.onclose?.(code, reason);
  }
  ofType<T extends ClientMessage['type']>(t: T) {
    return this.sent.filter((m): m is Extract<ClientMessage, { type: T }> => m.type === t);
  }
}

/** Fake timers and a fake server. */
function harness() {
  let now = 0;
  const timers: { at: number; fn: () => void; id: number }[] = [];
  let nextId = 1;
  const transports: FakeTransport[] = [];
  const delays: number[] = [];
  let tickets = 0;
  let ticketFails = 0;
  const deps: SocketDeps = {
    ticket: async () => {
      if (ticketFails > 0) {
        ticketFails--;
        throw new Error('offline');
      }
      return `t${++tickets}`;
    },
    open: () => {
      const t = new FakeTransport();
      transports.push(t);
      return t;
    },
    now: () => now,
    random: () => 0.37,
    setTimeout: (fn, ms) => {
      const id = nextId++;
      timers.push({ at: now + ms, fn, id });
      if (ms > 0 && ms % 100 !== 0) delays.push(ms); // retries (time-sync timers are whole 100s)
      return id;
    },
    clearTimeout: (h) => {
      const i = timers.findIndex((t) => t.id === h);
      if (i >= 0) timers.splice(i, 1);
    },
  };
  const socket = new RealtimeSocket(deps);
  const flush = () => new Promise((r) => setTimeout(r, 0));
  const advance = async (ms: number) => {
    const end = now + ms;
    for (;;) {
      timers.sort((a, b) => a.at - b.at);
      const t = timers[0];
      if (!t || t.at > end) break;
      timers.shift();
      now = t.at;
      t.fn();
      await flush();
    }
    now = end;
    await flush();
  };
  const last = () => transports[transports.length - 1]!;
  const welcome = () => last().server({ type: 'welcome', user_id: 7, server_time: 1000, ping_interval_ms: 15000 });
  return {
    socket,
    transports,
    delays,
    last,
    welcome,
    advance,
    flush,
    failTickets: (n: number) => (ticketFails = n),
  };
}

const chatFrom = (seq: number, clientId: string | null = null): ServerMessage => ({
  type: 'chat',
  message: {
    room_id: 42,
    seq,
    sender_id: 8,
    sender_name: '阿强',
    client_id: clientId,
    kind: 'text',
    text: `m${seq}`,
    position_ms: null,
    created_at: '2026-11-24T00:00:00Z',
    deleted: false,
  },
});

const joined = (lastSeq: number): ServerMessage => ({
  type: 'joined',
  room_id: 42,
  last_seq: lastSeq,
  reload: false,
  playback: { movie_id: 1, playing: false, position_ms: 0, rate: 1, anchor_time: 0, version: 1 },
  members: [],
  member_count: 2,
  messages: [],
});

describe('RealtimeSocket', () => {
  it('connects with a ticket, syncs the clock and joins', async () => {
    const h = harness();
    const states: string[] = [];
    h.socket.onState((s) => states.push(s));
    h.socket.join(42);
    await h.flush();
    expect(h.transports).toHaveLength(1);
    h.welcome();
    expect(h.socket.state).toBe('connected');
    expect(h.last().ofType('join')).toEqual([{ type: 'join', room_id: 42 }]);
    await h.advance(800);
    const syncs = h.last().ofType('time_sync');
    expect(syncs).toHaveLength(8);
    // The server answers one sample with a 10 ms round trip.
    const s = syncs[3]!;
    h.last().server({ type: 'time_sync', client_time: s.client_time, server_time: s.client_time + 5005 });
    expect(h.socket.clock.synced).toBe(true);
    expect(states).toEqual(['idle', 'connecting', 'connected']);
  });

  it('samples the clock again 2, 5, 15 and 30 s after connecting, so a skewed sample from a busy start does not stay for a minute', async () => {
    const h = harness();
    h.socket.join(42);
    await h.flush();
    h.welcome();
    // The connect burst runs while the page is busy: its best sample took 26 ms, 24 of them
    // on the way back (handled late), which skews the offset by -12 ms.
    await h.advance(26);
    const first = h.last().ofType('time_sync')[0]!;
    h.last().server({ type: 'time_sync', client_time: first.client_time, server_time: first.client_time + 1 });
    expect(h.socket.clock.offset).toBeCloseTo(-12, 5);
    await h.advance(2000 - 26);
    expect(h.last().ofType('time_sync')).toHaveLength(8 + 1);
    // A calm sample 2 s later (4 ms, symmetric) replaces it.
    const calm = h.last().ofType('time_sync')[8]!;
    await h.advance(4);
    h.last().server({ type: 'time_sync', client_time: calm.client_time, server_time: calm.client_time + 2 });
    expect(h.socket.clock.offset).toBeCloseTo(0, 5);
    await h.advance(30_000);
    expect(h.last().ofType('time_sync')).toHaveLength(8 + 4 * 3);
  });

  it('a dropped socket reconnects with backoff, rejoins with last_seq and resends the unacked chat once', async () => {
    const h = harness();
    h.socket.join(42);
    await h.flush();
    h.welcome();
    h.last().server(joined(10));
    h.last().server(chatFrom(11));
    // The chat is sent, and the connection drops right after (the frame is lost).
    h.last().dropAfter = h.last().sent.length + 1;
    h.socket.sendChat({ room_id: 42, client_id: 'c-1', text: '你好' });
    expect(h.socket.state).toBe('reconnecting');
    expect(h.socket.pendingChats(42)).toHaveLength(1);
    await h.advance(1000);
    expect(h.transports).toHaveLength(2);
    h.welcome();
    const second = h.last();
    expect(second.ofType('join')).toEqual([{ type: 'join', room_id: 42, last_seq: 11 }]);
    expect(second.ofType('chat')).toEqual([{ type: 'chat', room_id: 42, client_id: 'c-1', text: '你好' }]);
    second.server({
      type: 'chat_ack',
      room_id: 42,
      client_id: 'c-1',
      seq: 12,
      message: (chatFrom(12, 'c-1') as Extract<ServerMessage, { type: 'chat' }>).message,
    });
    expect(h.socket.pendingChats(42)).toHaveLength(0);
    // A further drop resends nothing.
    second.drop(1006);
    await h.advance(2000);
    h.welcome();
    expect(h.last().ofType('chat')).toHaveLength(0);
  });

  it('backs off exponentially with jitter while the ticket cannot be had, and resets after a welcome', async () => {
    const h = harness();
    h.failTickets(4);
    h.socket.connect();
    await h.flush();
    await h.advance(60_000);
    // random() = 0.37 of 500, 1000, 2000, 4000 (full jitter).
    expect(h.delays.slice(0, 4)).toEqual([185, 370, 740, 1480]);
    expect(h.transports).toHaveLength(1);
    h.welcome();
    h.last().drop(1006);
    expect(h.delays[h.delays.length - 1]).toBe(185);
  });

  it('1001 (server shutdown) and 1008 (too slow) reconnect at once', async () => {
    for (const code of [1001, 1008]) {
      const h = harness();
      h.socket.connect();
      await h.flush();
      h.welcome();
      h.last().drop(code);
      await h.advance(100);
      expect(h.transports, `close ${code}`).toHaveLength(2);
    }
  });

  it('removed (kicked) ends the room: no rejoin after a reconnect', async () => {
    const h = harness();
    const reasons: string[] = [];
    h.socket.on('removed', (f) => reasons.push(f.reason));
    h.socket.join(42);
    h.socket.join(43);
    await h.flush();
    h.welcome();
    h.last().server({ type: 'removed', room_id: 42, reason: 'kicked' });
    expect(reasons).toEqual(['kicked']);
    expect(h.socket.isJoined(42)).toBe(false);
    h.last().drop(1006);
    await h.advance(1000);
    h.welcome();
    expect(h.last().ofType('join').map((j) => j.room_id)).toEqual([43]);
  });

  it('a gap in chat seq asks for the missing messages', async () => {
    const h = harness();
    h.socket.join(42);
    await h.flush();
    h.welcome();
    h.last().server(joined(10));
    h.last().server(chatFrom(11));
    h.last().server(chatFrom(14));
    expect(h.last().ofType('join').at(-1)).toEqual({ type: 'join', room_id: 42, last_seq: 11 });
  });

  it('a refused chat (muted) is not resent; offline waits for the browser', async () => {
    const h = harness();
    h.socket.join(42);
    await h.flush();
    h.welcome();
    h.socket.sendChat({ room_id: 42, client_id: 'c-2', text: 'x' });
    h.last().server({ type: 'error', code: 'forbidden', message: 'muted', room_id: 42, req_id: 'c-2' });
    expect(h.socket.pendingChats(42)).toHaveLength(0);
    h.socket.setBrowserOnline(false);
    expect(h.last().closed).toBe(4000);
    expect(h.socket.state).toBe('offline');
    await h.advance(60_000);
    expect(h.transports).toHaveLength(1);
    h.socket.setBrowserOnline(true);
    await h.flush();
    expect(h.transports).toHaveLength(2);
  });
});
