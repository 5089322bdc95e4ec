// The admin console in a real browser: search the directory, select users, create with
// "remove existing" (progress and a result per user with JavaScript; a results list after
// the redirect without), Create & Download a ZIP, revoke after the confirmation password;
// and the CA & revocation view — with JavaScript on and off, at desktop and phone sizes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startPortal, launchBrowser, waitHydrated, api, firstAdmin, PHONE, DESKTOP, SHOTS } from '../support/portal.mjs';

let portal;
let browser;
let adminCookie;
const PASSWORD = 'correct horse battery staple';

before(async () => {
  portal = await startPortal();
  browser = await launchBrowser();
  adminCookie = await firstAdmin(portal, PASSWORD);
  // Six users in two departments.
  for (const [login, name, dept] of [
    ['kato', 'Kato Ken', 'Sales/Tokyo'],
    ['kimura', 'Kimura Aya', 'Sales/Osaka'],
    ['kondo', 'Kondo Jiro', 'Sales/Osaka'],
    ['mori', 'Mori Emi', 'Dev'],
    ['muto', 'Muto Rei', 'Dev'],
    ['nakai', 'Nakai Sho', 'Dev'],
  ]) {
    await api(portal, 'admin_create_user', { login, display_name: name, email: `${login}@example.com`, department: dept }, adminCookie);
  }
});

after(async () => {
  await browser?.close();
  await portal?.stop();
});

async function signIn(page, js) {
  await page.goto(`${portal.base}/login?next=/admin/users`);
  if (js) await waitHydrated(page);
  await page.fill('#login', 'admin');
  await page.fill('#password', PASSWORD);
  await Promise.all([page.waitForURL((u) => u.pathname === '/admin/users'), page.click('form[data-testid=login-form] button[type=submit]')]);
  if (js) await waitHydrated(page);
}

const statusOf = (page, login) => page.textContent(`[data-testid=user-row][data-login="${login}"] [data-testid=user-status]`);
const select = (page, login) => page.check(`[data-testid=user-row][data-login="${login}"] input[type=checkbox]`);

test('desktop with JavaScript: search, create with remove existing, Create & Download, revoke', async () => {
  const ctx = await browser.newContext({ ...DESKTOP, locale: 'en-US', acceptDownloads: true });
  const page = await ctx.newPage();
  await signIn(page, true);

  // Search by department (Sales and its sub-departments).
  await page.selectOption('#f-dept', 'Sales');
  await Promise.all([page.waitForURL(/department=Sales/), page.click('[data-testid=directory-filter] button[type=submit]')]);
  await waitHydrated(page);
  const logins = await page.$$eval('[data-testid=user-row]', (rows) => rows.map((r) => r.dataset.login));
  assert.deepEqual(logins, ['kato', 'kimura', 'kondo']);
  assert.equal(await statusOf(page, 'kato'), 'Not issued');

  // Create for two users with "remove existing": progress, then a result per user.
  await select(page, 'kato');
  await select(page, 'kimura');
  await page.check('[data-testid=remove-existing]');
  await page.click('[data-testid=bulk-create]');
  await page.waitForSelector('[data-testid=bulk-results]');
  const results = await page.$$eval('[data-testid=bulk-result]', (li) => li.map((l) => [l.querySelector('strong').textContent, l.dataset.ok]));
  assert.deepEqual(results, [['kato', 'true'], ['kimura', 'true']]);
  await page.waitForFunction(() => document.querySelector('[data-login="kato"] [data-testid=user-status]')?.textContent === 'Ready to install');
  assert.equal(await statusOf(page, 'kondo'), 'Not issued');
  await page.screenshot({ path: path.join(SHOTS, 'admin-directory-desktop.png'), fullPage: true });

  // Create & Download for kondo: a ZIP with the bundle and the PIN list.
  await select(page, 'kondo');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=bulk-download]')]);
  assert.match(download.suggestedFilename(), /^certportal-bundles-\d{4}-\d{2}-\d{2}\.zip$/);
  const zip = readFileSync(await download.path());
  assert.equal(zip.subarray(0, 2).toString(), 'PK');
  assert.ok(zip.includes(Buffer.from('kondo.p12')) && !zip.includes(Buffer.from('PINS.csv')), 'the PINs are not in the ZIP');
  assert.ok(!zip.includes(Buffer.from('kato.p12')), 'only the selected user');
  // The page loads again once the download went through, saying so.
  await page.waitForSelector('[data-testid=bulk-downloaded]');
  assert.match(page.url(), /downloaded=1/);
  // The PINs: a second download, after the password.
  await page.fill('#pins-password', PASSWORD);
  const [pinsDownload] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=pins-download]')]);
  assert.match(pinsDownload.suggestedFilename(), /^certportal-pins-\d{4}-\d{2}-\d{2}\.csv$/);
  const pins = readFileSync(await pinsDownload.path(), 'utf8');
  assert.match(pins, /^login,serial,expires,pin\nkondo,[0-9A-F]+,\d{4}-\d{2}-\d{2},[A-Z0-9-]+\n$/);
  await page.reload();
  await waitHydrated(page);
  assert.equal(await statusOf(page, 'kondo'), 'Issued');

  // Revoke: the confirmation page lists the user; the password confirms.
  await select(page, 'kondo');
  await Promise.all([page.waitForURL(/\/admin\/revoke\?/), page.click('[data-testid=bulk-revoke]')]);
  await waitHydrated(page);
  assert.match(await page.textContent('[data-testid=revoke-table]'), /kondo/);
  await page.fill('#r-password', 'wrong password!!');
  await page.click('[data-testid=revoke-execute]');
  await page.waitForSelector('[data-testid=revoke-error]');
  await page.fill('#r-password', PASSWORD);
  await page.click('[data-testid=revoke-execute]');
  await page.waitForSelector('[data-testid=bulk-results]');
  assert.match(await page.textContent('[data-testid=bulk-results]'), /kondo\s*Done \(1 revoked\)/);
  await page.goto(`${portal.base}/admin/users?status=revoked`);
  await waitHydrated(page);
  assert.deepEqual(await page.$$eval('[data-testid=user-row]', (rows) => rows.map((r) => r.dataset.login)), ['kondo']);
  await ctx.close();
});

test('phone without JavaScript: filter, create with remove existing, revoke with the password', async () => {
  const ctx = await browser.newContext({ ...PHONE, javaScriptEnabled: false, locale: 'en-US' });
  const page = await ctx.newPage();
  await signIn(page, false);
  await page.fill('#f-q', 'M');
  await page.selectOption('#f-dept', 'Dev');
  await Promise.all([page.waitForNavigation(), page.click('[data-testid=directory-filter] button[type=submit]')]);
  assert.deepEqual(await page.$$eval('[data-testid=user-row]', (rows) => rows.map((r) => r.dataset.login)), ['mori', 'muto']);

  // Nothing selected: a clear error, nothing done.
  await Promise.all([page.waitForNavigation(), page.click('[data-testid=bulk-create]')]);
  assert.match(await page.textContent('[data-testid=bulk-error]'), /Select at least one user/);

  await select(page, 'mori');
  await select(page, 'muto');
  await page.check('[data-testid=remove-existing]');
  await Promise.all([page.waitForNavigation(), page.click('[data-testid=bulk-create]')]);
  assert.match(page.url(), /done=create/);
  const results = await page.$$eval('[data-testid=bulk-result]', (li) => li.map((l) => [l.querySelector('strong').textContent, l.dataset.ok]));
  assert.deepEqual(results, [['mori', 'true'], ['muto', 'true']]);
  assert.equal(await statusOf(page, 'mori'), 'Ready to install');
  await page.screenshot({ path: path.join(SHOTS, 'admin-directory-phone-nojs.png'), fullPage: true });

  // Revoke (a ready enrollment has no certificate yet: 0 revoked, still a result).
  await select(page, 'mori');
  await Promise.all([page.waitForNavigation(), page.click('[data-testid=bulk-revoke]')]);
  assert.match(page.url(), /\/admin\/revoke\?/);
  await page.selectOption('#r-reason', 'affiliationChanged');
  await page.fill('#r-password', PASSWORD);
  await page.screenshot({ path: path.join(SHOTS, 'admin-revoke-phone-nojs.png'), fullPage: true });
  await Promise.all([page.waitForNavigation(), page.click('[data-testid=revoke-execute]')]);
  assert.match(page.url(), /\/admin\/users\?done=revoke/);
  assert.equal(await page.locator('[data-testid=bulk-result][data-ok=true]').count(), 1);
  await ctx.close();
});

test('CA & revocation view at phone size, with and without JavaScript', async () => {
  for (const js of [true, false]) {
    const ctx = await browser.newContext({ ...PHONE, javaScriptEnabled: js, locale: js ? 'ja-JP' : 'en-US' });
    const page = await ctx.newPage();
    await signIn(page, js);
    await page.goto(`${portal.base}/admin/ca`);
    if (js) await waitHydrated(page);
    assert.equal(await page.locator('[data-testid=ca-card]').count(), 1);
    // kondo's certificate was revoked in the first test.
    assert.equal(await page.textContent('[data-testid=crl-entries]'), '1');
    assert.match(await page.textContent('[data-testid=ocsp-ready]'), js ? /応答中/ : /answering/);
    await page.screenshot({ path: path.join(SHOTS, `admin-ca-phone-${js ? 'ja' : 'nojs'}.png`), fullPage: true });
    await ctx.close();
  }
});

/** Creates and activates a user; returns their session cookie and id. */
async function activatedUser(login) {
  const { json: link } = await api(portal, 'admin_create_user', { login, display_name: `${login} san`, email: `${login}@example.com` }, adminCookie);
  const token = link.split('/').pop();
  const { headers } = await api(portal, 'activate', { token, password: PASSWORD });
  return headers.get('set-cookie').split(';')[0];
}

test('settings, approvals, the user page and the history (JavaScript desktop, then phone without)', async () => {
  const ctx = await browser.newContext({ ...DESKTOP, locale: 'en-US' });
  const page = await ctx.newPage();
  await signIn(page, true);
  // Settings: approval mode (JavaScript).
  await page.click('a[href="/admin/settings"]');
  await page.waitForSelector('[data-testid=settings-form]');
  await waitHydrated(page);
  await page.check('[data-testid=mode-approval]');
  // Within the input's own limits but above the maximum validity: the server names it.
  await page.fill('#default_validity_days', '900');
  await page.click('[data-testid=save-settings]');
  await page.waitForSelector('[data-testid=settings-error]');
  assert.equal(await page.getAttribute('[data-testid=settings-error]', 'data-code'), 'default_validity_range');
  assert.match(await page.textContent('[data-testid=settings-error]'), /Default validity: at least 1 day and at most the maximum validity/);
  await page.fill('#default_validity_days', '365');
  await page.fill('#link_lifetime_minutes', '20');
  await page.click('[data-testid=save-settings]');
  await page.waitForSelector('[data-testid=settings-saved]');

  // A user's request now waits; the admin approves it.
  const olga = await activatedUser('olga');
  await api(portal, 'request_certificate', { device_label: 'Pixel' }, olga);
  await page.goto(`${portal.base}/admin/approvals`);
  await waitHydrated(page);
  assert.equal(await page.locator('[data-testid=pending]').count(), 1);
  await page.screenshot({ path: path.join(SHOTS, 'admin-approvals-desktop.png'), fullPage: true });
  await page.click('[data-testid=pending][data-login=olga] [data-testid=approve]');
  await page.waitForSelector('[data-testid=decided]');
  await page.waitForSelector('[data-testid=no-pending]');
  await ctx.close();

  // Without JavaScript, at phone size: the user page, a flag change, lost device, history.
  const phone = await browser.newContext({ ...PHONE, javaScriptEnabled: false, locale: 'ja-JP' });
  const p = await phone.newPage();
  await signIn(p, false);
  await p.goto(`${portal.base}/admin/users?q=olga`);
  await Promise.all([p.waitForNavigation(), p.click('[data-testid=user-row][data-login=olga] a')]);
  assert.match(await p.textContent('[data-testid=user-name]'), /olga/);
  assert.equal(await p.getAttribute('[data-testid=admin-cert]', 'data-state'), 'ready');
  await p.selectOption('#f-reissue', 'off');
  await Promise.all([p.waitForNavigation(), p.click('[data-testid=save-user]')]);
  assert.match(p.url(), /saved=1/);
  assert.equal(await p.inputValue('#f-reissue'), 'off');
  await p.fill('#lost-pw', PASSWORD);
  await p.check('[data-testid=lost-form] input[name=confirm]');
  await Promise.all([p.waitForNavigation(), p.click('[data-testid=lost-device]')]);
  assert.match(p.url(), /lost=1/);
  await p.waitForSelector('[data-testid=lost-done]');
  await p.screenshot({ path: path.join(SHOTS, 'admin-user-phone-nojs-ja.png'), fullPage: true });
  await p.goto(`${portal.base}/admin/history?user=olga`);
  const actions = await p.$$eval('[data-testid=history-row]', (rows) => rows.map((r) => r.dataset.action));
  assert.ok(actions.includes('user.lost_device') && actions.includes('enrollment.approve') && actions.includes('user.update'), actions.join());
  assert.equal(await p.getAttribute('[data-testid=history-csv]', 'href'), '/admin/history.csv?user=olga&actor=&action=&from=&to=');
  await p.screenshot({ path: path.join(SHOTS, 'admin-history-phone-nojs-ja.png'), fullPage: true });
  await phone.close();
});
