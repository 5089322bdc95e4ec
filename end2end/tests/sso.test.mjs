// Sign-in through the company's OpenID provider (issue 15), in Chromium against the real
// oidc-provider: the button on the sign-in page (English and Japanese, JavaScript on and off,
// desktop and phone), the provider's own login form, the user created at first sign-in, the
// admin group giving the console, and rule 8 confirmed by a fresh sign-in at the provider.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { startPortal, startProvider, oidcEnv, launchBrowser, waitHydrated, api, PHONE, DESKTOP, SHOTS } from '../support/portal.mjs';

let portal;
let provider;
let browser;

before(async () => {
  provider = await startProvider();
  const secret = path.join(mkdtempSync(path.join(tmpdir(), 'certportal-e2e-oidc-')), 'secret');
  portal = await startPortal({ env: oidcEnv(provider, secret) });
  await provider.allow(portal);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await portal?.stop();
  await provider?.stop();
});

/** Signs in at the provider's own login form (plain HTML, no JavaScript needed). */
async function atProvider(page, login) {
  await page.waitForURL((u) => u.href.startsWith(provider.issuer));
  await page.getByLabel('Username').fill(login);
  await page.getByLabel('Password').fill(`${login}-password`);
  await Promise.all([page.waitForURL((u) => u.href.startsWith(portal.base)), page.getByRole('button', { name: 'Sign in' }).click()]);
}

for (const { js, device, locale, login, label, admin } of [
  { js: true, device: DESKTOP, locale: 'en-US', login: 'alice', label: 'Sign in with Example SSO', admin: false },
  { js: false, device: PHONE, locale: 'ja-JP', login: 'bob', label: 'Example SSOでサインイン', admin: true },
]) {
  test(`"${label}" signs ${login} in through the provider (JavaScript ${js ? 'on' : 'off'}, ${locale})`, async () => {
    const ctx = await browser.newContext({ ...device, locale, javaScriptEnabled: js });
    const page = await ctx.newPage();
    await page.goto(`${portal.base}/login?next=/certificates`);
    if (js) await waitHydrated(page);
    const button = page.locator('[data-testid=sso-sign-in]');
    assert.equal((await button.textContent()).trim(), label);
    await page.screenshot({ path: path.join(SHOTS, `sso-login-${js ? 'js' : 'nojs'}-${locale}.png`), fullPage: true });
    await button.click();
    await atProvider(page, login);
    await page.waitForURL((u) => u.pathname === '/certificates');
    if (js) await waitHydrated(page);
    const session = (await ctx.cookies(portal.base)).find((c) => c.name === 'certportal');
    const { json: me } = await api(portal, 'whoami', {}, `certportal=${session.value}`);
    assert.equal(me.login, login);
    assert.equal(me.display_name, login === 'alice' ? 'Alice Anders' : 'Bob Berger', 'the name claim');
    const adminLink = await page.locator('header a[href="/admin/users"]').count();
    assert.equal(adminLink > 0, admin, 'the admin group decides the role');
    await ctx.close();
  });
}

for (const [what, patch] of [
  ['an ID token for another client (aud)', { aud: 'other' }],
  ['an expired ID token', { iat: Math.floor(Date.now() / 1000) - 7200, exp: Math.floor(Date.now() / 1000) - 3600 }],
]) {
  test(`${what} signs nobody in and the page says so`, async () => {
    await provider.nextToken(patch);
    const ctx = await browser.newContext({ ...DESKTOP, locale: 'en-US' });
    const page = await ctx.newPage();
    await page.goto(`${portal.base}/login`);
    await waitHydrated(page);
    await page.click('[data-testid=sso-sign-in]');
    await atProvider(page, 'alice');
    await page.waitForURL((u) => u.pathname === '/login' && u.searchParams.get('error') === 'sso_refused');
    const note = page.locator('[data-testid=login-error]');
    await note.waitFor();
    assert.match(await note.textContent(), /did not succeed/);
    const cookies = await ctx.cookies(portal.base);
    assert.ok(!cookies.some((c) => c.name === 'certportal'), 'no session');
    await ctx.close();
  });
}

test('a replayed callback (the same state, with the flow cookie) signs nobody in', async () => {
  const ctx = await browser.newContext({ ...DESKTOP, locale: 'en-US' });
  const page = await ctx.newPage();
  let callback;
  page.on('request', (r) => { if (r.url().includes('/auth/oidc/callback?')) callback = r.url(); });
  await page.goto(`${portal.base}/login`);
  await waitHydrated(page);
  await page.click('[data-testid=sso-sign-in]');
  await page.waitForURL((u) => u.href.startsWith(provider.issuer));
  const flow = (await ctx.cookies(portal.base)).filter((c) => c.name === 'certportal-oidc');
  assert.equal(flow.length, 1, 'the flow is bound to this browser by a cookie');
  await atProvider(page, 'alice');
  await page.waitForURL((u) => u.pathname === '/certificates');
  assert.ok(callback, 'the provider sent the browser to the callback');
  // Another browser holding the same flow cookie and the same callback: the flow is spent.
  const thief = await browser.newContext({ ...DESKTOP, locale: 'en-US' });
  await thief.addCookies(flow);
  const other = await thief.newPage();
  await other.goto(callback);
  await other.waitForURL((u) => u.pathname === '/login' && u.searchParams.get('error') === 'sso_refused');
  assert.ok(!(await thief.cookies(portal.base)).some((c) => c.name === 'certportal'), 'no session');
  await thief.close();
  await ctx.close();
});

test('an administrator confirms a dangerous action with a fresh sign-in at the provider', async () => {
  const ctx = await browser.newContext({ ...DESKTOP, locale: 'en-US' });
  const page = await ctx.newPage();
  await page.goto(`${portal.base}/login?next=/admin/settings`);
  await waitHydrated(page);
  await page.click('[data-testid=sso-sign-in]');
  await atProvider(page, 'bob');
  await page.waitForURL((u) => u.pathname === '/admin/settings');
  await waitHydrated(page);
  // Signing in through the provider's own session is no confirmation.
  await page.fill('#scim-name', 'Okta');
  await page.click('[data-testid=scim-make]');
  await page.locator('[data-testid=scim-error]').waitFor();
  // The confirmation sits beside the passkey check of every rule 8 form (here: the token's).
  const confirm = page.locator('#scim-form [data-testid=sso-confirm]');
  assert.equal((await confirm.textContent()).trim(), 'Confirm with Example SSO');
  await confirm.click();
  // prompt=login: the provider asks again even with a session there.
  await atProvider(page, 'bob');
  await page.waitForURL((u) => u.pathname === '/admin/settings');
  await waitHydrated(page);
  await page.fill('#scim-name', 'Okta');
  await page.click('[data-testid=scim-make]');
  await page.locator('[data-testid=scim-token]').waitFor();
  await ctx.close();
});
