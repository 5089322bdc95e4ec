// Errors as a Japanese reader meets them: every refusal shows the catalogue's Japanese text,
// with JavaScript (the server function's code) and without (the `?error=` redirect), on the
// desktop and on a phone. Before the error vocabulary, a taken login showed the server's
// English "that login is already taken" with JavaScript and nothing at all without it, and a
// too-long CA name said "At least 12 characters.".
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startPortal, launchBrowser, waitHydrated, api, firstAdmin, PHONE, DESKTOP, SHOTS } from '../support/portal.mjs';

let portal;
let browser;
const PASSWORD = 'correct horse battery staple';
const TAKEN_JA = 'そのログイン名は既に使われています。';
const CA_NAME_JA = 'CA名: 制御文字を含まない64文字以内で入力してください。';

before(async () => {
  portal = await startPortal();
  browser = await launchBrowser();
  const cookie = await firstAdmin(portal, PASSWORD);
  await api(portal, 'admin_create_user', { login: 'taken', display_name: 'Taken', email: 'taken@example.com' }, cookie);
});

after(async () => {
  await browser?.close();
  await portal?.stop();
});

async function signIn(page, js, next) {
  await page.goto(`${portal.base}/login?next=${encodeURIComponent(next)}`);
  if (js) await waitHydrated(page);
  await page.fill('#login', 'admin');
  await page.fill('#password', PASSWORD);
  await Promise.all([page.waitForURL((u) => u.pathname === next), page.click('form[data-testid=login-form] button[type=submit]')]);
  if (js) await waitHydrated(page);
}

async function createTaken(page, js) {
  await page.click('#create-user summary');
  await page.fill('#u-login', 'taken');
  await page.fill('#u-name', '重複 太郎');
  await page.fill('#u-email', 'dup@example.com');
  if (js) {
    await page.click('#create-user button[type=submit]');
  } else {
    await Promise.all([page.waitForNavigation(), page.click('#create-user button[type=submit]')]);
  }
  await page.waitForSelector('[data-code=login_taken]');
  return page.textContent('[data-code=login_taken]');
}

for (const js of [true, false]) {
  for (const [device, size] of [['desktop', DESKTOP], ['phone', PHONE]]) {
    test(`Japanese, ${device}, JavaScript ${js ? 'on' : 'off'}: refusals are in Japanese`, async () => {
      const ctx = await browser.newContext({ ...size, locale: 'ja-JP', javaScriptEnabled: js });
      const page = await ctx.newPage();
      await signIn(page, js, '/admin/users');

      const text = await createTaken(page, js);
      assert.equal(text.trim(), TAKEN_JA);
      assert.doesNotMatch(await page.textContent('main'), /already taken/);
      await page.screenshot({ path: path.join(SHOTS, `error-login-taken-ja-${device}-${js ? 'js' : 'nojs'}.png`), fullPage: true });

      // A CA name over 64 characters on the CA page (the browser's maxlength is removed to
      // prove the server refuses it).
      await page.goto(`${portal.base}/admin/ca`);
      if (js) await waitHydrated(page);
      await page.evaluate(() => document.querySelector('#ca-name').removeAttribute('maxlength'));
      await page.fill('#ca-name', 'N'.repeat(65));
      await page.fill('#ca-password', PASSWORD);
      await page.check('[data-testid=rotate-form] input[name=confirm]');
      if (js) {
        await page.click('[data-testid=rotate-form] button[type=submit]');
      } else {
        await Promise.all([page.waitForNavigation(), page.click('[data-testid=rotate-form] button[type=submit]')]);
      }
      await page.waitForSelector('[data-testid=rotate-error]');
      assert.equal((await page.textContent('[data-testid=rotate-error]')).trim(), CA_NAME_JA);
      assert.equal(await page.getAttribute('[data-testid=rotate-error]', 'data-code'), 'invalid_ca_name');
      assert.equal(await page.locator('[data-testid=rotated]').count(), 0);
      await page.screenshot({ path: path.join(SHOTS, `error-ca-name-ja-${device}-${js ? 'js' : 'nojs'}.png`), fullPage: true });
      await ctx.close();
    });
  }
}

test('English without JavaScript: a new user\'s activation link is shown after the redirect', async () => {
  const ctx = await browser.newContext({ ...DESKTOP, locale: 'en-US', javaScriptEnabled: false });
  const page = await ctx.newPage();
  await signIn(page, false, '/admin/users');
  await page.click('#create-user summary');
  await page.fill('#u-login', 'newbie');
  await page.fill('#u-name', 'New Bie');
  await page.fill('#u-email', 'newbie@example.com');
  await Promise.all([page.waitForNavigation(), page.click('#create-user button[type=submit]')]);
  assert.match(page.url(), /created=1/);
  assert.match(await page.inputValue('[data-testid=activation-link]'), /\/activate\/[0-9a-f]+/);
  assert.doesNotMatch(page.url(), /activate/, 'the link never travels in the URL');
  await ctx.close();
});
