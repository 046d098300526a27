// The tab's one realtime socket, wired to the browser (WebSocket, timers, online events).
import { shallowRef, type ShallowRef } from 'vue';
import { api, unwrap } from '@/api/client';
import { clientNow } from '@/sync/clock';
import { RealtimeSocket, type ConnectionState, type Transport } from './socket';

function openWebSocket(ticket: string): Transport {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const ws = new WebSocket(`${scheme}://${location.host}/ws?ticket=${encodeURIComponent(ticket)}`);
  const t: Transport = {
    send: (d) => ws.send(d),
    close: (code, reason) => ws.close(code, reason),
    onopen: null,
    onmessage: null,
    onclose: null,
  };
  ws.onopen = () => t.onopen?.();
  ws.onmessage = (e: MessageEvent) => t.onmessage?.(e.data);
  ws.onclose = (e: CloseEvent) => t.onclose?.(e.code, e.reason);
  return t;
}

let socket: RealtimeSocket | null = null;
let stateRef: ShallowRef<ConnectionState> | null = null;

/** The shared socket (created on first use). */
export function realtime(): RealtimeSocket {
  if (socket) return socket;
  const s = new RealtimeSocket({
    ticket: async () => (await unwrap(api.POST('/api/v1/realtime/ticket'))).ticket,
    open: openWebSocket,
    now: clientNow,
    random: Math.random,
    setTimeout: (fn, ms) => window.setTimeout(fn, ms),
    clearTimeout: (h) => window.clearTimeout(h as number),
  });
  window.addEventListener('online', () => s.setBrowserOnline(true));
  window.addEventListener('offline', () => s.setBrowserOnline(false));
  if (!navigator.onLine) s.setBrowserOnline(false);
  socket = s;
  return s;
}

/** The connection state as a ref, for the indicator. */
export function useConnectionState(): ShallowRef<ConnectionState> {
  if (!stateRef) {
    const r = shallowRef<ConnectionState>('idle');
    realtime().onState((s) => (r.value = s));
    stateRef = r;
  }
  return stateRef;
}
