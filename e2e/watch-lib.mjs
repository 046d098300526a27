// Helpers of the movie-page and player browser tests: a small ingested movie, users made over
// the API, a page signed in with their tokens, and a watch on console errors and failed requests.
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
export const screenshotDir = process.env.E2E_SCREENSHOTS ?? join(repoRoot, 'docs', 'screenshots');

/** Ingest a `seconds`-long 854×480 test movie (360p and 480p renditions) with a zh-CN subtitle. */
export async function ingestMovie(server, { title, seconds = 30 }) {
  const src = join(server.dataDir, 'src.mp4');
  await run('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=854x480:rate=25',
    '-f', 'lavfi', '-i', 'sine=frequency=440', '-t', String(seconds), '-c:v', 'libx264', '-preset', 'ultrafast',
    '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', '-y', src]);
  const srt = join(server.dataDir, 'zh.srt');
  writeFileSync(srt, `1\n00:00:00,500 --> 00:00:${String(seconds - 1).padStart(2, '0')},000\n你好，珞珈\n`);
  await run(process.env.LUOJIA_BIN, ['ingest', src, '--title', title, '--subtitle', `zh-CN=${srt}`], {
    env: { ...process.env, APP_DATA_DIR: server.dataDir, APP_LOG__LEVEL: 'warn' },
  });
  const movies = await api(server, 'GET', '/api/v1/movies');
  const movie = movies.items.find((m) => m.title === title);
  if (!movie) throw new Error('the ingested movie is not in the catalog');
  return movie;
}

/** JSON request to the API; throws on a non-2xx answer. */
export async function api(server, method, path, { token, body } = {}) {
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await fetch(`${server.base}${path}`, {
        method,
        headers: {
          ...(body ? { 'content-type': 'application/json' } : {}),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: body ? JSON.stringify(body) : undefined,
      });
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
      return res.status === 204 ? null : res.json();
    } catch (e) {
      // The server may close an idle keep-alive connection just as it is reused: retry once.
      if (attempt >= 2 || !(e instanceof TypeError)) throw e;
    }
  }
}

export async function register(server, name) {
  const res = await api(server, 'POST', '/api/v1/auth/register', {
    body: { username: name, email: `${name}@example.com`, password: 'a good password 1' },
  });
  return { ...res, token: res.tokens.access_token };
}

/** A new page at `viewport`, signed in as `user` (tokens in localStorage as the app keeps them). */
export async function signedInPage(browser, server, user, viewport) {
  const page = await browser.context.newPage();
  await page.setViewportSize(viewport);
  await page.goto(`${server.base}/`);
  await page.evaluate((tokens) => localStorage.setItem('luojia.tokens', JSON.stringify(tokens)), user.tokens);
  return page;
}

/**
 * Collects console errors, uncaught exceptions, failed requests and 4xx/5xx answers.
 * Requests aborted on purpose (hls.js cancelling a segment on a quality switch, a page being left)
 * are not failures.
 */
export function watchProblems(page) {
  const problems = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('requestfailed', (r) => {
    const failure = r.failure()?.errorText ?? '';
    if (failure.includes('ERR_ABORTED')) return;
    problems.push(`requestfailed: ${r.method()} ${r.url()} ${failure}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`http ${r.status()}: ${r.request().method()} ${r.url()}`);
  });
  return problems;
}

export async function screenshot(page, name) {
  mkdirSync(screenshotDir, { recursive: true });
  await page.screenshot({ path: join(screenshotDir, `${name}.png`) });
}

/** The <video>'s current time (s). */
export function videoTime(page) {
  return page.evaluate(() => document.querySelector('video')?.currentTime ?? 0);
}

export async function waitForTime(page, seconds, timeout = 30_000) {
  await page.waitForFunction((s) => (document.querySelector('video')?.currentTime ?? 0) > s, seconds, { timeout });
}
