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
      ...env,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      if ((await fetch(`${base}/healthz`)).ok) break;
    } catch { /* not up yet */ }
    if (Date.now() > deadline) throw new Error('server did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
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
