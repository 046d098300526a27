// A new user registers and logs in from Swagger UI at /docs and sees their profile.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, startServer } from './lib.mjs';

test('register, log in and read /me from Swagger UI', async () => {
  const server = await startServer();
  const browser = await launchBrowser();
  try {
    const page = await browser.context.newPage();
    await page.goto(`${server.base}/docs/`);
    await page.waitForSelector('.opblock');

    async function execute(tag, operationId, body) {
      const block = page.locator(`#operations-${tag}-${operationId}`);
      await block.locator('.opblock-summary').click();
      await block.locator('button.try-out__btn').click();
      if (body) await block.locator('textarea.body-param__text').fill(JSON.stringify(body));
      await block.locator('button.execute').click();
      const status = block.locator('.live-responses-table tr.response .response-col_status').first();
      await status.waitFor();
      const text = await block.locator('.live-responses-table .microlight').first().innerText();
      return { status: (await status.innerText()).trim(), body: JSON.parse(text), block };
    }

    const account = { username: 'swagger_user', email: 'swagger@example.com', password: 'swagger password 1' };
    const reg = await execute('auth', 'register', account);
    assert.equal(reg.status, '201');
    const login = await execute('auth', 'login', { login: account.username, password: account.password });
    assert.equal(login.status, '200');

    await page.locator('button.authorize').first().click();
    await page.locator('.modal-ux input[type=text]').fill(login.body.tokens.access_token);
    await page.locator('.modal-ux button.authorize').click();
    await page.locator('.modal-ux button.btn-done').click();

    const me = await execute('users', 'get_me');
    assert.equal(me.status, '200');
    assert.equal(me.body.username, 'swagger_user');
    assert.equal(me.body.email, 'swagger@example.com');
    if (process.env.E2E_SCREENSHOTS) {
      await me.block.scrollIntoViewIfNeeded();
      await page.screenshot({ path: `${process.env.E2E_SCREENSHOTS}/swagger-me.png` });
    }
  } finally {
    await browser.close();
    await server.stop();
  }
});
