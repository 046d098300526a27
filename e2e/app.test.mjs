// The app's own pages in Chromium against the real server serving the built app:
// sign up, browse and search (the URL restores a search after a reload), my history and
// watchlist, English and back, delete the account — at 1440×900 and at 375×812, with no
// console errors and no failed requests. Screenshots of home, browse and my history go to
// docs/screenshots/. Once more through the production nginx.conf.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ingestWithMeta, launchBrowser, startAppServer, startNginx } from './lib.mjs';
import { api, screenshot, watchProblems } from './watch-lib.mjs';

const VIEWPORTS = [
  { name: 'desktop', width: 1440, height: 900 },
  { name: 'mobile', width: 375, height: 812 },
];

const PASSWORD = 'a good password 1';
let server;
let browser;
const movies = {};

before(async () => {
  server = await startAppServer();
  browser = await launchBrowser();
  const catalog = [
    { title: '星际信使', original_title: 'The Star Courier', year: 2023, genres: ['sci_fi', 'adventure'], tags: ['太空'], synopsis: '一名快递员驾驶旧飞船穿越小行星带，只为准时送达一封信。', cast: ['吴桐'] },
    { title: '珞珈山的春天', original_title: 'Spring on Luojia Hill', year: 2024, genres: ['drama', 'family'], tags: ['校园', '樱花'], synopsis: '樱花盛开的三月，一群室友决定在毕业前一起看完一百部电影。', cast: ['陈一鸣'] },
    { title: '东湖夜话', original_title: 'Night Talks by East Lake', year: 2019, genres: ['drama', 'romance'], tags: ['校园'], synopsis: '两个陌生人在湖边聊了一整夜。', cast: ['周雨桐'] },
  ];
  for (const [i, meta] of catalog.entries()) await ingestWithMeta(server, meta, { variant: i });
  const list = await api(server, 'GET', '/api/v1/movies?limit=50');
  for (const m of list.items) movies[m.title] = m;
  assert.equal(Object.keys(movies).length, catalog.length);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** A screenshot without a hover effect left behind by the last click. */
async function shoot(page, name) {
  await page.mouse.move(0, 0);
  await page.waitForLoadState('networkidle');
  await screenshot(page, name);
}

async function newPage(viewport) {
  const page = await browser.context.newPage();
  await page.setViewportSize({ width: viewport.width, height: viewport.height });
  const problems = watchProblems(page);
  return { page, problems };
}

const tokensOf = (page) => page.evaluate(() => JSON.parse(localStorage.getItem('luojia.tokens') ?? 'null'));

async function signUp(page, username) {
  await page.goto(`${server.base}/register`);
  await page.fill('#username', username);
  await page.fill('#email', `${username}@example.com`);
  await page.fill('#password', 'short');
  // The rules are shown before submitting, and a bad password is refused beside its field.
  await page.getByText('至少 8 个字符').waitFor();
  await page.click('[data-testid=submit]');
  await page.getByText('密码不符合要求').waitFor();
  await page.fill('#password', PASSWORD);
  await page.click('[data-testid=submit]');
  await page.waitForURL(`${server.base}/`);
  await page.locator('[data-testid=user-menu]').waitFor();
  const tokens = await tokensOf(page);
  assert.ok(tokens?.access_token, 'signed in');
  return tokens;
}

for (const vp of VIEWPORTS) {
  describe(`at ${vp.width}×${vp.height}`, () => {
    test('sign up, home, browse and search, my history and watchlist, English, delete the account', async () => {
      const { page, problems } = await newPage(vp);
      const username = `e2e_${vp.name}`;

      // Signed out, the rooms entry (the header on a laptop, the tab bar on a phone) asks
      // to log in first and comes back afterwards.
      await page.goto(`${server.base}/`);
      await page.click(vp.name === 'mobile' ? '[data-testid=tab-rooms]' : '[data-testid=nav-rooms]');
      await page.waitForURL(/\/login\?redirect=(%2F|\/)rooms$/);

      // Sign up; the home page shows the catalog's rows.
      const tokens = await signUp(page, username);
      await page.locator('[data-testid=hero] h1').waitFor();
      await page.locator('[data-testid=row-newest] [data-testid=movie-card]').first().waitFor();
      await shoot(page, `home-${vp.name}`);

      // Signed in, the login page is not shown again: it goes on to where it would lead.
      await page.goto(`${server.base}/login?redirect=%2Fbrowse`);
      await page.waitForURL(`${server.base}/browse`);

      // Browse: search from the URL-held form; a reload restores the search.
      await page.goto(`${server.base}/browse`);
      await page.locator('[data-testid=browse-grid] [data-testid=movie-card]').nth(2).waitFor();
      await page.fill('#browse-q', '星际');
      await page.click('[data-testid=browse-submit]');
      await page.waitForURL(/\/browse\?q=/);
      await page.locator('[data-testid=browse-grid] [data-testid=movie-card]').first().waitFor();
      assert.equal(await page.locator('[data-testid=movie-card]').count(), 1);
      await page.click('[data-testid=sort-rating]');
      await page.waitForURL(/sort=rating/);
      await page.reload();
      assert.equal(await page.inputValue('#browse-q'), '星际');
      await page.getByRole('heading', { name: '“星际”的搜索结果' }).waitFor();
      await page.locator('[data-testid=movie-card]', { hasText: '星际信使' }).waitFor();
      assert.equal(await page.locator('[data-testid=movie-card]').count(), 1);
      assert.equal(await page.getAttribute('[data-testid=sort-rating]', 'aria-selected'), 'true');
      // A genre from the URL; nothing found shows the empty state with suggestions.
      await page.goto(`${server.base}/browse?genre=romance`);
      await page.locator('[data-testid=movie-card]', { hasText: '东湖夜话' }).waitFor();
      assert.equal(await page.locator('[data-testid=movie-card]').count(), 1);
      await page.goto(`${server.base}/browse?tag=%E6%A0%A1%E5%9B%AD&year_from=2020`);
      await page.locator('[data-testid=movie-card]', { hasText: '珞珈山的春天' }).waitFor();
      assert.equal(await page.locator('[data-testid=movie-card]').count(), 1);
      await page.goto(`${server.base}/browse?q=%E4%B8%8D%E5%AD%98%E5%9C%A8%E7%9A%84%E7%94%B5%E5%BD%B1`);
      await page.locator('[data-testid=empty-state]').waitFor();
      await page.goto(`${server.base}/browse`);
      await page.locator('[data-testid=browse-grid] [data-testid=movie-card]').nth(2).waitFor();
      await shoot(page, `browse-${vp.name}`);

      // My history and watchlist (progress reported and a movie added over the API).
      const star = movies['星际信使'];
      const spring = movies['珞珈山的春天'];
      const token = tokens.access_token;
      await api(server, 'PUT', `/api/v1/me/history/${star.id}`, { token, body: { position_ms: 1000 } });
      await api(server, 'PUT', `/api/v1/me/history/${spring.id}`, { token, body: { position_ms: 600 } });
      await api(server, 'PUT', `/api/v1/me/watchlist/${spring.id}`, { token });
      await page.goto(`${server.base}/me/history`);
      const entries = page.locator('[data-testid=history-entry]');
      await entries.nth(1).waitFor({ timeout: 10_000 }).catch(async () => {
        // Progress reports are coalesced in memory and written shortly after.
        await page.reload();
        await entries.nth(1).waitFor();
      });
      await shoot(page, `my-history-${vp.name}`);
      await entries.filter({ hasText: '星际信使' }).locator('[data-testid=history-remove]').click();
      await entries.filter({ hasText: '星际信使' }).waitFor({ state: 'detached' });
      assert.equal(await entries.count(), 1);
      // The home page offers to continue what was started.
      await page.goto(`${server.base}/`);
      await page.locator('[data-testid=row-continue] [data-testid=movie-card]', { hasText: '珞珈山的春天' }).waitFor();

      await page.goto(`${server.base}/me/watchlist`);
      await page.locator('[data-testid=watchlist-grid] [data-testid=movie-card]', { hasText: '珞珈山的春天' }).waitFor();
      await page.click('[data-testid=watchlist-remove]');
      await page.locator('[data-testid=empty-state]').waitFor();

      // Pause the history and resume it.
      await page.goto(`${server.base}/me/history`);
      await entries.first().waitFor();
      await page.click('[data-testid=history-pause]');
      await page.getByText('观看历史已暂停').waitFor();
      const paused = await api(server, 'GET', '/api/v1/me/history-settings', { token });
      assert.equal(paused.paused, true);
      await page.click('[data-testid=history-pause]');
      await page.getByText('观看历史已暂停').first().waitFor({ state: 'detached' });

      // Clear the history after confirming.
      await page.goto(`${server.base}/me/history`);
      await entries.first().waitFor();
      await page.click('[data-testid=history-clear]');
      await page.getByRole('button', { name: '清空历史' }).last().click();
      await page.locator('[data-testid=empty-state]').waitFor();

      // English and back; the choice survives a reload.
      await page.click('[data-testid=language-switch]');
      await page.getByRole('heading', { name: 'History' }).waitFor();
      assert.equal(await page.getAttribute('html', 'lang'), 'en');
      await page.reload();
      await page.getByRole('heading', { name: 'History' }).waitFor();
      await page.click('[data-testid=language-switch]');
      await page.getByRole('heading', { name: '观看历史' }).waitFor();
      assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN');

      // Delete the account: a wrong password is refused beside the field, the right one works.
      await page.goto(`${server.base}/me/account`);
      await page.click('[data-testid=delete-account]');
      await page.fill('#delete-password', 'not my password');
      await page.click('[data-testid=delete-confirm]');
      await page.getByText('账号或密码不正确').waitFor();
      // That 401 was the point of the step; nothing else may fail.
      const expected = problems.findIndex((p) => p.startsWith('http 401: DELETE') && p.endsWith('/api/v1/me'));
      assert.ok(expected >= 0, 'the wrong password was refused');
      problems.splice(expected, 1);
      const console401 = problems.findIndex((p) => p.startsWith('console:') && p.includes('401'));
      if (console401 >= 0) problems.splice(console401, 1);
      await page.fill('#delete-password', PASSWORD);
      await page.click('[data-testid=delete-confirm]');
      await page.waitForURL(`${server.base}/`);
      assert.equal(await tokensOf(page), null);
      await page.getByRole('link', { name: '登录' }).first().waitFor();
      const login = await fetch(`${server.base}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ login: username, password: PASSWORD }),
      });
      assert.equal(login.status, 401, 'the account is gone');

      // Admin pages are hidden from everybody else; unknown routes get the app's 404 page.
      await page.goto(`${server.base}/no/such/page`);
      await page.getByText('页面走丢了').waitFor();
      await page.goto(`${server.base}/admin`);
      await page.waitForURL(/\/login\?redirect=/);

      assert.deepEqual(problems, []);
      await page.close();
    });
  });
}

test('through the production nginx.conf: deep links, reloads, cache headers, sign up', async () => {
  const nginx = await startNginx(server);
  try {
    const { page, problems } = await newPage(VIEWPORTS[0]);
    // A deep link with filters loads the app and restores the search.
    await page.goto(`${nginx.base}/browse?q=%E6%98%9F%E9%99%85&sort=title`);
    await page.locator('[data-testid=movie-card]', { hasText: '星际信使' }).waitFor();
    assert.equal(await page.inputValue('#browse-q'), '星际');
    await page.reload();
    await page.locator('[data-testid=movie-card]', { hasText: '星际信使' }).waitFor();
    // Sign up through the front door, then a reload on a private page keeps the session.
    await page.goto(`${nginx.base}/register`);
    await page.fill('#username', 'e2e_nginx');
    await page.fill('#email', 'e2e_nginx@example.com');
    await page.fill('#password', PASSWORD);
    await page.click('[data-testid=submit]');
    await page.waitForURL(`${nginx.base}/`);
    await page.goto(`${nginx.base}/me/profile`);
    await page.locator('#nickname').waitFor();
    assert.equal(await page.inputValue('#nickname'), 'e2e_nginx');
    assert.deepEqual(problems, []);
    await page.close();

    // The same caching rules as the embedded server.
    const html = await fetch(`${nginx.base}/movies/1`);
    assert.equal(html.headers.get('cache-control'), 'no-cache');
    const asset = (await html.text()).match(/\/assets\/[^"]+\.js/)?.[0];
    assert.ok(asset, 'index.html links a hashed script');
    const js = await fetch(`${nginx.base}${asset}`);
    assert.equal(js.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.equal((await fetch(`${nginx.base}/assets/gone-123.js`)).status, 404);
    assert.equal((await fetch(`${nginx.base}/.vite/manifest.json`)).status, 404);
    assert.equal((await fetch(`${nginx.base}/api/v1/nope`)).headers.get('content-type'), 'application/problem+json');
  } finally {
    await nginx.stop();
  }
});

test('an administrator logs in and creates, edits and deletes a movie', async () => {
  const { execFile } = await import('node:child_process');
  const { promisify } = await import('node:util');
  await promisify(execFile)(process.env.LUOJIA_BIN, ['user', 'create-admin', '--username', 'boss', '--email', 'boss@example.com'], {
    env: { ...process.env, APP_DATA_DIR: server.dataDir, APP_LOG__LEVEL: 'warn', LUOJIA_ADMIN_PASSWORD: PASSWORD },
  });
  const { page, problems } = await newPage(VIEWPORTS[0]);
  // Straight to the admin page: the login page takes the user there afterwards.
  await page.goto(`${server.base}/admin`);
  await page.waitForURL(/\/login\?redirect=/);
  await page.fill('#login', 'boss@example.com');
  await page.fill('#password', PASSWORD);
  await page.click('[data-testid=submit]');
  await page.waitForURL(`${server.base}/admin`);
  await page.locator('[data-testid=admin-list] li', { hasText: '星际信使' }).waitFor();

  await page.click('[data-testid=admin-new]');
  await page.fill('#title', '测试影片');
  await page.fill('#year', '2020');
  await page.fill('#synopsis', '管理员添加的影片。');
  await page.click('[data-testid=admin-save]');
  await page.waitForURL(`${server.base}/admin`);
  const row = page.locator('[data-testid=admin-list] li', { hasText: '测试影片' });
  await row.getByText('处理中').waitFor();

  await row.getByRole('link', { name: '编辑' }).click();
  await page.waitForURL(/\/admin\/movies\/\d+\/edit/);
  await page.locator('#title').waitFor();
  assert.equal(await page.inputValue('#title'), '测试影片');
  await page.fill('#title', '测试影片（修订）');
  await page.click('[data-testid=admin-save]');
  await page.waitForURL(`${server.base}/admin`);
  const edited = page.locator('[data-testid=admin-list] li', { hasText: '测试影片（修订）' });
  await edited.waitFor();
  await edited.getByRole('button', { name: '删除' }).click();
  await page.getByRole('button', { name: '删除' }).last().click();
  await edited.waitFor({ state: 'detached' });

  assert.deepEqual(problems, []);
  await page.close();
});
