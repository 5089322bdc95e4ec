// The company's directory (issue 15): an administrator makes a SCIM bearer token on the
// settings page (shown once, with JavaScript and without), the directory's client uses it at
// /scim/v2, the list shows its last use, and a revoked token is refused at once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startPortal, launchBrowser, waitHydrated, firstAdmin, signInForm, PHONE, DESKTOP, SHOTS } from '../support/portal.mjs';

let portal;
let browser;
const PASSWORD = 'correct horse battery staple';

before(async () => {
  portal = await startPortal();
  browser = await launchBrowser();
  await firstAdmin(portal, PASSWORD);
});

after(async () => {
  await browser?.close();
  await portal?.stop();
});

/** What a SCIM client gets at /scim/v2/Users with `token`. */
async function scimStatus(token) {
  const r = await fetch(`${portal.base}/scim/v2/Users`, { headers: { authorization: `Bearer ${token}` } });
  return r.status;
}

for (const { js, device, locale, name } of [
  { js: true, device: DESKTOP, locale: 'en-US', name: 'Entra ID' },
  { js: false, device: PHONE, locale: 'ja-JP', name: 'Okta 連携' },
]) {
  test(`a SCIM token is made once, used and revoked (JavaScript ${js ? 'on' : 'off'}, ${locale})`, async () => {
    const ctx = await browser.newContext({ ...device, locale, javaScriptEnabled: js });
    const page = await ctx.newPage();
    await signInForm(page, portal, { password: PASSWORD, js, next: '/admin/settings' });
    const endpoint = await page.inputValue('[data-testid=scim-endpoint]');
    assert.equal(endpoint, `${portal.base}/scim/v2`);
    await page.fill('#scim-name', name);
    await page.fill('#scim-pw', PASSWORD);
    if (js) {
      await page.click('[data-testid=scim-make]');
    } else {
      await Promise.all([page.waitForURL((u) => u.searchParams.get('token') === '1'), page.click('[data-testid=scim-make]')]);
    }
    const shown = page.locator('[data-testid=scim-token]');
    await shown.waitFor();
    const token = await shown.inputValue();
    assert.match(token, /^scim_[0-9a-f]{64}$/);
    if (js) assert.equal(await page.inputValue('#scim-pw'), '', 'the confirmation password is cleared');
    const row = page.locator('[data-testid=scim-token-row]', { hasText: name });
    await row.waitFor();
    assert.match(await row.textContent(), locale === 'ja-JP' ? /未使用/ : /never/);
    await page.screenshot({ path: path.join(SHOTS, `scim-token-${js ? 'js' : 'nojs'}-${locale}.png`), fullPage: true });

    // The directory connects with it; the page then shows its last use.
    assert.equal(await scimStatus(token), 200);
    await page.goto(`${portal.base}/admin/settings`);
    if (js) await waitHydrated(page);
    assert.doesNotMatch(await row.textContent(), locale === 'ja-JP' ? /未使用/ : /never/);
    assert.equal(await page.locator('[data-testid=scim-token]').count(), 0, 'shown only once');

    // Revoked: refused from the next request on.
    if (js) {
      await row.locator('[data-testid=scim-revoke]').click();
    } else {
      await Promise.all([page.waitForNavigation(), row.locator('[data-testid=scim-revoke]').click()]);
    }
    await row.locator('[data-testid=scim-token-revoked]').waitFor();
    assert.equal(await scimStatus(token), 401);
    await ctx.close();
  });
}
