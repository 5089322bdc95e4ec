// The first administrator created with a passkey and no password (Chromium's virtual
// authenticator), then signing in again with that passkey alone.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startPortal, launchBrowser, waitHydrated, PHONE } from '../support/portal.mjs';

let portal;
let browser;

before(async () => {
  portal = await startPortal();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await portal?.stop();
});

test('first administrator with a passkey only (JavaScript, phone)', async () => {
  const ctx = await browser.newContext({ ...PHONE, userAgent: undefined, locale: 'ja-JP' });
  const page = await ctx.newPage();
  const cdp = await ctx.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  await page.goto(portal.setupLink);
  await waitHydrated(page);
  await page.fill('#login', 'keyadmin');
  await page.fill('#display_name', '鍵 管理者');
  await page.fill('#email', 'keyadmin@example.com');
  await Promise.all([page.waitForURL(/\/account$/), page.click('button[data-passkey=setup]')]);
  await page.waitForSelector('[data-testid=me-name]');
  assert.equal(await page.textContent('[data-testid=me-name]'), '鍵 管理者');
  assert.match(await page.textContent('[data-testid=passkey-list]'), /Passkey/);

  // No password exists: the password form cannot sign in, the passkey can.
  await Promise.all([page.waitForURL(/signed_out=1/), page.click('[data-testid=sign-out]')]);
  await waitHydrated(page);
  await Promise.all([page.waitForURL(/\/certificates$/), page.click('button[data-passkey=login]')]);
  await page.goto(`${portal.base}/account`);
  await page.waitForSelector('[data-testid=me-login]');
  assert.equal(await page.textContent('[data-testid=me-login]'), 'keyadmin');

  // The setup link is spent.
  await page.goto(portal.setupLink);
  await page.waitForSelector('[role=alert]');
  await ctx.close();
});
