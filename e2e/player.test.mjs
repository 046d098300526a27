// A real browser player: Debian's Chromium plays an ingested movie through hls.js, from
// the playback grant's URL, with the subtitle tracks listed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { launchBrowser, startServer } from './lib.mjs';

const require = createRequire(import.meta.url);
// Async, so that the event loop (and undici's keep-alive timers) run during the ingest.
const run = promisify(execFile);

test('an ingested movie plays in Chromium through hls.js', async () => {
  const server = await startServer();
  const browser = await launchBrowser();
  try {
    // A 6-second source with a subtitle, ingested with the real pipeline.
    const src = join(server.dataDir, 'src.mp4');
    await run('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25',
      '-f', 'lavfi', '-i', 'sine=frequency=440', '-t', '6', '-c:v', 'libx264', '-pix_fmt', 'yuv420p',
      '-c:a', 'aac', '-shortest', '-y', src]);
    const srt = join(server.dataDir, 'zh.srt');
    writeFileSync(srt, '1\n00:00:00,500 --> 00:00:04,000\n你好，珞珈\n');
    await run(process.env.LUOJIA_BIN, ['ingest', src, '--title', '浏览器测试', '--subtitle', `zh-CN=${srt}`], {
      env: { ...process.env, APP_DATA_DIR: server.dataDir, APP_LOG__LEVEL: 'warn' },
    });

    const json = (r) => r.json();
    // The server may still close the keep-alive connection from start-up just as it is
    // reused (its idle timeout and undici's are close): a GET, retried, goes first, so the
    // POSTs below never meet a half-closed connection.
    for (let attempt = 1; ; attempt++) {
      try {
        await fetch(`${server.base}/healthz`);
        break;
      } catch (e) {
        if (attempt >= 3) throw e;
      }
    }
    const reg = await fetch(`${server.base}/api/v1/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'player_e2e', email: 'player@example.com', password: 'player password' }),
    }).then(json);
    const movies = await fetch(`${server.base}/api/v1/movies`).then(json);
    const movie = movies.items.find((m) => m.title === '浏览器测试');
    assert.ok(movie, 'the movie is in the catalog');
    const grant = await fetch(`${server.base}/api/v1/movies/${movie.id}/playback`, {
      headers: { authorization: `Bearer ${reg.tokens.access_token}` },
    }).then(json);

    // Serve a tiny player page from the server's own origin (no CORS involved).
    const hlsJs = readFileSync(require.resolve('hls.js/dist/hls.min.js'), 'utf8');
    const page = await browser.context.newPage();
    await page.route(`${server.base}/__player`, (route) => route.fulfill({
      contentType: 'text/html',
      body: `<!doctype html><meta charset="utf-8"><video id="v" muted playsinline width="640" height="360"></video>
<script>${hlsJs}</script>
<script>
  const v = document.getElementById('v');
  const hls = new Hls();
  window.errors = [];
  hls.on(Hls.Events.ERROR, (_, d) => { if (d.fatal) window.errors.push(d.details); });
  hls.loadSource(${JSON.stringify(grant.master_url)});
  hls.attachMedia(v);
  hls.on(Hls.Events.MANIFEST_PARSED, () => v.play());
  window.hls = hls;
</script>`,
    }));
    await page.goto(`${server.base}/__player`);
    await page.waitForFunction(() => document.getElementById('v').currentTime > 2 || window.errors.length > 0, null, { timeout: 30_000 });
    const state = await page.evaluate(() => ({
      t: document.getElementById('v').currentTime,
      errors: window.errors,
      levels: window.hls.levels.map((l) => l.height),
      subs: window.hls.subtitleTracks.map((s) => s.lang),
      width: document.getElementById('v').videoWidth,
    }));
    assert.deepEqual(state.errors, []);
    assert.ok(state.t > 2, `played to ${state.t}`);
    assert.ok(state.levels.includes(360), `levels ${state.levels}`);
    assert.deepEqual(state.subs, ['zh-CN']);
    assert.equal(state.width > 0, true);
    if (process.env.E2E_SCREENSHOTS) {
      await page.screenshot({ path: `${process.env.E2E_SCREENSHOTS}/player.png` });
    }
  } finally {
    await browser.close();
    await server.stop();
  }
});
