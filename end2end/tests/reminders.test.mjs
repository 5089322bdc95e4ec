// Nobody is surprised by an expiry (issue 14): a certificate inside the first reminder
// threshold says "expires in N days" on every page and in the list, with the renewal one tap
// away (phone, Japanese, JavaScript on; desktop, English, JavaScript off), and the
// administration start page shows the digest's numbers and the digest opt-in.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startPortal, launchBrowser, waitHydrated, api, firstAdmin, signInForm, updatePolicy, PHONE, DESKTOP, SHOTS } from '../support/portal.mjs';

let portal;
let browser;
let entry;
const PASSWORD = 'correct horse battery staple';

before(async () => {
  portal = await startPortal();
  browser = await launchBrowser();
  const cookie = await firstAdmin(portal, PASSWORD);
  // Certificates valid for 20 days: inside the first threshold (30 days) from the start.
  await updatePolicy(portal, cookie, PASSWORD, { default_validity_days: '20' });
  // The administrator's own laptop picks up its certificate (PIN, then the .p12).
  const { json: id } = await api(portal, 'request_certificate', { device_label: 'ThinkPad' }, cookie);
  entry = id;
  const { json: answer } = await api(portal, 'show_renewal_link', { entry }, cookie);
  const { url, pin } = answer.Link;
  const unlocked = await fetch(`${url}/unlock`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ pin }),
  });
  const grant = unlocked.headers.getSetCookie().find((c) => c.includes('grant=')).split(';')[0];
  const bundle = await fetch(`${url}/download`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: grant },
    body: new URLSearchParams({ format: 'p12' }),
  });
  assert.equal(bundle.status, 200);
});

after(async () => {
  await browser?.close();
  await portal?.stop();
});

const signIn = (page, js) => signInForm(page, portal, { password: PASSWORD, js });

test('phone in Japanese with JavaScript: the banner and the list say when, and renew is one tap', async () => {
  const ctx = await browser.newContext({ ...PHONE, locale: 'ja-JP' });
  const page = await ctx.newPage();
  await signIn(page, true);
  // On the certificate list the certificate itself says it; every other page has the banner.
  assert.equal(await page.locator('[data-testid=expiry-banner]').count(), 0);
  const note = page.locator(`[data-entry="${entry}"] [data-testid=cert-expiring]`);
  assert.match(await note.textContent(), /有効期限まであと(19|20)日/);
  // One tap, and big enough to hit.
  const renew = await note.locator('[data-testid=renew-now]').boundingBox();
  assert.ok(renew.height >= 44, `tap target ${renew.height}px`);
  await page.screenshot({ path: path.join(SHOTS, 'expiring-phone-ja.png'), fullPage: true });
  await page.goto(`${portal.base}/account`);
  await waitHydrated(page);
  const banner = page.locator('[data-testid=expiry-banner]');
  assert.match(await banner.textContent(), /ThinkPad · 有効期限まであと(19|20)日/);
  const box = await page.locator('[data-testid=expiry-renew]').boundingBox();
  assert.ok(box.height >= 44, `tap target ${box.height}px`);
  await page.screenshot({ path: path.join(SHOTS, 'expiry-banner-phone-ja.png') });
  await Promise.all([page.waitForURL(new RegExp(`/certificates/${entry}/link$`)), page.click('[data-testid=expiry-renew]')]);
  await waitHydrated(page);
  // The renewal screen, with the button the reminder mail names.
  assert.equal(await page.locator('[data-testid=make-link]').textContent(), 'リンクとQRコードを表示');
  await ctx.close();
});

test('desktop in English without JavaScript: the banner, and the admin start page with the digest', async () => {
  const ctx = await browser.newContext({ ...DESKTOP, locale: 'en-US', javaScriptEnabled: false });
  const page = await ctx.newPage();
  await signIn(page, false);
  assert.match(await page.textContent(`[data-entry="${entry}"] [data-testid=cert-expiring]`), /Expires in (19|20) days/);
  await page.click(`[data-entry="${entry}"] [data-testid=renew-now]`);
  await page.waitForURL(new RegExp(`/certificates/${entry}/link$`));

  await page.goto(`${portal.base}/admin/users`);
  assert.match(await page.textContent('[data-testid=expiry-banner]'), /ThinkPad · Expires in (19|20) days/);
  const summary = page.locator('[data-testid=admin-summary]');
  assert.equal(await summary.locator('[data-testid=summary-expiring]').textContent(), '1');
  assert.equal(await summary.locator('[data-testid=summary-approvals]').textContent(), '0');
  assert.match(await summary.textContent(), /no mail server configured/);
  assert.equal(await page.isChecked('[data-testid=digest-opt-in]'), false);
  await page.check('[data-testid=digest-opt-in]');
  await Promise.all([page.waitForURL(/digest=saved/), page.click('[data-testid=digest-form] button[type=submit]')]);
  assert.equal(await page.isChecked('[data-testid=digest-opt-in]'), true, 'kept after the round trip');
  assert.match(await summary.textContent(), /Saved\./);
  await page.screenshot({ path: path.join(SHOTS, 'admin-summary-desktop.png'), fullPage: true });
  await ctx.close();
});
