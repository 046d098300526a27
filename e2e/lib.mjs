// Shared pieces of the browser tests: start the real `luojia` binary on a free port with
// a fresh data dir, and Debian's Chromium with the flags this machine needs.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { watchProblems } from './watch-lib.mjs';

export async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

/** Debian's Chromium, or $CHROMIUM. */
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

/** The flags every browser test gives Chromium on this machine (README, Development). */
export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/** Resolves once `${base}/healthz` answers 200; throws after `ms`. */
async function waitHealthy(base, ms, what) {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      if ((await fetch(`${base}/healthz`)).ok) return;
    } catch { /* not up yet */ }
    if (Date.now() > deadline) throw new Error(`${what} did not start`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Spawn `luojia serve` on `port` with `dataDir`; resolves once /healthz answers. */
async function spawnServe({ port, dataDir, env }) {
  const bin = process.env.LUOJIA_BIN;
  if (!bin) throw new Error('LUOJIA_BIN must point at the luojia binary');
  const child = spawn(bin, ['serve'], {
    env: {
      ...process.env,
      APP_SERVER__PORT: String(port),
      APP_DATA_DIR: dataDir,
      APP_AUTH__BCRYPT_COST: '4',
      APP_LOG__LEVEL: 'warn',
      // The app's pages open /ws from this origin (the socket checks Origin exactly).
      APP_SERVER__ALLOWED_ORIGINS: `http://127.0.0.1:${port}`,
      ...env,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  try {
    await waitHealthy(base, 30_000, 'server');
  } catch (e) {
    child.kill('SIGTERM');
    throw e;
  }
  return {
    base,
    port,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
    },
  };
}

/** Start `luojia serve`; resolves once /healthz answers. Stop with `.stop()`. */
export async function startServer(env = {}) {
  const port = await freePort();
  // The port a later startNginx(server) listens on: pages served through it open /ws from
  // that origin too (signed-in pages keep the user's socket open), so it is allowed now.
  const nginxPort = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'luojia-e2e-'));
  const serve = await spawnServe({
    port,
    dataDir,
    env: { APP_SERVER__ALLOWED_ORIGINS: `http://127.0.0.1:${port},http://127.0.0.1:${nginxPort}`, ...env },
  });
  return {
    base: serve.base,
    nginxPort,
    dataDir,
    async stop() {
      await serve.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * The production topology: `instances` backends sharing one data dir (SQLite in WAL mode,
 * media, one JWT secret) and one Redis under a fresh key prefix (so parallel runs never
 * meet), behind the repository's nginx.conf. `base` is nginx; `instances[i].base` a backend
 * directly (for `/internal/stats`). `.stop()` ends nginx and the backends by PID, deletes the
 * run's Redis keys and the data dir. Redis: `TEST_REDIS_URL` (default 127.0.0.1:6379).
 * `extraOrigins`: more origins whose pages may open the WebSocket (a proxy in front of nginx).
 */
export async function startCluster({ instances = 2, env = {}, extraOrigins = [] } = {}) {
  const redisUrl = process.env.TEST_REDIS_URL || 'redis://127.0.0.1:6379';
  const prefix = `luojia-e2e-${randomBytes(6).toString('hex')}:`;
  const dataDir = mkdtempSync(join(tmpdir(), 'luojia-e2e-cluster-'));
  const listen = await freePort();
  const shared = {
    APP_REDIS__URL: redisUrl,
    APP_REDIS__KEY_PREFIX: prefix,
    APP_AUTH__JWT_SECRET: randomBytes(32).toString('hex'),
    APP_SERVER__ALLOWED_ORIGINS: [`http://127.0.0.1:${listen}`, ...extraOrigins].join(','),
    APP_FRONTEND__DIST_DIR: frontendDist,
    ...env,
  };
  const started = [];
  const cluster = {
    base: `http://127.0.0.1:${listen}`,
    dataDir,
    redisPrefix: prefix,
    instances: started,
    nginx: null,
    /** Open WebSocket connections per instance, from each one's `/internal/stats`. */
    async connections() {
      return Promise.all(started.map(async (s) => (await (await fetch(`${s.base}/internal/stats`)).json()).realtime.connections));
    },
    async stop() {
      await cluster.nginx?.stop();
      for (const s of started) await s.stop();
      await purgeRedis(redisUrl, prefix).catch((e) => console.warn(`redis cleanup: ${e.message}`));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  try {
    // One at a time: the first runs the migrations.
    for (let i = 0; i < instances; i++) started.push(await spawnServe({ port: await freePort(), dataDir, env: shared }));
    cluster.nginx = await startNginx({ dataDir, ports: started.map((s) => s.port), listen });
  } catch (e) {
    await cluster.stop();
    throw e;
  }
  return cluster;
}

/** Deletes every Redis key under `prefix` (redis-cli, by SCAN). */
async function purgeRedis(url, prefix) {
  const { execFile } = await import('node:child_process');
  const { promisify } = await import('node:util');
  const run = promisify(execFile);
  const { stdout } = await run('redis-cli', ['-u', url, '--scan', '--pattern', `${prefix}*`]);
  const keys = stdout.split('\n').filter(Boolean);
  for (let i = 0; i < keys.length; i += 500) await run('redis-cli', ['-u', url, 'DEL', ...keys.slice(i, i + 500)]);
}

/**
 * Opens `url` in `page` and reloads it until its WebSocket lands on cluster instance `index`
 * (nginx spreads connections round-robin; the tests want the host and the guests on
 * different instances). `page` must not have a socket yet (it would be counted as new), and
 * other pages must not (re)connect meanwhile.
 */
export async function openOn(cluster, page, url, index) {
  const before = await cluster.connections();
  const sum = (xs) => xs.reduce((a, b) => a + b, 0);
  for (let attempt = 0; attempt < 12; attempt++) {
    // nginx's round robin is deterministic: a page load that makes an even number of
    // upstream requests would put its socket on the same instance on every reload. One
    // request more on every other attempt changes the parity (a CI run failed all 12).
    if (attempt % 2 === 1) await fetch(`${cluster.base}/healthz`).catch(() => undefined);
    if (attempt === 0) await page.goto(url);
    else await page.reload();
    await page.getByTestId('conn').getByText(/已连接|Connected/).waitFor({ timeout: 15_000 });
    // Settled: one socket more than before, the same answer twice 150 ms apart.
    let counts = null;
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      const now = await cluster.connections();
      if (sum(now) === sum(before) + 1 && counts && now.every((c, i) => c === counts[i])) break;
      counts = now;
      await new Promise((r) => setTimeout(r, 150));
    }
    if (counts && counts[index] === before[index] + 1) return;
  }
  throw new Error(`could not place the page on instance ${index}`);
}

export async function launchBrowser() {
  const profile = mkdtempSync(join(tmpdir(), 'luojia-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 1600 },
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * A browser for tests with several people at once, each in a context of their own
 * (`signedInContext`); playwright gives each launch a fresh temporary profile. `extraArgs`:
 * fake media devices, an autoplay policy.
 */
export function launchShared(extraArgs = []) {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_ARGS, ...extraArgs] });
}

/**
 * A context of `browser` at `viewport`, signed in as `user` (its tokens in localStorage, as
 * the app keeps them), with one page and the problems it logs (`watchProblems`).
 */
export async function signedInContext(browser, user, viewport, options = {}) {
  const context = await browser.newContext({ viewport, locale: 'zh-CN', ...options });
  await context.addInitScript((tokens) => localStorage.setItem('luojia.tokens', JSON.stringify(tokens)), user.tokens);
  const page = await context.newPage();
  return { context, page, problems: watchProblems(page) };
}

/** The built web app (`npm run build` in frontend/), served by the backend under test. */
export const frontendDist =
  process.env.FRONTEND_DIST ?? new URL('../frontend/dist', import.meta.url).pathname;

/** `startServer` serving the built app at `/`. */
export function startAppServer(env = {}) {
  return startServer({ APP_FRONTEND__DIST_DIR: frontendDist, ...env });
}

/**
 * Ingest a tiny synthetic movie with metadata (title, year, genres, tags, synopsis…), the
 * way `luojia ingest --meta` does for real ones. `variant` makes each source distinct (the
 * ingest skips a source it has already seen).
 */
export async function ingestWithMeta(server, meta, { variant = 0, seconds = 2 } = {}) {
  const { execFile } = await import('node:child_process');
  const { promisify } = await import('node:util');
  const { writeFileSync } = await import('node:fs');
  const run = promisify(execFile);
  const src = join(server.dataDir, `src-${variant}.mp4`);
  await run('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', `testsrc2=size=320x180:rate=15`,
    '-f', 'lavfi', '-i', `sine=frequency=${300 + variant * 50}`, '-t', String(seconds),
    '-vf', `hue=h=${variant * 60}`, '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p',
    '-c:a', 'aac', '-shortest', '-y', src]);
  const toml = Object.entries(meta)
    .map(([k, v]) => `${k} = ${JSON.stringify(v)}`)
    .join('\n');
  const metaPath = join(server.dataDir, `meta-${variant}.toml`);
  writeFileSync(metaPath, `${toml}\n`);
  await run(process.env.LUOJIA_BIN, ['ingest', src, '--meta', metaPath], {
    env: { ...process.env, APP_DATA_DIR: server.dataDir, APP_LOG__LEVEL: 'warn' },
  });
}

/**
 * The production front door: the repository's nginx.conf rendered by `luojia nginx-conf`
 * for a server (its port, data dir and the built app) or for several backends sharing one
 * data dir (`{ dataDir, ports, listen }`), run by Debian's nginx.
 * Resolves once it listens; `.stop()` ends it by its PID.
 */
export async function startNginx(server) {
  const { execFile } = await import('node:child_process');
  const { promisify } = await import('node:util');
  const { writeFileSync } = await import('node:fs');
  const run = promisify(execFile);
  const port = server.listen ?? server.nginxPort ?? (await freePort());
  const ports = server.ports ?? [new URL(server.base).port];
  const runtime = mkdtempSync(join(tmpdir(), 'luojia-nginx-'));
  const template = new URL('../nginx.conf', import.meta.url).pathname;
  const { stdout } = await run(process.env.LUOJIA_BIN, ['nginx-conf', '--template', template,
    '--listen', String(port), ...ports.flatMap((p) => ['--backend', String(p)]), '--frontend', frontendDist,
    '--media', join(server.dataDir, 'media'), '--public', join(server.dataDir, 'public'),
    '--runtime-dir', runtime]);
  const conf = join(runtime, 'nginx.conf');
  writeFileSync(conf, stdout);
  const bin = process.env.NGINX || '/usr/sbin/nginx';
  await run(bin, ['-t', '-q', '-c', conf]);
  const child = spawn(bin, ['-c', conf, '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const base = `http://127.0.0.1:${port}`;
  await waitHealthy(base, 10_000, 'nginx');
  return {
    base,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
      rmSync(runtime, { recursive: true, force: true });
    },
  };
}
