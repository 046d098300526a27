// Shared pieces of the browser tests: start the real `luojia` binary on a free port with
// a fresh data dir, and Debian's Chromium with the flags this machine needs.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

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

/** Start `luojia serve`; resolves once /healthz answers. Stop with `.stop()`. */
export async function startServer(env = {}) {
  const bin = process.env.LUOJIA_BIN;
  if (!bin) throw new Error('LUOJIA_BIN must point at the luojia binary');
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'luojia-e2e-'));
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
  await waitHealthy(base, 30_000, 'server');
  return {
    base,
    dataDir,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function launchBrowser() {
  const profile = mkdtempSync(join(tmpdir(), 'luojia-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
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
 * for this server (its port, data dir and the built app), run by Debian's nginx.
 * Resolves once it listens; `.stop()` ends it by its PID.
 */
export async function startNginx(server) {
  const { execFile } = await import('node:child_process');
  const { promisify } = await import('node:util');
  const { writeFileSync } = await import('node:fs');
  const run = promisify(execFile);
  const port = await freePort();
  const runtime = mkdtempSync(join(tmpdir(), 'luojia-nginx-'));
  const template = new URL('../nginx.conf', import.meta.url).pathname;
  const { stdout } = await run(process.env.LUOJIA_BIN, ['nginx-conf', '--template', template,
    '--listen', String(port), '--backend', new URL(server.base).port, '--frontend', frontendDist,
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
