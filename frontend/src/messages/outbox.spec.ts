import { describe, expect, it } from 'vitest';
import { Outbox, type Pending } from './outbox';

function harness(connected = true) {
  const sent: { conversationId: number; clientId: string }[] = [];
  const timers = new Map<number, () => void>();
  let n = 0;
  let now = 0;
  let items: Pending[] = [];
  const state = { connected };
  const box = new Outbox(
    {
      send: (conversationId, body) => {
        if (!state.connected) return false;
        sent.push({ conversationId, clientId: body.client_id });
        return true;
      },
      uuid: () => `c${++n}`,
      now: () => now,
      setTimeout: (fn) => {
        const id = ++n;
        timers.set(id, fn);
        return id;
      },
      clearTimeout: (h) => timers.delete(h as number),
      onChange: (list) => (items = list),
    },
    15_000,
  );
  return {
    box,
    sent,
    state,
    items: () => items,
    fireTimers: () => {
      now += 15_000;
      const fns = [...timers.values()];
      timers.clear();
      for (const f of fns) f();
    },
  };
}

describe('Outbox', () => {
  it('shows a message as sending until its ack', () => {
    const h = harness();
    const p = h.box.submit(7, { kind: 'text', text: 'hi' });
    expect(h.items()).toHaveLength(1);
    expect(h.items()[0]!.status).toBe('sending');
    expect(h.sent).toEqual([{ conversationId: 7, clientId: p.client_id }]);
    expect(h.box.ack(p.client_id)).toBe(true);
    expect(h.items()).toHaveLength(0);
  });

  it('resends with the same client_id after a reconnect, and only what is unacknowledged', () => {
    const h = harness(false);
    const a = h.box.submit(7, { kind: 'text', text: 'a' });
    const b = h.box.submit(7, { kind: 'text', text: 'b' });
    expect(h.sent).toHaveLength(0);
    h.state.connected = true;
    h.box.reconnected();
    expect(h.sent.map((s) => s.clientId)).toEqual([a.client_id, b.client_id]);
    h.box.ack(a.client_id);
    h.box.reconnected();
    expect(h.sent.map((s) => s.clientId)).toEqual([a.client_id, b.client_id, b.client_id]);
  });

  it('becomes "failed" after the timeout, and a retry sends the same client_id', () => {
    const h = harness();
    const p = h.box.submit(7, { kind: 'text', text: 'x' });
    h.fireTimers();
    expect(h.items()[0]!.status).toBe('failed');
    h.box.reconnected();
    expect(h.sent).toHaveLength(1); // a failed one waits for the user
    h.box.retry(p.client_id);
    expect(h.items()[0]!.status).toBe('sending');
    expect(h.sent.map((s) => s.clientId)).toEqual([p.client_id, p.client_id]);
  });

  it('a refusal fails it with the code; a transient one without', () => {
    const h = harness();
    const a = h.box.submit(7, { kind: 'text', text: 'x' });
    const b = h.box.submit(7, { kind: 'text', text: 'y' });
    h.box.refuse(a.client_id, 'not_friends');
    h.box.refuse(b.client_id, 'rate_limited');
    expect(h.items().map((p) => [p.status, p.error])).toEqual([
      ['failed', 'not_friends'],
      ['failed', null],
    ]);
  });

  it('forgets a conversation that is gone', () => {
    const h = harness();
    h.box.submit(7, { kind: 'text', text: 'x' });
    h.box.submit(8, { kind: 'text', text: 'y' });
    h.box.forget(7);
    expect(h.items().map((p) => p.conversation_id)).toEqual([8]);
  });
});
