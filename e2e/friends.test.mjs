// Friends in two browsers against the real server: Alice (laptop) finds Bob (phone) by search
// and asks with a note; Bob's bell shows the request, he accepts from it; each sees the other
// online (the dot); Bob closes his browser and Alice sees him offline, "seen just now".
// Screenshots at 1280×800 and 390×844 in docs/screenshots/.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchShared, signedInContext, startAppServer } from './lib.mjs';
import { register, screenshot } from './watch-lib.mjs';

const LAPTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
let server;
let browser;

before(async () => {
  server = await startAppServer();
  browser = await launchShared();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const contextFor = (user, viewport) => signedInContext(browser, user, viewport);

const friendRow = (page, username) => page.locator(`[data-testid="friend-row"][data-user="${username}"]`);

test('two people find each other, become friends, see each other online and then offline; the bell shows the request', async () => {
  const suffix = Math.random().toString(36).slice(2, 7);
  const alice = await register(server, `alice${suffix}`);
  const bob = await register(server, `bob${suffix}`);
  const a = await contextFor(alice, LAPTOP);
  const b = await contextFor(bob, PHONE);

  await b.page.goto(`${server.base}/`);
  await b.page.getByTestId('bell').waitFor();

  // Alice searches and asks, with a note.
  await a.page.goto(`${server.base}/friends?tab=search`);
  await a.page.getByTestId('friend-search').locator('input').fill(bob.user.username.slice(0, 6));
  await a.page.getByTestId('friend-search').locator('input').press('Enter');
  const hit = a.page.locator(`[data-testid="search-hit"][data-user="${bob.user.username}"]`);
  await hit.waitFor();
  await hit.getByTestId('add-friend').click();
  await a.page.getByTestId('friend-note').locator('textarea').fill('周五一起看电影吧');
  await a.page.waitForTimeout(500); // the overlay's fade-in
  await screenshot(a.page, 'friends-add-desktop');
  await a.page.getByTestId('send-request').click();
  await hit.getByText('已发送请求').waitFor();

  // Bob's bell lights up live; the panel shows the request with its note.
  await b.page.locator('[data-testid="bell"][data-unread="1"]').waitFor({ timeout: 10_000 });
  await b.page.getByTestId('bell').click();
  const item = b.page.locator('[data-testid="notification"][data-kind="friend_request"]');
  await item.waitFor();
  assert.match(await item.innerText(), /周五一起看电影吧/);
  await b.page.waitForTimeout(500); // the overlay's fade-in
  await screenshot(b.page, 'notifications-mobile');
  await item.click();
  await b.page.waitForURL(/\/friends\?tab=requests$/);
  const req = b.page.getByTestId('incoming-request');
  await req.waitFor();
  await req.getByTestId('accept').click();

  // Both are friends and online.
  await b.page.goto(`${server.base}/friends`);
  await friendRow(b.page, alice.user.username).locator('[data-testid="presence-dot"][data-online="true"]').waitFor();
  await a.page.goto(`${server.base}/friends`);
  await friendRow(a.page, bob.user.username).locator('[data-testid="presence-dot"][data-online="true"]').waitFor();
  assert.equal(await friendRow(a.page, bob.user.username).getByTestId('friend-status').innerText(), '在线');
  await screenshot(b.page, 'friends-mobile');
  // Alice's bell: Bob accepted.
  await a.page.locator('[data-testid="bell"][data-unread="1"]').waitFor({ timeout: 10_000 });

  // Bob closes his browser: Alice sees him go offline, seen just now.
  await b.context.close();
  const row = friendRow(a.page, bob.user.username);
  await row.locator('[data-testid="presence-dot"][data-online="false"]').waitFor({ timeout: 10_000 });
  assert.equal(await row.getByTestId('friend-status').innerText(), '刚刚在线');
  await screenshot(a.page, 'friends-desktop');

  // Alice reads the bell: the badge goes.
  await a.page.getByTestId('bell').click();
  await a.page.locator('[data-testid="notification"][data-kind="friend_accepted"]').waitFor();
  await a.page.getByTestId('read-all').click();
  await a.page.locator('[data-testid="bell"][data-unread="0"]').waitFor();
  await a.page.waitForTimeout(500); // the overlay's fade-in
  await screenshot(a.page, 'notifications-desktop');

  assert.deepEqual(a.problems, []);
  assert.deepEqual(b.problems, []);
  await a.context.close();
});
