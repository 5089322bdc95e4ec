// What a walk-through as administrator, desktop user and phone user found (issue 16), each
// step written to fail before its fix: a bulk Create that fails keeps the selection, shows
// the error and sends on retry what the screen shows; a double tap on the download is not
// an error; the history finds sign-ins; the 404 page is styled and knows who is signed in;
// the language switch without JavaScript stays on the page; a rejected request shows the
// administrator's note; times in the reader's zone; finished dangerous forms reset; who has not
// activated yet.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startPortal, launchBrowser, waitHydrated, api, firstAdmin, signInForm, updatePolicy, PHONE, DESKTOP, SHOTS } from '../support/portal.mjs';

let portal;
let browser;
let adminCookie;
const PASSWORD = 'correct horse battery staple';

/** Creates and activates a user; returns their session cookie. */
async function user(login) {
  const { json: link } = await api(portal, 'admin_create_user', { login, display_name: `${login} San`, email: `${login}@example.com` }, adminCookie);
  const token = String(link.url ?? link).split('/').pop();
  const { headers } = await api(portal, 'activate', { token, password: PASSWORD });
  return headers.get('set-cookie').split(';')[0];
}

/** A pickup link and its PIN for a new request of `cookie`'s user. */
async function pickupLink(cookie, device) {
  const { json: entry } = await api(portal, 'request_certificate', { device_label: device }, cookie);
  const { json: answer } = await api(portal, 'show_renewal_link', { entry }, cookie);
  return answer.Link;
}

before(async () => {
  portal = await startPortal();
  browser = await launchBrowser();
  adminCookie = await firstAdmin(portal, PASSWORD);
});

after(async () => {
  await browser?.close();
  await portal?.stop();
});

const signIn = (page, js, next = '/admin/users') => signInForm(page, portal, { password: PASSWORD, js, next });

test('bulk Create: a refused run comes back with the same users ticked and says why; the retry sends what is on screen', async () => {
  await user('sato');
  const ctx = await browser.newContext({ ...DESKTOP, locale: 'en-US' });
  const page = await ctx.newPage();
  await signIn(page, true);
  const row = '[data-testid=user-row][data-login="sato"] input[type=checkbox]';
  const defaultEnd = await page.inputValue('#b-not-after');
  await page.check(row);
  await page.check('[data-testid=remove-existing]');
  await page.fill('#b-password', PASSWORD);
  await page.fill('#b-not-after', '2020-01-01');
  await Promise.all([page.waitForURL(/error=/), page.click('[data-testid=bulk-create]')]);
  await waitHydrated(page);
  const error = page.locator('[data-testid=bulk-error]');
  assert.match(await error.textContent(), /date/i);
  assert.equal(await page.locator('[data-testid=bulk-results]').count(), 0, 'no empty results box');
  assert.equal(await page.isChecked(row), true, 'the selection survives the error');
  assert.equal(await page.isChecked('[data-testid=remove-existing]'), true);
  assert.equal(await page.inputValue('#b-not-after'), '2020-01-01', 'the date as it was sent');
  assert.equal(await page.inputValue('#b-password'), '', 'never the password');
  assert.doesNotMatch(page.url(), /password|horse/);

  // The retry: what the screen shows is what is sent.
  await page.fill('#b-not-after', defaultEnd);
  await page.fill('#b-password', PASSWORD);
  await Promise.all([page.waitForURL(/done=create/), page.click('[data-testid=bulk-create]')]);
  await page.waitForSelector('[data-testid=bulk-results]');
  const results = await page.$$eval('[data-testid=bulk-result]', (li) => li.map((l) => [l.querySelector('strong').textContent, l.dataset.ok]));
  assert.deepEqual(results, [['sato', 'true']]);
  const { json: history } = await api(portal, 'admin_history', { 'filter[user]': 'sato', 'filter[action]': 'enrollment.create' }, adminCookie);
  assert.equal(history.items.length, 1, JSON.stringify(history.items));
  assert.match(history.items[0].detail, /remove_existing=true/);
  await ctx.close();
});

test('the history finds sign-ins with the filter it offers (no JavaScript)', async () => {
  const ctx = await browser.newContext({ ...DESKTOP, locale: 'en-US', javaScriptEnabled: false });
  const page = await ctx.newPage();
  await signIn(page, false, '/admin/history');
  await page.selectOption('#h-action', 'auth.login');
  await Promise.all([page.waitForURL(/action=auth\.login/), page.click('[data-testid=history-filter] button[type=submit]')]);
  const actions = await page.$$eval('[data-testid=history-row]', (rows) => rows.map((r) => r.dataset.action));
  assert.ok(actions.length > 0, 'sign-ins are found');
  assert.ok(actions.every((a) => a === 'auth.login'), actions.join());
  await ctx.close();
});

test('a page that does not exist is styled and knows who is signed in', async () => {
  const ctx = await browser.newContext({ ...DESKTOP, locale: 'en-US', javaScriptEnabled: false });
  const page = await ctx.newPage();
  await signIn(page, false, '/account');
  const r = await page.goto(`${portal.base}/no-such-page`);
  assert.equal(r.status(), 404);
  const bg = await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
  assert.equal(bg, 'rgb(246, 247, 249)', 'the stylesheet applies');
  assert.equal(await page.locator('[data-testid=nav-certificates]').count(), 1);
  assert.equal(await page.locator('[data-testid=nav-sign-in]').count(), 0);
  await page.screenshot({ path: path.join(SHOTS, 'not-found-desktop.png') });
  await ctx.close();
});

test('without JavaScript the language switch stays on the page (the phone keeps its pickup page)', async () => {
  const cookie = await user('suzuki');
  const { url } = await pickupLink(cookie, 'Pixel');
  const ctx = await browser.newContext({ ...PHONE, locale: 'en-US', javaScriptEnabled: false });
  const page = await ctx.newPage();
  await page.goto(url);
  await Promise.all([page.waitForNavigation(), page.click('[data-testid=lang-switch]')]);
  assert.equal(new URL(page.url()).pathname, new URL(url).pathname, page.url());
  assert.equal(await page.getAttribute('html', 'lang'), 'ja');
  assert.equal(await page.locator('[data-testid=pin-form]').count(), 1);
  await ctx.close();
});

for (const js of [true, false]) {
  test(`a double tap on the download delivers once and says so (JavaScript ${js ? 'on' : 'off'})`, async () => {
    const cookie = await user(js ? 'tanaka' : 'takeda');
    const { url, pin } = await pickupLink(cookie, 'Galaxy');
    const ctx = await browser.newContext({
      ...PHONE,
      userAgent: 'Mozilla/5.0 (Linux; Android 14; SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36',
      locale: 'en-US',
      javaScriptEnabled: js,
      acceptDownloads: true,
    });
    const page = await ctx.newPage();
    await page.goto(url);
    if (js) await waitHydrated(page);
    await page.fill('[data-testid=pin-input]', pin);
    await Promise.all([page.waitForURL(/unlocked=1/), page.click('[data-testid=pin-submit]')]);
    if (js) await waitHydrated(page);
    const downloads = [];
    page.on('download', (d) => downloads.push(d));
    if (js) {
      // A double tap: the second does nothing while the bundle is made, then the page says so.
      await page.locator('[data-testid=download]').dblclick();
    } else {
      // Without JavaScript the page stays as it was after the download; the second tap comes
      // back to it, which now says "downloaded" instead of "already used".
      const [first] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=download]')]);
      await first.path();
      await Promise.all([page.waitForNavigation(), page.click('[data-testid=download]')]);
    }
    await page.waitForSelector('[data-testid=pickup-downloaded]', { timeout: 20_000 });
    assert.equal(downloads.length, 1, 'one certificate');
    assert.equal(await page.locator('[data-testid=pickup-error]').count(), 0, 'no "already used" error');
    await page.screenshot({ path: path.join(SHOTS, `pickup-downloaded-${js ? 'js' : 'nojs'}.png`), fullPage: true });
    await ctx.close();
  });
}

test('the history speaks the reader\'s language and shows dates, not Unix seconds (Japanese, no JavaScript)', async () => {
  const ctx = await browser.newContext({ ...DESKTOP, locale: 'ja-JP', javaScriptEnabled: false });
  const page = await ctx.newPage();
  await signIn(page, false, '/admin/history');
  await page.goto(`${portal.base}/admin/history?action=link.`);
  const rows = page.locator('[data-testid=history-row][data-action="link.create"]');
  assert.ok(await rows.count() > 0);
  assert.equal(await rows.first().locator('[data-testid=history-action]').textContent(), '受け取りリンクの作成');
  const details = await page.$$eval('[data-testid=history-detail]', (cells) => cells.map((c) => c.textContent));
  assert.ok(details.some((d) => /expires_at=20\d\d-/.test(d)), details.join('\n'));
  assert.ok(details.every((d) => !/=\d{10}(\s|$)/.test(d)), details.join('\n'));
  await page.screenshot({ path: path.join(SHOTS, 'history-desktop-ja.png'), fullPage: true });
  await ctx.close();
});

test('after the phone picks up, the desktop says when and how, keeps the PIN for the install, and starts no renewal by accident', async () => {
  const cookie = await user('ito');
  const { json: entry } = await api(portal, 'request_certificate', { device_label: 'Pixel 8' }, cookie);
  const desk = await browser.newContext({ ...DESKTOP, locale: 'en-US' });
  await desk.addCookies([{ name: cookie.split('=')[0], value: cookie.split('=')[1], url: portal.base }]);
  const page = await desk.newPage();
  await page.goto(`${portal.base}/certificates/${entry}/link`);
  await waitHydrated(page);
  await page.click('[data-testid=make-link]');
  await page.waitForSelector('[data-testid=link-panel]');
  const url = await page.inputValue('[data-testid=link-url]');
  const pin = await page.getAttribute('[data-testid=pin]', 'data-pin');

  const phone = await browser.newContext({
    ...PHONE,
    userAgent: 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36',
    acceptDownloads: true,
  });
  const p = await phone.newPage();
  await p.goto(url);
  await p.fill('[data-testid=pin-input]', pin);
  await Promise.all([p.waitForURL(/unlocked=1/), p.click('[data-testid=pin-submit]')]);
  await Promise.all([p.waitForEvent('download'), p.click('[data-testid=download]')]);
  await phone.close();

  // Live: picked up, when and as what; the PIN stays for Android's install step.
  await page.waitForSelector('[data-testid=link-status]:has-text("Picked up")', { timeout: 20_000 });
  assert.match(await page.textContent('[data-testid=picked-kind]'), /\.p12/);
  assert.equal(await page.getAttribute('[data-testid=pin-after-pickup]', 'data-pin'), pin);
  assert.equal(await page.locator('[data-testid=link-panel]').count(), 0, 'no QR code of a spent link');
  // After a reload too, and no button that starts another renewal in passing.
  await page.reload();
  await waitHydrated(page);
  assert.equal(await page.getAttribute('[data-testid=pin-after-pickup]', 'data-pin'), pin);
  assert.equal(await page.isVisible('[data-testid=make-link]'), false);
  await page.click('[data-testid=another-renewal] summary');
  assert.equal(await page.isVisible('[data-testid=make-link]'), true);
  await page.screenshot({ path: path.join(SHOTS, 'picked-up-desktop.png'), fullPage: true });
  await desk.close();
});

test('onboarding: after setup the header leads to Administration; a new user is made at the top, its link copied, its login shown', async () => {
  // A portal of its own, to go through the first-admin setup in the browser.
  const fresh = await startPortal();
  try {
    const ctx = await browser.newContext({ ...DESKTOP, locale: 'en-US', permissions: ['clipboard-read', 'clipboard-write'] });
    const page = await ctx.newPage();
    await page.goto(fresh.setupLink);
    await waitHydrated(page);
    await page.fill('#login', 'boss');
    await page.fill('#display_name', 'Boss');
    await page.fill('#email', 'boss@example.com');
    await page.fill('#password', PASSWORD);
    await page.click('[data-testid=setup-form] button[type=submit]');
    await page.waitForSelector('[data-testid=setup-done]');
    await page.waitForSelector('[data-testid=nav-admin]');
    assert.equal(await page.locator('[data-testid=nav-sign-in]').count(), 0, 'signed in, in the header too');
    await Promise.all([page.waitForURL(/\/admin\/users$/), page.click('[data-testid=to-admin]')]);
    await waitHydrated(page);
    // "Create a user" comes before the directory.
    const create = await page.locator('#create-user').boundingBox();
    const table = await page.locator('[data-testid=user-table]').boundingBox();
    assert.ok(create.y < table.y, 'create a user is at the top');
    await page.click('#create-user summary');
    await page.fill('#u-login', 'ota');
    await page.fill('#u-name', 'Ota Yu');
    await page.fill('#u-email', 'ota@example.com');
    await page.click('#create-user button[type=submit]');
    const link = await page.locator('[data-testid=activation-link]');
    await link.waitFor();
    const url = await link.inputValue();
    assert.match(url, /\/activate\/[0-9a-f]+$/);
    await page.click('[data-copy=activation-url]');
    await page.waitForSelector('#create-user .copy-status:has-text("Copied")');
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), url, 'the link is on the clipboard');
    await ctx.close();

    const invited = await browser.newContext({ ...PHONE, locale: 'ja-JP', javaScriptEnabled: false });
    const p = await invited.newPage();
    await p.goto(url);
    assert.equal(await p.textContent('[data-testid=activation-login]'), 'ota');
    await p.goto(`${fresh.base}/login`);
    assert.match(await p.textContent('[data-testid=forgot-hint]'), /管理者/);
    await invited.close();
  } finally {
    await fresh.stop();
  }
});

test('small things: a device name is only a name, Escape closes the menu, lost device names what it cuts off', async () => {
  const cookie = await user('hayashi');
  const { url } = await pickupLink(cookie, 'iPhone 15');
  const android = await browser.newContext({
    ...PHONE,
    userAgent: 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36',
  });
  const a = await android.newPage();
  await a.goto(url);
  assert.match(await a.textContent('[data-testid=label-is-a-name]'), /only the name/);
  await android.close();

  const ctx = await browser.newContext({ ...DESKTOP, locale: 'en-US' });
  await ctx.addCookies([{ name: cookie.split('=')[0], value: cookie.split('=')[1], url: portal.base }]);
  const page = await ctx.newPage();
  await page.goto(`${portal.base}/certificates`);
  await waitHydrated(page);
  await page.click('[data-testid=cert-menu]');
  assert.equal(await page.locator('details.menu[open]').count(), 1);
  await page.keyboard.press('Escape');
  assert.equal(await page.locator('details.menu[open]').count(), 0);
  await page.goto(`${portal.base}/lost-device`);
  assert.match(await page.textContent('[data-testid=lost-devices]'), /iPhone 15/);
  await ctx.close();
});

test('layout: data pages use the width they need at 1366 px; at 390 px the status shows and touch targets are 44 px', async () => {
  const wide = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'en-US' });
  const page = await wide.newPage();
  await signIn(page, true);
  const fits = () => page.evaluate(() => [...document.querySelectorAll('.table-wrap')].every((w) => w.scrollWidth <= w.clientWidth + 1));
  assert.ok(await fits(), 'the directory is not clipped');
  await page.goto(`${portal.base}/admin/history`);
  await waitHydrated(page);
  assert.ok(await page.evaluate(() => document.scrollingElement.scrollWidth <= innerWidth), 'no sideways scrolling');
  const search = await page.locator('[data-testid=history-filter] button[type=submit]').boundingBox();
  assert.ok(search.x + search.width <= 1366, 'the Search button is on screen');
  await page.screenshot({ path: path.join(SHOTS, 'history-1366.png') });
  await wide.close();

  const phone = await browser.newContext({ ...PHONE, locale: 'ja-JP' });
  const p = await phone.newPage();
  await signIn(p, true);
  const status = await p.locator('[data-testid=user-row] [data-testid=user-status]').first().boundingBox();
  assert.ok(status.x + status.width <= 390, `the status column shows (${status.x + status.width})`);
  const hit = await p.locator('[data-testid=user-row] label.hit').first().boundingBox();
  assert.ok(hit.width >= 44 && hit.height >= 44, `row checkbox target ${hit.width}×${hit.height}`);
  await p.screenshot({ path: path.join(SHOTS, 'directory-phone-ja.png') });
  // Two rows of 44 px targets (brand and language; the links): three would be over 160 px.
  const header = await p.locator('header.topbar').boundingBox();
  assert.ok(header.height <= 130, `the signed-in header takes ${header.height}px`);
  await p.goto(`${portal.base}/certificates`);
  const lost = await p.locator('[data-testid=lost-link]').boundingBox();
  assert.ok(lost.height >= 44, `lost device link ${lost.height}px`);
  await phone.close();
});

test('states and titles say what they are (Japanese, phone): cancelled, from the administrator, waiting for her, the limit', async () => {
  const cookie = await user('kobayashi');
  // The administrator creates one for her (no device name); she requests and cancels another.
  const { json: dir } = await api(portal, 'admin_directory', { q: 'kobayashi' }, adminCookie);
  const id = dir.users[0].id;
  await api(portal, 'admin_bulk_create', { 'users[]': id }, adminCookie);
  const { json: mine } = await api(portal, 'request_certificate', { device_label: 'iPad' }, cookie);
  await api(portal, 'revoke_entry', { entry: mine, reason: 'cessationOfOperation' }, cookie);
  const ctx = await browser.newContext({ ...PHONE, locale: 'ja-JP' });
  await ctx.addCookies([{ name: cookie.split('=')[0], value: cookie.split('=')[1], url: portal.base }]);
  const page = await ctx.newPage();
  await page.goto(`${portal.base}/certificates?all=1`);
  await waitHydrated(page);
  const cancelled = page.locator(`[data-entry="${mine}"]`);
  assert.equal(await cancelled.locator('[data-testid=cert-state]').textContent(), '取り消し済');
  const fromAdmin = page.locator('[data-testid=cert][data-state=ready]');
  assert.equal(await fromAdmin.locator('h3').textContent(), '管理者が発行した証明書');
  // SPEC's word for the state stays; the card says that it waits for her.
  assert.equal(await fromAdmin.locator('[data-testid=cert-state]').textContent(), '発行待ち');
  assert.match(await fromAdmin.locator('[data-testid=ready-hint]').textContent(), /あなたの操作待ちです/);
  assert.match(await page.textContent('[data-testid=limit-hint]'), /上限:\s*\d+/);
  await page.screenshot({ path: path.join(SHOTS, 'states-phone-ja.png'), fullPage: true });
  await ctx.close();
});

test('a rejected request shows the administrator\'s note to the user (Japanese, phone)', async () => {
  const cookie = await user('yamada');
  await updatePolicy(portal, adminCookie, PASSWORD, { distribution_mode: 'approval' });
  const { json: entry } = await api(portal, 'request_certificate', { device_label: '私物スマホ' }, cookie);
  await api(portal, 'admin_decide', { enrollment: entry, decision: 'reject', note: '会社支給の端末で申請してください' }, adminCookie);
  const ctx = await browser.newContext({ ...PHONE, locale: 'ja-JP' });
  await ctx.addCookies([{ name: cookie.split('=')[0], value: cookie.split('=')[1], url: portal.base }]);
  const page = await ctx.newPage();
  // SPEC rule 4: a rejected request is listed with "Show all"; there it carries the note.
  await page.goto(`${portal.base}/certificates?all=1`);
  await waitHydrated(page);
  const card = page.locator(`[data-entry="${entry}"]`);
  assert.match(await card.locator('[data-testid=rejection-note]').textContent(), /会社支給の端末で申請してください/);
  await page.screenshot({ path: path.join(SHOTS, 'rejected-note-phone-ja.png'), fullPage: true });
  await ctx.close();
  await updatePolicy(portal, adminCookie, PASSWORD, { distribution_mode: 'auto' });
});

test('times are local: the phone shows its own zone with JavaScript, the account\'s choice applies without, and it follows the user', async () => {
  const cookie = await user('kimura');
  const link = await pickupLink(cookie, 'Pixel 9');
  // Tokyo wall clock of the link's end, as `YYYY-MM-DD HH:MM`.
  const tokyo = new Intl.DateTimeFormat('sv-SE', { timeZone: 'Asia/Tokyo', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
    .format(new Date(link.expires_at * 1000));
  // The phone, in Japanese, in Tokyo, with JavaScript: the first page teaches the portal the zone.
  const phone = await browser.newContext({ ...PHONE, locale: 'ja-JP', timezoneId: 'Asia/Tokyo' });
  const p = await phone.newPage();
  await p.goto(`${portal.base}/`);
  await waitHydrated(p);
  await p.goto(link.url);
  await waitHydrated(p);
  const until = p.locator('[data-testid=link-until]');
  assert.ok((await until.textContent()).trim().startsWith(`${tokyo} (UTC+9) (`), await until.textContent());
  assert.match(await until.textContent(), /\d+分後/);
  const label = await p.locator('dt', { hasText: 'このリンクの有効期限' }).count();
  assert.equal(label, 1, 'the label names the link, not the certificate');
  await p.screenshot({ path: path.join(SHOTS, 'pickup-phone-ja-tokyo.png'), fullPage: true });
  await phone.close();

  // A desktop without JavaScript: the portal's zone (UTC) until the user chooses one.
  const desk = await browser.newContext({ ...DESKTOP, locale: 'en-US', javaScriptEnabled: false, timezoneId: 'America/New_York' });
  const d = await desk.newPage();
  await signInForm(d, portal, { login: 'kimura', password: PASSWORD, js: false, next: '/account' });
  assert.match(await d.textContent('[data-testid=zone-now]'), /UTC$/);
  const created = d.locator('[data-testid=history-row] td').first();
  assert.match(await created.textContent(), / UTC$/);
  await d.selectOption('[data-testid=zone-select]', 'America/New_York');
  await Promise.all([d.waitForURL(/zone=saved/), d.click('form[data-zone-form] button[type=submit]')]);
  await d.waitForSelector('[data-testid=zone-saved]');
  assert.match(await d.textContent('[data-testid=zone-now]'), /America\/New_York \(UTC-[45]\)/);
  await d.screenshot({ path: path.join(SHOTS, 'account-zone-desktop-nojs.png'), fullPage: true });
  assert.match(await d.locator('[data-testid=history-row] td').first().textContent(), /\(UTC-[45]\)$/);
  await d.goto(`${portal.base}/certificates`);
  assert.match(await d.locator('dd', { hasText: '(UTC-' }).first().textContent(), /\(UTC-[45]\)/);
  await desk.close();

  // The choice follows the user to a new browser (sign-in sets it) and beats the browser's zone.
  const other = await browser.newContext({ ...DESKTOP, locale: 'en-US', timezoneId: 'Asia/Tokyo' });
  const o = await other.newPage();
  await signInForm(o, portal, { login: 'kimura', password: PASSWORD, js: true, next: '/account' });
  assert.match(await o.textContent('[data-testid=zone-now]'), /America\/New_York/);
  await o.reload();
  await waitHydrated(o);
  assert.match(await o.textContent('[data-testid=zone-now]'), /America\/New_York/, 'the script keeps a chosen zone');
  // Automatic again: this browser's zone from the next page on.
  await o.selectOption('[data-testid=zone-select]', '');
  await Promise.all([o.waitForURL(/zone=saved/), o.click('form[data-zone-form] button[type=submit]')]);
  await waitHydrated(o);
  assert.match(await o.textContent('[data-testid=zone-now]'), /Asia\/Tokyo \(UTC\+9\)/);
  await other.close();
});

test('finished dangerous actions leave nothing armed, show the new state, and offer the passkey check (JavaScript)', async () => {
  const single = await user('nakamura');
  await pickupLink(single, 'Pixel 7');
  await user('fujita');
  const ctx = await browser.newContext({ ...DESKTOP, locale: 'en-US', acceptDownloads: true });
  const page = await ctx.newPage();
  await signIn(page, true);

  // One certificate revoked from the user's page: the form goes with the revoked entry.
  await Promise.all([page.waitForURL(/\/admin\/users\/\w+/), page.click('[data-testid=user-row][data-login="nakamura"] a')]);
  await waitHydrated(page);
  const card = page.locator('[data-testid=admin-cert]').first();
  await card.locator('summary').click();
  assert.ok(await card.locator('[data-testid=passkey-confirm]').isVisible(), 'the passkey check beside the password');
  await card.locator('input[type=password]').fill(PASSWORD);
  await card.locator('[data-testid=revoke-one]').click();
  await page.waitForSelector('[data-testid=revoked]');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=revoke-one]').length === 0);
  assert.deepEqual(await page.$$eval('input[type=password]', (xs) => xs.map((x) => x.value).filter(Boolean)), [], 'no password left in any form');

  // Create & Download: the ZIP arrives, the page says so and shows the new state.
  await page.goto(`${portal.base}/admin/users`);
  await waitHydrated(page);
  const row = '[data-testid=user-row][data-login="fujita"]';
  assert.equal((await page.textContent(`${row} [data-testid=user-status]`)).trim(), 'Not issued');
  await page.check(`${row} input[type=checkbox]`);
  await page.fill('#b-password', PASSWORD);
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=bulk-download]')]);
  assert.match(download.suggestedFilename(), /\.zip$/);
  await page.waitForSelector('[data-testid=bulk-downloaded]');
  assert.match(await page.textContent('[data-testid=bulk-downloaded]'), /^1 certificates made and downloaded/);
  await page.waitForFunction((r) => document.querySelector(`${r} [data-testid=user-status]`)?.textContent.trim() !== 'Not issued', row);
  assert.equal(await page.inputValue('#b-password'), '', 'the password is not left in the form');
  assert.equal(await page.isChecked(`${row} input[type=checkbox]`), false);

  // Revoked from the revocation page: the directory with the results and the new states.
  await page.goto(`${portal.base}/admin/users`);
  await waitHydrated(page);
  await page.check('[data-testid=user-row][data-login="fujita"] input[type=checkbox]');
  await Promise.all([page.waitForURL(/\/admin\/revoke/), page.click('[data-testid=bulk-revoke]')]);
  await waitHydrated(page);
  assert.ok(await page.locator('[data-testid=passkey-confirm]').isVisible());
  await page.fill('#r-password', PASSWORD);
  await Promise.all([page.waitForURL(/\/admin\/users\?done=revoke/), page.click('[data-testid=revoke-execute]')]);
  await page.waitForSelector('[data-testid=bulk-results]');
  assert.equal(await page.locator('[data-testid=revoke-form]').count(), 0, 'the form is put away');
  assert.equal((await page.textContent(`${row} [data-testid=user-status]`)).trim(), 'Revoked');

  // A CA rotation: done, and the tick and the password are gone.
  await page.goto(`${portal.base}/admin/ca`);
  await waitHydrated(page);
  assert.ok(await page.locator('[data-testid=rotate-form] [data-testid=passkey-confirm]').isVisible());
  await page.fill('#ca-name', 'Walkthrough CA 2');
  await page.fill('#ca-password', PASSWORD);
  await page.check('[data-testid=rotate-form] input[name=confirm]');
  await page.click('[data-testid=rotate-ca]');
  await page.waitForSelector('[data-testid=rotated]');
  await page.waitForFunction(() => document.querySelector('#ca-password')?.value === '' && !document.querySelector('[data-testid=rotate-form] input[name=confirm]')?.checked);
  await ctx.close();
});

test('the directory shows who has not activated yet, with the way to a new link (no JavaScript)', async () => {
  await api(portal, 'admin_create_user', { login: 'hirano', display_name: 'Hirano San', email: 'hirano@example.com' }, adminCookie);
  const ctx = await browser.newContext({ ...DESKTOP, locale: 'ja-JP', javaScriptEnabled: false });
  const page = await ctx.newPage();
  await signIn(page, false);
  const badge = page.locator('[data-testid=user-row][data-login="hirano"] [data-testid=not-activated]');
  assert.equal((await badge.textContent()).trim(), '未有効化');
  await page.screenshot({ path: path.join(SHOTS, 'directory-not-activated-ja.png'), fullPage: true });
  assert.equal(await page.locator('[data-testid=user-row][data-login="admin"] [data-testid=not-activated]').count(), 0);
  await Promise.all([page.waitForURL(/#activation$/), badge.click()]);
  await page.fill('#act-pw', PASSWORD);
  await Promise.all([page.waitForURL(/link=1/), page.click('[data-testid=new-activation]')]);
  assert.match(await page.textContent('[data-testid=new-activation-link]'), /\/activate\//);
  await ctx.close();
});
