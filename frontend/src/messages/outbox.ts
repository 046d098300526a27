// Messages on their way: each gets a `client_id` (uuid) and shows as a "sending…" bubble
// until its `message_ack`. After a reconnect every unacknowledged one goes out again with
// the same `client_id` (the server stores it once either way); one that gets no answer in
// `timeoutMs` becomes "failed, retry", and a retry sends the same `client_id` again.
// Plain TypeScript with injected timers and transport, so Vitest drives it.
import type { NewMessage } from './logic';

export interface Pending {
  client_id: string;
  conversation_id: number;
  body: NewMessage;
  status: 'sending' | 'failed';
  /** An error code from the server (a refusal that resending will not fix). */
  error: string | null;
  created_at: string;
}

export interface OutboxDeps {
  /** Sends a `message_send` frame; false when the socket is not connected (a reconnect resends). */
  send(conversationId: number, body: NewMessage): boolean;
  uuid(): string;
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  /** Called after every change with all pending messages, oldest first. */
  onChange(items: Pending[]): void;
}

/** Error codes after which the same message may well go through later. */
const TRANSIENT = new Set(['rate_limited', 'service_unavailable', 'internal_error']);

export class Outbox {
  private readonly items = new Map<string, Pending>();
  private readonly timers = new Map<string, unknown>();

  constructor(
    private readonly deps: OutboxDeps,
    private readonly timeoutMs = 15_000,
  ) {}

  /** Queue and send a message; returns its pending entry. */
  submit(conversationId: number, body: Omit<NewMessage, 'client_id'>): Pending {
    const client_id = this.deps.uuid();
    const p: Pending = {
      client_id,
      conversation_id: conversationId,
      body: { ...body, client_id } as NewMessage,
      status: 'sending',
      error: null,
      created_at: new Date(this.deps.now()).toISOString(),
    };
    this.items.set(client_id, p);
    this.transmit(p);
    this.changed();
    return p;
  }

  /** The server stored it (`message_ack`, or our own `message` seen from another path). */
  ack(clientId: string): boolean {
    if (!this.items.delete(clientId)) return false;
    this.stopTimer(clientId);
    this.changed();
    return true;
  }

  /** The server refused it (`error` with our `client_id` as `req_id`). */
  refuse(clientId: string, code: string): void {
    const p = this.items.get(clientId);
    if (!p) return;
    this.stopTimer(clientId);
    this.items.set(clientId, { ...p, status: 'failed', error: TRANSIENT.has(code) ? null : code });
    this.changed();
  }

  /** Send a failed one again, with the same `client_id`. */
  retry(clientId: string): void {
    const p = this.items.get(clientId);
    if (!p) return;
    const again: Pending = { ...p, status: 'sending', error: null };
    this.items.set(clientId, again);
    this.transmit(again);
    this.changed();
  }

  /** Give up on one (the user removed the failed bubble). */
  discard(clientId: string): void {
    if (!this.items.delete(clientId)) return;
    this.stopTimer(clientId);
    this.changed();
  }

  /** The socket (re)connected: everything still sending goes out again. */
  reconnected(): void {
    for (const p of this.items.values()) if (p.status === 'sending') this.transmit(p);
  }

  /** Drop a conversation's messages (it is gone, or I left it). */
  forget(conversationId: number): void {
    for (const p of [...this.items.values()]) if (p.conversation_id === conversationId) this.discard(p.client_id);
  }

  list(): Pending[] {
    return [...this.items.values()];
  }

  private transmit(p: Pending): void {
    this.stopTimer(p.client_id);
    this.deps.send(p.conversation_id, p.body);
    this.timers.set(
      p.client_id,
      this.deps.setTimeout(() => {
        this.timers.delete(p.client_id);
        const cur = this.items.get(p.client_id);
        if (cur && cur.status === 'sending') {
          this.items.set(p.client_id, { ...cur, status: 'failed' });
          this.changed();
        }
      }, this.timeoutMs),
    );
  }

  private stopTimer(clientId: string): void {
    const t = this.timers.get(clientId);
    if (t !== undefined) this.deps.clearTimeout(t);
    this.timers.delete(clientId);
  }

  private changed(): void {
    this.deps.onChange(this.list());
  }
}
