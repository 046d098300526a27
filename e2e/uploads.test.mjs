// Uploads in Chromium against the real server: an avatar chosen on the profile page shows in
// the header and the side menu (and goes again when removed), at 1280×800 and 390×844 with
// screenshots; a voice note recorded by Chromium's own MediaRecorder from its fake microphone
// (--use-fake-device-for-media-stream) is accepted by the server, measured, and plays back
// with a duration. Once more through the production nginx.conf (body size, microphone
// permission). The messages page that hosts VoiceRecorder comes with the conversations; the
// component's logic is covered by Vitest.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchShared, signedInContext, startAppServer, startNginx } from './lib.mjs';
import { register, screenshot } from './watch-lib.mjs';

const VIEWPORTS = [
  { name: 'desktop', width: 1280, height: 800 },
  { name: 'mobile', width: 390, height: 844 },
];

let server;
let browser;
let work;
let picture;

before(async () => {
  server = await startAppServer();
  browser = await launchShared(['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream']);
  // A colourful 800×600 picture (ffmpeg's test pattern), wider than tall: the avatar is its centre square.
  work = mkdtempSync(join(tmpdir(), 'luojia-uploads-e2e-'));
  const file = join(work, 'me.png');
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=s=800x600', '-frames:v', '1', file]);
  picture = readFileSync(file);
});

after(async () => {
  await browser?.close();
  await server?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

const pageFor = (user, viewport) => signedInContext(browser, user, viewport);

for (const vp of VIEWPORTS) {
  describe(`at ${vp.width}×${vp.height}`, () => {
    test('choose an avatar on the profile page, see it in the header, remove it', async () => {
      const user = await register(server, `ava_${vp.name}`);
      const { page, problems } = await pageFor(user, vp);
      await page.goto(`${server.base}/me/profile`);
      await page.locator('[data-testid=avatar-editor]').waitFor();
      assert.equal(await page.locator('[data-testid=user-menu] img').count(), 0, 'no avatar yet');

      await page.setInputFiles('[data-testid=avatar-input]', { name: 'me.png', mimeType: 'image/png', buffer: picture });
      const headerImg = page.locator('[data-testid=user-menu] img');
      await headerImg.waitFor();
      const src = await headerImg.getAttribute('src');
      assert.match(src ?? '', /^\/api\/v1\/avatars\/[0-9a-f]{32}\.(jpg|png)$/);
      // The picture really loads (public, no token) and is the 256 px square.
      await page.waitForFunction(() => {
        const img = document.querySelector('[data-testid=user-menu] img');
        return img instanceof HTMLImageElement && img.complete && img.naturalWidth > 0;
      });
      const size = await headerImg.evaluate((img) => [img.naturalWidth, img.naturalHeight]);
      assert.deepEqual(size, [256, 256]);
      await page.locator('.who img').waitFor();
      await page.locator('[data-testid=avatar-remove]').waitFor();
      await page.mouse.move(0, 0);
      await page.locator('.n-message').waitFor({ state: 'detached', timeout: 10_000 }); // the toast has gone
      await screenshot(page, `profile-avatar-${vp.name}`);

      // A reload keeps it (it is the profile's avatar_url, not page state).
      await page.reload();
      await page.locator('[data-testid=user-menu] img').waitFor();

      await page.click('[data-testid=avatar-remove]');
      await page.locator('[data-testid=user-menu] img').waitFor({ state: 'detached' });
      assert.equal(await page.locator('[data-testid=avatar-choose]').textContent().then((t) => t?.trim()), '上传头像');
      assert.deepEqual(problems, []);
      await page.context().close();
    });
  });
}

/** Record `ms` of the fake microphone with MediaRecorder in the page and upload it as the app does. */
function recordAndUpload(page, ms) {
  return page.evaluate(async (ms) => {
    const mime = ['audio/webm;codecs=opus', 'audio/ogg;codecs=opus', 'audio/mp4'].find((m) => MediaRecorder.isTypeSupported(m));
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    const rec = new MediaRecorder(stream, { mimeType: mime });
    const chunks = [];
    rec.ondataavailable = (e) => e.data.size && chunks.push(e.data);
    const stopped = new Promise((r) => (rec.onstop = r));
    rec.start(250);
    await new Promise((r) => setTimeout(r, ms));
    rec.stop();
    await stopped;
    stream.getTracks().forEach((t) => t.stop());
    const form = new FormData();
    form.append('purpose', 'voice');
    form.append('file', new File(chunks, 'voice.webm', { type: mime.split(';')[0] }));
    const token = JSON.parse(localStorage.getItem('luojia.tokens')).access_token;
    const res = await fetch('/api/v1/media', { method: 'POST', headers: { Authorization: `Bearer ${token}` }, body: form });
    const body = await res.json();
    // The stored note plays with a known length (the server remuxed it).
    let duration = null;
    if (res.ok) {
      const audio = new Audio(body.url);
      await new Promise((r, j) => {
        audio.onloadedmetadata = r;
        audio.onerror = () => j(new Error('audio did not load'));
      });
      duration = audio.duration;
    }
    return { mime, status: res.status, body, duration };
  }, ms);
}

test('a voice note recorded by Chromium is accepted, measured and plays back', async () => {
  const user = await register(server, 'voice_e2e');
  const { page, problems } = await pageFor(user, VIEWPORTS[0]);
  await page.goto(`${server.base}/me/profile`);
  const r = await recordAndUpload(page, 2500);
  assert.equal(r.status, 201, JSON.stringify(r.body));
  assert.equal(r.mime, 'audio/webm;codecs=opus');
  assert.equal(r.body.kind, 'voice');
  assert.equal(r.body.content_type, 'audio/webm');
  assert.ok(r.body.duration_ms > 1800 && r.body.duration_ms < 3500, `measured ${r.body.duration_ms} ms`);
  assert.ok(Number.isFinite(r.duration) && r.duration > 1.5, `plays with a duration (${r.duration})`);
  assert.deepEqual(problems, []);
  await page.context().close();
});

test('through the production nginx.conf: an avatar and a voice note upload', async () => {
  const nginx = await startNginx(server);
  try {
    const user = await register(server, 'nginx_up');
    const { page } = await pageFor(user, VIEWPORTS[0]);
    await page.goto(`${nginx.base}/me/profile`);
    // The microphone is allowed for the site itself (Permissions-Policy), and the body passes.
    const r = await recordAndUpload(page, 1500);
    assert.equal(r.status, 201, JSON.stringify(r.body));
    await page.setInputFiles('[data-testid=avatar-input]', { name: 'me.png', mimeType: 'image/png', buffer: picture });
    await page.locator('[data-testid=user-menu] img').waitFor();
    // A 3 MB picture (over nginx's default 1 MB) is let through to the backend's own cap.
    const status = await page.evaluate(async () => {
      const form = new FormData();
      form.append('purpose', 'image');
      form.append('file', new File([new Uint8Array(3 * 1024 * 1024).fill(7)], 'x.png', { type: 'image/png' }));
      const token = JSON.parse(localStorage.getItem('luojia.tokens')).access_token;
      const res = await fetch('/api/v1/media', { method: 'POST', headers: { Authorization: `Bearer ${token}` }, body: form });
      return [res.status, (await res.json()).code];
    });
    assert.deepEqual(status, [415, 'unsupported_media_type'], 'the backend, not nginx, judged it');
    await page.context().close();
  } finally {
    await nginx.stop();
  }
});
