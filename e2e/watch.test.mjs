// The watching experience in Chromium against the real server serving the built app: the movie
// page (rate, watchlist, comment, reply, like, watch together), the player (plays, lists the
// subtitle track, switches quality while playing, danmaku on screen, resumes after a reload),
// at 1440×900 and at 375×812, with no console errors and no failed requests.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, startAppServer, startNginx } from './lib.mjs';
import {
  api, ingestMovie, register, screenshot, signedInPage, videoTime, waitForTime, watchProblems,
} from './watch-lib.mjs';

let server;
let browser;
let movie;

before(async () => {
  server = await startAppServer();
  browser = await launchBrowser();
  movie = await ingestMovie(server, { title: '珞珈夜话', seconds: 30 });
  // Some danmaku from other viewers in the first seconds (one per user: the cooldown is per user).
  const lines = [
    ['前方高能！', 'scroll', '#ffffff', 1200],
    ['这画面太美了', 'scroll', '#ffd302', 1500],
    ['打卡 第一次看', 'top', '#00a2ff', 1800],
    ['字幕组辛苦了', 'bottom', '#00cd00', 2200],
    ['<b>不是粗体</b>', 'scroll', '#fe0302', 2600],
    ['哈哈哈哈哈哈哈哈', 'scroll', '#ffffff', 3000],
  ];
  for (const [i, [text, mode, color, position_ms]] of lines.entries()) {
    const u = await register(server, `viewer${i}`);
    await api(server, 'POST', `/api/v1/movies/${movie.id}/danmaku`, { token: u.token, body: { text, mode, color, position_ms } });
  }
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('movie page at 1440×900: rate, watchlist, comment, reply, like, watch together', async () => {
  const user = await register(server, 'moviefan');
  const page = await signedInPage(browser, server, user, { width: 1440, height: 900 });
  const problems = watchProblems(page);
  await page.goto(`${server.base}/movies/${movie.id}`);
  await page.getByTestId('movie-title').filter({ hasText: '珞珈夜话' }).waitFor();

  // Rate 8 of 10.
  await page.locator('[data-testid="my-rating"] .n-rate__item').nth(7).click();
  await page.getByTestId('my-score').filter({ hasText: '8' }).waitFor();
  assert.equal((await api(server, 'GET', `/api/v1/movies/${movie.id}/rating`, { token: user.token })).score, 8);
  // By keyboard too: ← one point down.
  await page.locator('.stars').focus();
  await page.keyboard.press('ArrowLeft');
  await page.getByTestId('my-score').filter({ hasText: '7' }).waitFor();

  // Watchlist on.
  await page.getByTestId('watchlist').click();
  await page.locator('[data-testid="watchlist"][aria-pressed="true"]').waitFor();
  const list = await api(server, 'GET', '/api/v1/me/watchlist', { token: user.token });
  assert.deepEqual(list.items.map((e) => e.movie.id), [movie.id]);

  // Comment, reply, like.
  const comments = page.getByTestId('comments');
  await comments.locator('textarea').first().fill('结尾的反转太震撼了 <script>alert(1)</script>');
  await comments.getByRole('button', { name: '发表' }).click();
  const first = comments.getByTestId('comment').first();
  await first.getByTestId('comment-body').filter({ hasText: '<script>alert(1)</script>' }).waitFor();
  await first.getByTestId('reply').click();
  await first.locator('textarea').fill('同感！');
  await first.getByRole('button', { name: '回复' }).last().click();
  await first.getByText('同感！').waitFor();
  await first.getByTestId('like').first().click();
  await first.getByTestId('like-count').first().filter({ hasText: '1' }).waitFor();
  const stored = await api(server, 'GET', `/api/v1/movies/${movie.id}/comments`, { token: user.token });
  assert.equal(stored.items[0].like_count, 1);
  assert.equal(stored.items[0].reply_count, 1);
  assert.equal(stored.items[0].liked_by_me, true);

  // Edit it; it is marked edited.
  await first.getByTestId('edit').first().click();
  await first.locator('textarea').first().fill('结尾的反转太震撼了（改）');
  await first.getByRole('button', { name: '保存' }).click();
  await first.getByTestId('edited').first().waitFor();

  // Delete the reply: it stays as a placeholder.
  const reply = first.getByTestId('comment').filter({ hasText: '同感！' });
  await reply.getByTestId('delete').click();
  await page.locator('.n-dialog').getByRole('button', { name: '删除' }).click();
  await first.getByTestId('deleted').waitFor();
  await first.getByText('同感！').waitFor({ state: 'detached' });

  await screenshot(page, 'movie-desktop');

  // Watch together: a room for this movie, and straight into it.
  await page.getByTestId('together').click();
  await page.waitForURL(/\/rooms\/\d+$/);
  const roomId = Number(new URL(page.url()).pathname.split('/').pop());
  const rooms = await api(server, 'GET', '/api/v1/me/rooms', { token: user.token });
  assert.ok(rooms.items.some((r) => r.id === roomId && r.movie_id === movie.id));
  await page.getByTestId('copy-invite').waitFor();

  assert.deepEqual(problems, []);
  await page.close();
});

test('player at 1440×900: plays, subtitles, quality switch, danmaku, resume after reload', async () => {
  const user = await register(server, 'watcher');
  const page = await signedInPage(browser, server, user, { width: 1440, height: 900 });
  const problems = watchProblems(page);
  await page.goto(`${server.base}/movies/${movie.id}`);
  // Click play: a user gesture, so the player may start with sound.
  const clicked = Date.now();
  await page.getByTestId('play').click();
  await page.waitForURL(`**/watch/${movie.id}`);
  await page.waitForFunction(() => {
    const v = document.querySelector('video');
    return v && v.currentTime > 0 && v.readyState >= 2;
  }, null, { timeout: 30_000 });
  const firstFrameMs = Date.now() - clicked;
  console.log(`click play → first frame: ${firstFrameMs} ms`);

  // The master playlist's subtitle track is listed.
  await page.waitForFunction(() => [...document.querySelector('video').textTracks].some((t) => t.language === 'zh-CN'));

  // Other viewers' danmaku appear in the first seconds, as text (the <b> stays literal).
  await page.locator('.danmaku-item', { hasText: '前方高能！' }).waitFor({ timeout: 15_000 });
  await page.locator('.danmaku-item', { hasText: '<b>不是粗体</b>' }).waitFor({ timeout: 15_000 });
  assert.equal(await page.locator('.danmaku-stage b').count(), 0);

  // My own danmaku appears at once.
  await page.getByTestId('danmaku-input').fill('我来了');
  await page.getByTestId('danmaku-input').press('Enter');
  await page.locator('.danmaku-item.danmaku-own', { hasText: '我来了' }).waitFor({ timeout: 3_000 });
  await page.waitForTimeout(1_000); // let it scroll into the picture
  await screenshot(page, 'player-desktop');

  // Seek-bar previews from the sprite VTT.
  const bar = await page.locator('.art-progress').boundingBox();
  await page.mouse.move(bar.x + bar.width * 0.5, bar.y + bar.height / 2);
  await page.waitForFunction(() => {
    const thumb = document.querySelector('.art-control-thumbnails');
    return thumb && thumb.style.display !== 'none' && thumb.style.backgroundImage.includes('url(');
  });

  // Switch quality to 360P from the player's quality control: playback continues.
  // (The control bar hides when the mouse rests, so the menu item gets its click event directly.)
  await page.locator('.art-control-hls-quality').hover();
  await page.locator('.art-control-hls-quality .art-selector-item', { hasText: '360P' }).dispatchEvent('click');
  await page.locator('.art-control-hls-quality', { hasText: '360P' }).waitFor();
  const t0 = await videoTime(page);
  await waitForTime(page, t0 + 1.5);

  // Keyboard: D hides and shows danmaku, M mutes, → seeks 5 s ahead.
  await page.locator('.movie-player').focus();
  const stageVisibility = () => page.evaluate(() => document.querySelector('.danmaku-stage').style.visibility);
  await page.keyboard.press('d');
  assert.equal(await stageVisibility(), 'hidden');
  await page.keyboard.press('d');
  assert.equal(await stageVisibility(), 'visible');
  const muted = () => page.evaluate(() => document.querySelector('video').muted);
  const wasMuted = await muted();
  await page.keyboard.press('m');
  assert.equal(await muted(), !wasMuted);
  await page.keyboard.press('m');
  const beforeSeek = await videoTime(page);
  await page.keyboard.press('ArrowRight');
  await page.waitForFunction((t) => document.querySelector('video').currentTime >= t + 4, beforeSeek);
  await page.keyboard.press('ArrowLeft');

  // Reload without pausing: the keepalive report on leaving carries the position.
  await waitForTime(page, 5);
  const before = await videoTime(page);
  await page.reload();
  await page.waitForFunction(() => {
    const v = document.querySelector('video');
    return v && v.readyState >= 1 && v.currentTime > 0;
  }, null, { timeout: 30_000 });
  const resumed = await videoTime(page);
  assert.ok(Math.abs(resumed - before) < 2, `resumed at ${resumed}, left at ${before}`);
  await page.getByTestId('resumed-at').waitFor();

  assert.deepEqual(problems, []);
  await page.close();
});

test('cooldown and length errors of the danmaku box are shown', async () => {
  const user = await register(server, 'chatty');
  const page = await signedInPage(browser, server, user, { width: 1440, height: 900 });
  await page.goto(`${server.base}/watch/${movie.id}`);
  await page.getByTestId('danmaku-input').waitFor();
  await page.waitForFunction(() => document.querySelector('video')?.readyState >= 1);
  await page.getByTestId('danmaku-input').fill('字'.repeat(101));
  await page.getByTestId('danmaku-input').press('Enter');
  await page.getByTestId('danmaku-error').filter({ hasText: '100' }).waitFor();
  await page.getByTestId('danmaku-input').fill('一');
  await page.getByTestId('danmaku-input').press('Enter');
  await page.locator('.danmaku-item.danmaku-own', { hasText: '一' }).waitFor();
  await page.getByTestId('danmaku-input').fill('二');
  await page.getByTestId('danmaku-input').press('Enter');
  await page.getByTestId('danmaku-error').filter({ hasText: '3 秒' }).waitFor();
  await page.close();
});

test('a visitor sees the movie page and is asked to log in to play', async () => {
  const page = await browser.context.newPage();
  await page.setViewportSize({ width: 1440, height: 900 });
  // The browser profile is shared by the tests: sign the last user out first.
  await page.goto(`${server.base}/`);
  await page.evaluate(() => localStorage.removeItem('luojia.tokens'));
  const problems = watchProblems(page);
  await page.goto(`${server.base}/movies/${movie.id}`);
  await page.getByTestId('movie-title').waitFor();
  await page.getByTestId('comment').first().waitFor();
  await page.getByTestId('play').click();
  await page.waitForURL(/\/login\?redirect=/);
  assert.deepEqual(problems, []);
  await page.close();
});

test('movie page and player at 375×812', async () => {
  const user = await register(server, 'phoneuser');
  const page = await signedInPage(browser, server, user, { width: 375, height: 812 });
  const problems = watchProblems(page);
  await page.goto(`${server.base}/movies/${movie.id}`);
  await page.getByTestId('movie-title').waitFor();
  await page.locator('[data-testid="my-rating"] .n-rate__item').nth(8).click();
  await page.getByTestId('my-score').filter({ hasText: '9' }).waitFor();
  await screenshot(page, 'movie-mobile');
  await page.getByTestId('play').click();
  await page.waitForURL(`**/watch/${movie.id}`);
  await waitForTime(page, 1);
  await page.getByTestId('danmaku-input').fill('手机上也能发');
  await page.getByTestId('danmaku-input').press('Enter');
  await page.locator('.danmaku-item.danmaku-own', { hasText: '手机上也能发' }).waitFor({ timeout: 3_000 });
  await page.waitForTimeout(1_500);
  await screenshot(page, 'player-mobile');
  assert.deepEqual(problems, []);
  await page.close();
});

test('the player through the production nginx.conf', async () => {
  const nginx = await startNginx(server);
  try {
    const user = await register(server, 'nginxfan');
    const front = { ...server, base: nginx.base };
    const page = await signedInPage(browser, front, user, { width: 1440, height: 900 });
    const problems = watchProblems(page);
    await page.goto(`${nginx.base}/watch/${movie.id}`);
    await page.waitForFunction(() => document.querySelector('video')?.readyState >= 2, null, { timeout: 30_000 });
    await page.waitForTimeout(1_000); // a refused autoplay leaves the video paused by then
    if (await page.evaluate(() => document.querySelector('video').paused)) {
      // Autoplay without a gesture may be refused: Space on the focused player is one.
      await page.locator('.movie-player').focus();
      await page.keyboard.press('Space');
    }
    await waitForTime(page, 2);
    await page.locator('.danmaku-item').first().waitFor({ timeout: 15_000 });
    await page.waitForFunction(() => [...document.querySelector('video').textTracks].some((t) => t.language === 'zh-CN'));
    assert.deepEqual(problems, []);
    await page.close();
  } finally {
    await nginx.stop();
  }
});
