// Sign-in in a real browser: the password form without JavaScript at phone size, and with
// JavaScript a passkey registered and then used alone (Chromium's virtual authenticator).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startPortal, launchBrowser, waitHydrated, PHONE, DESKTOP, SHOTS } from '../support/portal.mjs';

let portal;
let browser;
const PASSWORD = 'correct horse battery staple';

before(async () => {
  portal = await startPortal();
  browser = await launchBrowser();
  // The first administrator, through the setup link's server function.
  const token = portal.setupLink.split('/').pop();
  const r = await fetch(`${portal.base}/api/complete_setup`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token, login: 'admin', display_name: 'Ada Admin', email: 'ada@example.com', password: PASSWORD }),
  });
  assert.equal(r.status, 200, await r.text());
});

after(async () => {
  await browser?.close();
  await portal?.stop();
});

test('password sign-in and sign-out without JavaScript (phone)', async () => {
  const ctx = await browser.newContext({ ...PHONE, javaScriptEnabled: false, locale: 'en-US' });
  const page = await ctx.newPage();
  await page.goto(`${portal.base}/login?next=/account`);
  await page.fill('#login', 'admin');
  await page.fill('#password', 'wrong password here');
  await Promise.all([page.waitForNavigation(), page.click('form[data-testid=login-form] button[type=submit]')]);
  assert.match(await page.textContent('[data-testid=login-error]'), /check your login name and password/);

  await page.fill('#login', 'admin');
  await page.fill('#password', PASSWORD);
  await Promise.all([page.waitForNavigation(), page.click('form[data-testid=login-form] button[type=submit]')]);
  assert.equal(new URL(page.url()).pathname, '/account');
  assert.equal(await page.textContent('[data-testid=me-name]'), 'Ada Admin');
  // Passkey controls need JavaScript and are not shown without it.
  assert.equal(await page.locator('button[data-passkey=register]').isVisible(), false);
  await page.screenshot({ path: path.join(SHOTS, 'account-phone-nojs.png'), fullPage: true });
  await Promise.all([page.waitForNavigation(), page.click('[data-testid=sign-out]')]);
  assert.match(page.url(), /\/login\?signed_out=1/);
  await page.goto(`${portal.base}/account`);
  assert.equal(await page.locator('[data-testid=me-name]').count(), 0, 'signed out');
  await ctx.close();
});

test('a passkey registered on the account page signs in alone (JavaScript, desktop)', async () => {
  const ctx = await browser.newContext({ ...DESKTOP, locale: 'en-US' });
  const page = await ctx.newPage();
  const cdp = await ctx.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });

  await page.goto(`${portal.base}/login?next=/account`);
  await waitHydrated(page);
  await page.fill('#login', 'admin');
  await page.fill('#password', PASSWORD);
  await Promise.all([page.waitForURL(/\/account$/), page.click('form[data-testid=login-form] button[type=submit]')]);
  await waitHydrated(page);
  assert.equal(await page.textContent('[data-testid=me-name]'), 'Ada Admin');

  await page.fill('#passkey-name', 'Laptop');
  await Promise.all([page.waitForEvent('load'), page.click('button[data-passkey=register]')]);
  await page.waitForSelector('[data-testid=passkey-list]');
  assert.match(await page.textContent('[data-testid=passkey-list]'), /Laptop/);
  // The authenticator holds one discoverable credential for this site.
  const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  assert.equal(credentials.length, 1);
  assert.equal(credentials[0].isResidentCredential, true);
  assert.equal(credentials[0].rpId, 'localhost');
  await page.screenshot({ path: path.join(SHOTS, 'account-desktop-passkey.png'), fullPage: true });

  await Promise.all([page.waitForURL(/signed_out=1/), page.click('[data-testid=sign-out]')]);
  await waitHydrated(page);
  // No login name typed: the discoverable passkey alone signs in.
  await Promise.all([page.waitForURL(/\/certificates$/), page.click('button[data-passkey=login]')]);
  await page.goto(`${portal.base}/account`);
  await page.waitForSelector('[data-testid=me-name]');
  assert.equal(await page.textContent('[data-testid=me-login]'), 'admin');
  await ctx.close();
});

test('sign-in never follows next= off the site (JavaScript on, desktop)', async () => {
  // Before the fix the hydrated form went to `location.href = next` unchecked.
  for (const next of ['https://example.org/', '//example.org/', '/\t/example.org']) {
    const ctx = await browser.newContext({ ...DESKTOP, locale: 'en-US' });
    const page = await ctx.newPage();
    await page.goto(`${portal.base}/login?next=${encodeURIComponent(next)}`);
    await waitHydrated(page);
    assert.equal(await page.getAttribute('button[data-passkey=login]', 'data-next'), '/certificates');
    await page.fill('#login', 'admin');
    await page.fill('#password', PASSWORD);
    await Promise.all([
      page.waitForURL((u) => u.origin === portal.base && u.pathname === '/certificates'),
      page.click('form[data-testid=login-form] button[type=submit]'),
    ]);
    await ctx.close();
  }
});
