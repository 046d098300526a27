// A TCP proxy that delays every chunk by a fixed time in each direction, keeping the order:
// a slow, far-away network for one browser page, for HTTP and WebSocket alike (CDP network
// emulation delays HTTP requests but not WebSocket frames, so it would not test sync).
//
//   import { startDelayProxy } from './delay-proxy.mjs';
//   const proxy = await startDelayProxy({ target: 8080, delayMs: 75 });  // proxy.port, proxy.stop()
// Only the proxy's own sockets are closed by stop().
import { createConnection, createServer } from 'node:net';

/** One direction: each chunk leaves `delayMs` after it arrived, never before the one ahead of it. */
function delayedPipe(from, to, delayMs) {
  let last = 0;
  from.on('data', (chunk) => {
    const due = Math.max(Date.now() + delayMs, last);
    last = due;
    setTimeout(() => {
      if (!to.destroyed) to.write(chunk);
    }, due - Date.now());
  });
  from.on('end', () => setTimeout(() => to.end(), Math.max(0, last - Date.now())));
  from.on('error', () => to.destroy());
}

/** Listens on `port` (0: any free one) and forwards to `host:target`. */
export function startDelayProxy({ target, host = '127.0.0.1', delayMs = 75, port = 0 }) {
  const sockets = new Set();
  const server = createServer((client) => {
    client.setNoDelay(true);
    const upstream = createConnection({ port: target, host });
    upstream.setNoDelay(true);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    }
    delayedPipe(client, upstream, delayMs);
    delayedPipe(upstream, client, delayMs);
  });
  return new Promise((resolve, reject) => {
    server.on('error', reject);
    server.listen(port, host, () => {
      resolve({
        port: server.address().port,
        stop: () =>
          new Promise((r) => {
            for (const s of sockets) s.destroy();
            server.close(() => r());
          }),
      });
    });
  });
}
