// The one WebSocket per tab (docs/realtime.md): ticket, connect, time sync, rooms, chat
// with resend, reconnect. Plain TypeScript with injected dependencies, so Vitest drives it
// with a fake socket and fake timers; `index.ts` wires the browser's.
import { ServerClock } from '@/sync/clock';
import {
  parseServerFrame,
  type ClientFrame,
  type ClientMessage,
  type ServerFrame,
  type ServerMessage,
  type ServerType,
} from './protocol';

/** connected / reconnecting (a retry is scheduled or under way) / offline (the browser says so, or closed). */
export type ConnectionState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'offline';

/** What the socket needs of a WebSocket. */
export interface Transport {
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: (() => void) | null;
  onmessage: ((data: unknown) => void) | null;
  onclose: ((code: number, reason: string) => void) | null;
}

export interface SocketDeps {
  /** A one-time ticket (`POST /api/v1/realtime/ticket`). Rejects when not signed in or offline. */
  ticket(): Promise<string>;
  /** Opens `/ws?ticket=…`. */
  open(ticket: string): Transport;
  now(): number;
  random(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface SocketOptions {
  /** First retry delay (ms); doubles per failure up to `maxDelayMs`, with full jitter. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Time-sync samples at connect, and their spacing. */
  syncSamples?: number;
  syncSpacingMs?: number;
  /** A burst of 3 samples this often. */
  resyncEveryMs?: number;
  /**
   * Extra bursts this long after connecting. The connect burst runs while the page is busiest
   * (the player loading): a reply handled late inflates the round trip on one side only and
   * skews the offset by half of it (12 ms seen in a loaded browser test, rtt 26 ms), and the
   * smallest-rtt rule keeps that sample until a better one comes.
   */
  earlyBurstsMs?: number[];
}

interface RoomEntry {
  /** Newest chat `seq` seen, for `join` with `last_seq` after a reconnect. */
  lastSeq: number | null;
}

type Handler<T extends ServerType> = (frame: ServerFrame<T>) => void;

/** Close codes after which the server wants us back at once (docs/realtime.md). */
const RECONNECT_AT_ONCE = new Set([1001, 1008]);

export class RealtimeSocket {
  readonly clock = new ServerClock();
  state: ConnectionState = 'idle';
  userId: number | null = null;

  private readonly o: Required<SocketOptions>;
  private transport: Transport | null = null;
  private attempt = 0;
  private retryTimer: unknown = null;
  private syncTimers: unknown[] = [];
  private wanted = false;
  private browserOffline = false;
  private readonly rooms = new Map<number, RoomEntry>();
  /** Chats sent but not acknowledged, by `client_id`, in send order. */
  private readonly unacked = new Map<string, ClientFrame<'chat'>>();
  private readonly handlers = new Map<string, Set<(frame: ServerMessage) => void>>();
  private readonly stateListeners = new Set<(s: ConnectionState) => void>();

  constructor(
    private readonly deps: SocketDeps,
    opts: SocketOptions = {},
  ) {
    this.o = {
      baseDelayMs: 500,
      maxDelayMs: 30_000,
      syncSamples: 8,
      syncSpacingMs: 100,
      resyncEveryMs: 60_000,
      earlyBurstsMs: [2_000, 5_000, 15_000, 30_000],
      ...opts,
    };
  }

  /** Listen to one frame type; returns the unsubscribe function. */
  on<T extends ServerType>(type: T, handler: Handler<T>): () => void {
    let set = this.handlers.get(type);
    if (!set) this.handlers.set(type, (set = new Set()));
    const h = handler as (frame: ServerMessage) => void;
    set.add(h);
    return () => set.delete(h);
  }

  onState(listener: (s: ConnectionState) => void): () => void {
    this.stateListeners.add(listener);
    listener(this.state);
    return () => this.stateListeners.delete(listener);
  }

  /** Connects (idempotent). */
  connect(): void {
    this.wanted = true;
    if (this.transport || this.retryTimer !== null) return;
    void this.dial();
  }

  /** Closes for good (sign-out, last room page left). */
  close(): void {
    this.wanted = false;
    this.clearRetry();
    this.stopSync();
    const t = this.transport;
    this.transport = null;
    if (t) {
      t.onclose = null;
      t.close(1000, 'bye');
    }
    this.setState('idle');
  }

  /** The browser went offline or online (`offline` / `online` events). */
  setBrowserOnline(online: boolean): void {
    this.browserOffline = !online;
    if (!online) {
      // The socket is dead even if no close has come yet: drop it, and dial again when the
      // browser is back (rejoin with last_seq and resend fill what was missed).
      const t = this.transport;
      this.transport = null;
      this.clearRetry();
      this.stopSync();
      if (t) {
        t.onclose = null;
        t.close(4000, 'offline');
      }
      this.setState('offline');
      return;
    }
    if (this.wanted && !this.transport) {
      this.clearRetry();
      this.attempt = 0;
      void this.dial();
    }
  }

  /** Joins a room now and after every reconnect (with the newest `seq` seen). */
  join(roomId: number): void {
    if (!this.rooms.has(roomId)) this.rooms.set(roomId, { lastSeq: null });
    this.sendJoin(roomId);
    this.connect();
  }

  leave(roomId: number): void {
    this.rooms.delete(roomId);
    for (const [id, m] of this.unacked) if (m.room_id === roomId) this.unacked.delete(id);
    this.send({ type: 'leave', room_id: roomId });
  }

  isJoined(roomId: number): boolean {
    return this.rooms.has(roomId);
  }

  /**
   * Sends a chat message; it is kept until its `chat_ack` and resent with the same
   * `client_id` after a reconnect, so it is stored exactly once.
   */
  sendChat(frame: Omit<ClientFrame<'chat'>, 'type'>): void {
    const msg: ClientFrame<'chat'> = { type: 'chat', ...frame };
    this.unacked.set(msg.client_id, msg);
    this.send(msg);
  }

  /** Chats waiting for their ack (shown as "sending…"). */
  pendingChats(roomId: number): ClientFrame<'chat'>[] {
    return [...this.unacked.values()].filter((m) => m.room_id === roomId);
  }

  /** Sends now if connected; returns whether it went out (nothing is queued but chat). */
  send(msg: ClientMessage): boolean {
    if (this.state !== 'connected' || !this.transport) return false;
    this.transport.send(JSON.stringify(msg));
    return true;
  }

  private setState(s: ConnectionState): void {
    if (this.state === s) return;
    this.state = s;
    for (const l of this.stateListeners) l(s);
  }

  private emit(frame: ServerMessage): void {
    for (const h of this.handlers.get(frame.type) ?? []) h(frame);
  }

  private sendJoin(roomId: number): void {
    const entry = this.rooms.get(roomId);
    if (!entry) return;
    this.send({
      type: 'join',
      room_id: roomId,
      ...(entry.lastSeq !== null ? { last_seq: entry.lastSeq } : {}),
    });
  }

  private async dial(): Promise<void> {
    if (!this.wanted) return;
    if (this.browserOffline) {
      this.setState('offline');
      return;
    }
    this.setState(this.attempt === 0 && this.state === 'idle' ? 'connecting' : 'reconnecting');
    let ticket: string;
    try {
      ticket = await this.deps.ticket();
    } catch {
      this.scheduleRetry(false);
      return;
    }
    if (!this.wanted || this.transport) return;
    const t = this.deps.open(ticket);
    this.transport = t;
    t.onmessage = (data) => {
      const frame = parseServerFrame(data);
      if (frame) this.receive(frame);
    };
    t.onclose = (code) => {
      if (this.transport !== t) return;
      this.transport = null;
      this.stopSync();
      if (!this.wanted) {
        this.setState('idle');
        return;
      }
      this.scheduleRetry(RECONNECT_AT_ONCE.has(code));
    };
  }

  private receive(frame: ServerMessage): void {
    switch (frame.type) {
      case 'welcome':
        this.userId = frame.user_id;
        this.attempt = 0;
        this.setState('connected');
        this.startSync();
        for (const id of this.rooms.keys()) this.sendJoin(id);
        // Unacknowledged chats go out again with their client_id: stored once either way.
        for (const m of this.unacked.values()) this.send(m);
        break;
      case 'time_sync':
        this.clock.addSample(frame.client_time, frame.server_time, this.deps.now());
        break;
      case 'joined': {
        const entry = this.rooms.get(frame.room_id);
        if (entry) entry.lastSeq = frame.last_seq;
        break;
      }
      case 'chat': {
        const m = frame.message;
        const entry = this.rooms.get(m.room_id);
        if (entry) {
          if (entry.lastSeq !== null && m.seq > entry.lastSeq + 1) {
            // A gap (instances lost touch): fetch what is missing.
            this.sendJoin(m.room_id);
          } else if (entry.lastSeq === null || m.seq > entry.lastSeq) {
            entry.lastSeq = m.seq;
          }
        }
        if (m.client_id) this.unacked.delete(m.client_id);
        break;
      }
      case 'chat_ack':
        this.unacked.delete(frame.client_id);
        break;
      case 'error':
        // A refused chat (muted, too long) will not be stored by resending it.
        if (frame.req_id && frame.code !== 'rate_limited' && frame.code !== 'service_unavailable') {
          this.unacked.delete(frame.req_id);
        }
        break;
      case 'removed':
        // Kicked, banned, left elsewhere, room deleted: do not rejoin this room.
        this.rooms.delete(frame.room_id);
        for (const [id, m] of this.unacked) if (m.room_id === frame.room_id) this.unacked.delete(id);
        break;
      default:
        break;
    }
    this.emit(frame);
  }

  private scheduleRetry(atOnce: boolean): void {
    this.clearRetry();
    if (this.browserOffline) {
      this.setState('offline');
      return;
    }
    this.setState('reconnecting');
    // Full jitter: a server restart must not bring every tab back in the same millisecond.
    const cap = Math.min(this.o.maxDelayMs, this.o.baseDelayMs * 2 ** this.attempt);
    const delay = atOnce ? this.deps.random() * 100 : this.deps.random() * cap;
    this.attempt = Math.min(this.attempt + 1, 16);
    this.retryTimer = this.deps.setTimeout(() => {
      this.retryTimer = null;
      void this.dial();
    }, delay);
  }

  private clearRetry(): void {
    if (this.retryTimer !== null) this.deps.clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  private sample(): void {
    this.send({ type: 'time_sync', client_time: this.deps.now() });
  }

  private startSync(): void {
    this.stopSync();
    for (let i = 0; i < this.o.syncSamples; i++) {
      this.syncTimers.push(this.deps.setTimeout(() => this.sample(), i * this.o.syncSpacingMs));
    }
    const three = () => {
      for (let i = 0; i < 3; i++) {
        this.syncTimers.push(this.deps.setTimeout(() => this.sample(), i * this.o.syncSpacingMs));
      }
    };
    for (const at of this.o.earlyBurstsMs) this.syncTimers.push(this.deps.setTimeout(three, at));
    const burst = () => {
      this.syncTimers = []; // the earlier ones have fired
      three();
      this.syncTimers.push(this.deps.setTimeout(burst, this.o.resyncEveryMs));
    };
    this.syncTimers.push(this.deps.setTimeout(burst, this.o.resyncEveryMs));
  }

  private stopSync(): void {
    for (const t of this.syncTimers) this.deps.clearTimeout(t);
    this.syncTimers = [];
  }
}
