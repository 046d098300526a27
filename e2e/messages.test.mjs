// Messages in two browsers against the real server: Alice (laptop) and Bob (phone) are
// friends; Alice opens the chat from the friends page ("发消息") and writes; Bob's tab bar,
// page title and list show the unread count, and reading clears it on his side while Alice
// sees "已读"; they exchange a picture (file input) and a voice note (Chromium's fake
// microphone, ~2 s); typing shows; Alice invites Bob to a watch room from the room page and
// Bob opens the room from the card in the chat. Screenshots at 1280×800 and 390×844 in
// docs/screenshots/.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateSync } from 'node:zlib';
import { launchShared, signedInContext, startAppServer } from './lib.mjs';
import { api, register, screenshot } from './watch-lib.mjs';

const LAPTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
let server;
let browser;

before(async () => {
  server = await startAppServer(process.env.E2E_LOG ? { APP_LOG__LEVEL: process.env.E2E_LOG } : {});
  browser = await launchShared(['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream']);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const contextFor = (user, viewport) =>
  signedInContext(browser, user, viewport, { permissions: ['microphone', 'clipboard-read', 'clipboard-write'] });

/** A real PNG (a 96×64 gradient), written by hand: zlib for the pixels, CRC-32 per chunk. */
function png(width = 96, height = 64) {
  const table = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const b of buf) c = table[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const sum = Buffer.alloc(4);
    sum.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, sum]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const rows = [];
  for (let y = 0; y < height; y++) {
    const row = Buffer.alloc(1 + width * 3);
    for (let x = 0; x < width; x++) {
      row[1 + x * 3] = Math.round((x / width) * 255);
      row[2 + x * 3] = Math.round((y / height) * 255);
      row[3 + x * 3] = 160;
    }
    rows.push(row);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.concat(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const lastMessage = (page) => page.getByTestId('message-list').getByTestId('message').last();

/** Two new users who are friends (the friends page has its own browser test). */
async function friends(a, b) {
  const suffix = Math.random().toString(36).slice(2, 7);
  const alice = await register(server, `${a}${suffix}`);
  const bob = await register(server, `${b}${suffix}`);
  const req = await api(server, 'POST', '/api/v1/friends/requests', { token: alice.token, body: { user_id: bob.user.id } });
  await api(server, 'POST', `/api/v1/friends/requests/${req.request.id}/accept`, { token: bob.token });
  return { alice, bob, suffix };
}

/** Page problems other than the expected (a first 401 before a refresh, aborted loads). */
const unexpected = (ps) => ps.filter((p) => !/favicon|401|ERR_ABORTED|net::ERR_/.test(p));

test('two friends chat with text, a picture and a voice note, see unread badges and read receipts, and meet in a room', async () => {
  const { alice, bob } = await friends('alice', 'bob');

  const a = await contextFor(alice, LAPTOP);
  const b = await contextFor(bob, PHONE);

  // Bob waits on the home page; nothing unread.
  await b.page.goto(`${server.base}/`);
  await b.page.getByTestId('tab-messages').waitFor();
  assert.equal(await b.page.getByTestId('tab-unread').count(), 0);

  // Alice opens the chat from the friends page.
  await a.page.goto(`${server.base}/friends`);
  await a.page.getByTestId('message-friend').first().click();
  await a.page.waitForURL(/\/messages\/\d+$/);
  const conversationId = Number(new URL(a.page.url()).pathname.split('/').pop());
  await a.page.getByTestId('conversation-name').getByText(bob.user.nickname || bob.user.username).waitFor();
  const input = a.page.getByTestId('composer-input').locator('textarea');
  await input.fill('你好 Bob 👋\n周五有空吗？');
  await input.press('Enter');
  await lastMessage(a.page).getByText('周五有空吗？').waitFor();
  await a.page.getByTestId('pending-message').waitFor({ state: 'detached' });

  // Bob: the badge in the tab bar and the title, live.
  await b.page.getByTestId('tab-unread').getByText('1').waitFor({ timeout: 10_000 });
  await b.page.waitForFunction(() => document.title.startsWith('(1) '));
  await b.page.getByTestId('tab-messages').click();
  const row = b.page.getByTestId(`conversation-${conversationId}`);
  await row.getByTestId('conversation-unread').waitFor();
  await row.getByText('周五有空吗？').waitFor();
  await screenshot(b.page, 'messages-list-phone');
  await row.click();
  await lastMessage(b.page).getByText('周五有空吗？').waitFor();
  // Read: Bob's badge clears; Alice sees "已读" under her message.
  await b.page.getByTestId('tab-unread').waitFor({ state: 'detached', timeout: 10_000 });
  await b.page.waitForFunction(() => !document.title.startsWith('('));
  await a.page.getByTestId('read-receipt').getByText('已读').waitFor({ timeout: 10_000 });

  // Bob types: Alice sees it; then he answers.
  const bInput = b.page.getByTestId('composer-input').locator('textarea');
  await bInput.pressSequentially('有空', { delay: 30 });
  await a.page.getByTestId('typing').getByText('正在输入').waitFor({ timeout: 10_000 });
  await bInput.fill('有空！看什么？');
  await b.page.getByTestId('composer-send').click();
  await lastMessage(a.page).getByText('有空！看什么？').waitFor();
  // Alice is looking at the conversation: it is read at once, no badge on her nav.
  await b.page.getByTestId('read-receipt').waitFor({ timeout: 10_000 });
  assert.equal(await a.page.getByTestId('nav-unread').count(), 0);

  // A picture from Alice.
  await a.page.getByTestId('tool-image').click();
  await a.page.getByTestId('image-input').setInputFiles({ name: 'poster.png', mimeType: 'image/png', buffer: png() });
  const img = b.page.getByTestId('message-image').last();
  await img.waitFor({ timeout: 15_000 });
  await b.page.waitForFunction(() => {
    const el = [...document.querySelectorAll('[data-testid="message-image"]')].pop();
    return el && el.complete && el.naturalWidth > 0;
  });
  await a.page.getByTestId('message-image').last().waitFor();

  // A voice note from Bob: record about 2 s with the fake microphone, then send.
  await b.page.getByTestId('tool-voice').click();
  await b.page.getByTestId('voice-record').click();
  await b.page.getByTestId('voice-time').waitFor();
  await b.page.waitForTimeout(2200);
  await b.page.getByTestId('voice-stop').click();
  await b.page.getByTestId('voice-send').click();
  const voice = a.page.getByTestId('message-voice').last();
  await voice.waitFor({ timeout: 15_000 });
  const voiceMsg = await api(server, 'GET', `/api/v1/conversations/${conversationId}/messages?limit=1`, { token: alice.token });
  assert.equal(voiceMsg.messages[0].kind, 'voice');
  assert.ok(voiceMsg.messages[0].attachment.duration_ms >= 1500, `duration ${voiceMsg.messages[0].attachment.duration_ms}`);
  await screenshot(a.page, 'messages-conversation-desktop');
  await screenshot(b.page, 'messages-conversation-phone');

  // Alice invites Bob to a watch room from the room page.
  const room = await api(server, 'POST', '/api/v1/rooms', { token: alice.token, body: { name: '周五电影夜', visibility: 'unlisted' } });
  await a.page.goto(`${server.base}/rooms/${room.id}`);
  await a.page.getByTestId('share-to-friend').click();
  await a.page.getByTestId(`pick-friend-${bob.user.username}`).click();
  await a.page.getByText('已发送给').waitFor();
  // Bob, still in the chat, gets the card and opens the room from it.
  const card = b.page.getByTestId('room-invite-card').last();
  await card.getByText('周五电影夜').waitFor({ timeout: 10_000 });
  await card.getByTestId('room-invite-join').click();
  await b.page.waitForURL(new RegExp(`/rooms/${room.id}$`), { timeout: 15_000 });
  const members = await api(server, 'GET', `/api/v1/rooms/${room.id}/members`, { token: alice.token });
  assert.ok(members.items.some((m) => m.user_id === bob.user.id || m.user?.id === bob.user.id), 'Bob is a member of the room');

  // The laptop list with the conversation open, and unread on Alice's side from Bob.
  await a.page.goto(`${server.base}/messages`);
  await b.page.goto(`${server.base}/messages/${conversationId}`);
  await b.page.getByTestId('composer-input').locator('textarea').fill('到了，开始吧 🍿');
  await b.page.getByTestId('composer-input').locator('textarea').press('Enter');
  await a.page.getByTestId('nav-unread').getByText('1').waitFor({ timeout: 10_000 });
  await a.page.getByTestId(`conversation-${conversationId}`).getByTestId('conversation-unread').waitFor();
  await screenshot(a.page, 'messages-list-desktop');
  await a.page.getByTestId(`conversation-${conversationId}`).click();
  await a.page.getByTestId('nav-unread').waitFor({ state: 'detached', timeout: 10_000 });

  assert.deepEqual(unexpected(a.problems), []);
  assert.deepEqual(unexpected(b.problems), []);
  await a.context.close();
  await b.context.close();
});

test('a group: created with a friend from "new group", a message recalled shows as recalled to both, settings list the members, a third person joins by the invite link', async () => {
  const { alice, bob, suffix } = await friends('carol', 'dave');
  const a = await contextFor(alice, LAPTOP);
  const b = await contextFor(bob, PHONE);
  await b.page.goto(`${server.base}/messages`);
  await b.page.getByTestId('empty-state').waitFor();
  await screenshot(b.page, 'messages-empty-phone');

  await a.page.goto(`${server.base}/messages`);
  await a.page.getByTestId('new-group').click();
  await a.page.getByTestId('new-group-name').locator('input').fill('周末观影小组');
  await a.page.getByTestId(`pick-friend-${bob.user.username}`).click();
  await a.page.getByTestId('picker-confirm').click();
  await a.page.waitForURL(/\/messages\/\d+$/);
  const id = Number(new URL(a.page.url()).pathname.split('/').pop());
  await a.page.getByTestId('conversation-name').getByText('周末观影小组').waitFor();
  await a.page.getByTestId('message-list').getByText('你 创建了群聊').waitFor();

  // Bob's list gets the group live.
  const row = b.page.getByTestId(`conversation-${id}`);
  await row.waitFor({ timeout: 10_000 });

  const input = a.page.getByTestId('composer-input').locator('textarea');
  await input.fill('这条发错了');
  await input.press('Enter');
  await row.getByText('这条发错了').waitFor({ timeout: 10_000 });
  await row.click();
  await b.page.getByTestId('message-list').getByText('这条发错了').waitFor();

  // Alice recalls it: both see it as recalled.
  const mine = a.page.getByTestId('message-list').getByTestId('message').last();
  await mine.hover();
  await mine.getByTestId('message-menu').click();
  await a.page.getByText('撤回', { exact: true }).click();
  await a.page.locator('.n-dialog').getByRole('button', { name: '确定' }).click();
  await a.page.getByTestId('recalled').getByText('你撤回了一条消息').waitFor();
  await b.page.getByTestId('recalled').getByText(`${alice.user.nickname || alice.user.username} 撤回了一条消息`).waitFor({ timeout: 10_000 });
  assert.equal(await b.page.getByTestId('message-list').getByText('这条发错了').count(), 0);

  // Settings: both members, the owner marked; the invite link is there for the owner.
  await a.page.getByTestId('conversation-settings').click();
  const panel = a.page.getByTestId('conversation-settings-panel');
  await panel.getByTestId('group-members').getByText(bob.user.nickname || bob.user.username).waitFor();
  await panel.getByText('群主').waitFor();
  await panel.getByTestId('group-invite-link').getByText('/g/').waitFor();
  // Someone else joins by the link and lands in the group; Alice sees them join.
  const link = new URL(await panel.getByTestId('group-invite-link').innerText());
  const gina = await register(server, `gina${suffix}`);
  const g = await contextFor(gina, PHONE);
  await g.page.goto(`${server.base}${link.pathname}`);
  await g.page.getByText('周末观影小组').waitFor();
  await g.page.getByTestId('join-group').click();
  await g.page.waitForURL(new RegExp(`/messages/${id}$`));
  await g.page.getByTestId('conversation-name').getByText('周末观影小组').waitFor();
  await a.page.getByTestId('message-list').getByText(`${gina.user.nickname || gina.user.username} 加入了群聊`).waitFor({ timeout: 10_000 });
  await g.context.close();
  await a.page.waitForTimeout(400); // the drawer's slide-in
  await screenshot(a.page, 'messages-group-settings-desktop');
  // Bob's composer with the emoji grid open (phone).
  await b.page.getByTestId('tool-emoji').click();
  await b.page.getByTestId('panel-emoji').getByRole('button', { name: '🍿' }).click();
  assert.equal(await b.page.getByTestId('composer-input').locator('textarea').inputValue(), '🍿');
  await screenshot(b.page, 'messages-emoji-phone');
  await b.page.getByTestId('conversation-settings').click();
  await b.page.getByTestId('conversation-settings-panel').getByTestId('group-members').waitFor();
  await b.page.waitForTimeout(400);
  await screenshot(b.page, 'messages-group-settings-phone');
  // The unsent 🍿 is a draft: back on the list it shows as one, and it is there on return.
  await b.page.keyboard.press('Escape');
  await b.page.getByTestId('conversation-settings-panel').waitFor({ state: 'hidden' });
  await b.page.getByTestId('conversation-back').click();
  await row.getByTestId('conversation-draft').getByText('[草稿] 🍿').waitFor();
  await screenshot(b.page, 'messages-draft-phone');
  await row.click();
  assert.equal(await b.page.getByTestId('composer-input').locator('textarea').inputValue(), '🍿');
  // A reload keeps it too (the tab's sessionStorage).
  await b.page.reload();
  await b.page.waitForFunction(() => document.querySelector('[data-testid=composer-input] textarea')?.value === '🍿');

  assert.deepEqual(unexpected(a.problems), []);
  assert.deepEqual(unexpected(b.problems), []);
  await a.context.close();
  await b.context.close();
});

test('history loads upward; a message written offline shows "sending…", goes out once the browser is back online, and arrives once', async () => {
  const { alice, bob } = await friends('erin', 'frank');
  const conv = await api(server, 'POST', '/api/v1/conversations/direct', { token: alice.token, body: { user_id: bob.user.id } });
  // 45 older messages: the page shows the newest 30, scrolling up loads the rest.
  for (let i = 1; i <= 45; i++) {
    await api(server, 'POST', `/api/v1/conversations/${conv.id}/messages`, {
      token: bob.token,
      body: { client_id: `seed-${i}`, kind: 'text', text: `第 ${i} 条` },
    });
  }
  const a = await contextFor(alice, PHONE);
  await a.page.goto(`${server.base}/messages/${conv.id}`);
  await lastMessage(a.page).getByText('第 45 条').waitFor();
  assert.equal(await a.page.getByTestId('message-list').getByText('第 1 条', { exact: true }).count(), 0);
  await a.page.getByTestId('message-list').evaluate((el) => (el.scrollTop = 0));
  await a.page.getByTestId('message-list').getByText('第 1 条', { exact: true }).waitFor({ timeout: 10_000 });
  await a.page.getByTestId('message-list').getByText('没有更早的消息了').waitFor();
  assert.equal(await a.page.getByTestId('message-list').getByTestId('message').count(), 45);

  await a.context.setOffline(true);
  const input = a.page.getByTestId('composer-input').locator('textarea');
  await input.fill('离线时写的');
  await input.press('Enter');
  await a.page.getByTestId('pending-message').getByText('发送中').waitFor();
  await a.page.waitForTimeout(1000);
  await a.context.setOffline(false);
  await a.page.getByTestId('pending-message').waitFor({ state: 'detached', timeout: 15_000 });
  await lastMessage(a.page).getByText('离线时写的').waitFor();

  const page = await api(server, 'GET', `/api/v1/conversations/${conv.id}/messages`, { token: bob.token });
  assert.equal(page.messages.filter((m) => m.text === '离线时写的').length, 1);
  assert.equal(await a.page.getByTestId('message-list').getByText('离线时写的').count(), 1);
  await a.context.close();
});
