// The heart of the product in a real browser: request a certificate on the desktop, "Show
// install/renewal URL" with its QR code and PIN, open the link on a phone, prove the PIN
// (a wrong one is counted and shown on the desktop), install (iPhone Safari gets a SCEP
// profile and the device enrolls — played by scepclient —, Android a .p12), the desktop
// follows live, a used link explains itself, revoke, and "I lost my device" — with
// JavaScript on and off, at desktop and phone sizes, in English and Japanese.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startPortal, launchBrowser, waitHydrated, scepEnroll, PHONE, DESKTOP, SHOTS } from '../support/portal.mjs';

let portal;
let browser;
const PASSWORD = 'correct horse battery staple';
const ANDROID = {
  viewport: { width: 360, height: 780 },
  deviceScaleFactor: 2,
  isMobile: true,
  hasTouch: true,
  userAgent:
    'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36',
};

before(async () => {
  portal = await startPortal();
  browser = await launchBrowser();
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

async function signIn(page, js) {
  await page.goto(`${portal.base}/login`);
  if (js) await waitHydrated(page);
  await page.fill('#login', 'admin');
  await page.fill('#password', PASSWORD);
  await Promise.all([page.waitForURL(/\/certificates$/), page.click('form[data-testid=login-form] button[type=submit]')]);
  if (js) await waitHydrated(page);
}

/** Requests a certificate for `device`; returns its entry id. */
async function requestCertificate(page, device, js) {
  await page.fill('#device_label', device);
  if (js) {
    await page.click('form[data-testid=request-form] button[type=submit]');
    await page.waitForSelector(`[data-testid=cert] h3:text-is("${device}")`);
  } else {
    await Promise.all([page.waitForURL(/requested=/), page.click('form[data-testid=request-form] button[type=submit]')]);
  }
  const card = page.locator('[data-testid=cert]', { has: page.locator(`h3:text-is("${device}")`) });
  assert.equal(await card.getAttribute('data-state'), 'ready');
  return card.getAttribute('data-entry');
}

test('desktop with JavaScript: request, QR link, iPhone installs the profile, link then used', async () => {
  const ctx = await browser.newContext({ ...DESKTOP, locale: 'en-US' });
  const page = await ctx.newPage();
  await signIn(page, true);
  assert.equal(await page.locator('[data-testid=no-certs]').count(), 1);
  const entry = await requestCertificate(page, 'iPhone 15', true);
  assert.match(await page.textContent('[data-testid=certs-notice], .cert .success'), /ready to install/);

  // The "⁝" menu offers exactly what the rules allow for a ready enrollment.
  await page.click(`[data-entry="${entry}"] [data-testid=cert-menu]`);
  assert.equal(await page.locator(`[data-entry="${entry}"] [data-testid=show-link]`).textContent(), 'Show install URL');
  await Promise.all([page.waitForURL(/\/link$/), page.click(`[data-entry="${entry}"] [data-testid=show-link]`)]);
  await waitHydrated(page);
  await page.click('[data-testid=make-link]');
  await page.waitForSelector('[data-testid=link-panel]');
  const url = await page.inputValue('[data-testid=link-url]');
  const pin = await page.getAttribute('[data-testid=pin]', 'data-pin');
  assert.match(url, /\/pickup\/[0-9a-f]{64}$/);
  assert.match(pin, /^[2-9A-HJ-NP-Z]{8}$/);
  assert.equal(await page.locator('[data-testid=qr] svg').count(), 1);
  const first = await page.textContent('[data-testid=countdown]');
  assert.match(first, /^1[45]:\d\d$/);
  await page.waitForFunction((f) => document.querySelector('[data-testid=countdown]').textContent !== f, first);
  await page.screenshot({ path: path.join(SHOTS, 'link-desktop-js.png'), fullPage: true });
  // A reload shows the same link again (this browser made it), never to others.
  await page.reload();
  assert.equal(await page.inputValue('[data-testid=link-url]'), url);

  assert.equal(await page.getAttribute('[data-testid=link-status]', 'data-status'), 'waiting');

  // The phone: iPhone Safari first asks for the PIN (which is nowhere on its page).
  const phone = await browser.newContext({ ...PHONE, locale: 'en-US' });
  const p = await phone.newPage();
  await p.goto(url);
  await waitHydrated(p);
  assert.equal(await p.getAttribute('[data-testid=pin-input]', 'autocomplete'), 'one-time-code');
  assert.equal(await p.locator('[data-testid=download]').count(), 0, 'nothing before the PIN');
  assert.equal((await p.content()).includes(pin), false, 'the PIN is not on the phone page');
  // A wrong PIN is refused, says how many tries are left, and the desktop sees it live.
  await p.fill('[data-testid=pin-input]', 'ZZZZ2222');
  await Promise.all([p.waitForURL(/error=pin_wrong/), p.click('[data-testid=pin-submit]')]);
  assert.equal(await p.getAttribute('[data-testid=pickup-error]', 'data-code'), 'pin_wrong');
  assert.match(await p.textContent('[data-testid=pin-left]'), /4$/);
  await page.waitForSelector('[data-testid=pin-failures]', { timeout: 15000 });
  await p.screenshot({ path: path.join(SHOTS, 'pickup-pin-wrong-iphone-js.png'), fullPage: true });
  // The right PIN (typed in lower case with a space) unlocks the installer.
  await p.fill('[data-testid=pin-input]', `${pin.slice(0, 4).toLowerCase()} ${pin.slice(4)}`);
  await Promise.all([p.waitForURL(/unlocked=1/), p.click('[data-testid=pin-submit]')]);
  await waitHydrated(p);
  const dl = p.locator('[data-testid=download]');
  assert.equal(await dl.getAttribute('data-platform'), 'ios_safari');
  assert.match(await p.textContent('[data-testid=steps]'), /Profile Downloaded/);
  assert.match(await p.textContent('[data-testid=scep-next]'), /makes its key/);
  await p.screenshot({ path: path.join(SHOTS, 'pickup-iphone-js.png'), fullPage: true });
  const [download] = await Promise.all([p.waitForEvent('download'), dl.click()]);
  assert.equal(download.suggestedFilename(), 'certportal-admin.mobileconfig');
  const profile = readFileSync(await download.path(), 'utf8');
  assert.match(profile, /<string>com\.apple\.security\.scep<\/string>/);
  assert.doesNotMatch(profile, /com\.apple\.security\.pkcs12|<key>Password<\/key>/);
  const challenge = profile.match(/<key>Challenge<\/key>\s*<string>([^<]+)<\/string>/)[1];
  // The desktop shows that the profile was fetched; nothing is signed before the device enrolls.
  await page.waitForSelector('[data-testid=link-status][data-status=profile]', { timeout: 15000 });

  // The device installs the profile: it makes its key and enrolls with the challenge.
  const enrolled = await scepEnroll(portal.base, challenge, path.join(portal.dataDir, 'iphone'));
  assert.ok(enrolled.ok, enrolled.output);
  await page.waitForSelector('[data-testid=link-status]:has-text("enrolled")', { timeout: 15000 });
  // The spent QR code and PIN are gone; another renewal is a deliberate, plainly named step.
  assert.equal(await page.locator('[data-testid=qr]').count(), 0);
  assert.equal(await page.isVisible('[data-testid=make-link]'), false);
  assert.equal((await page.textContent('[data-testid=make-link]')).trim(), 'Start another renewal');
  await page.screenshot({ path: path.join(SHOTS, 'link-desktop-enrolled.png'), fullPage: true });

  // Used: the same link now says so, and the desktop list shows the issued certificate.
  await p.goto(url);
  assert.equal(await p.getAttribute('[data-testid=pickup-problem]', 'data-code'), 'link_used');
  await p.screenshot({ path: path.join(SHOTS, 'pickup-used-phone.png'), fullPage: true });
  await phone.close();
  await page.goto(`${portal.base}/certificates`);
  await waitHydrated(page);
  const card = page.locator(`[data-entry="${entry}"]`);
  assert.equal(await card.getAttribute('data-state'), 'issued');
  assert.match(await card.locator('[data-testid=cert-serial]').textContent(), /^[0-9A-F]{32}$/);
  await card.locator('[data-testid=cert-menu]').click();
  assert.equal(await card.locator('[data-testid=show-link]').textContent(), 'Show renewal URL');
  await page.screenshot({ path: path.join(SHOTS, 'certificates-desktop-js.png'), fullPage: true });

  // Renewal: the link belongs to the new renewal entry, whose page a reload shows again.
  await Promise.all([page.waitForURL(/\/link$/), card.locator('[data-testid=show-link]').click()]);
  await waitHydrated(page);
  await page.click('[data-testid=another-renewal] summary');
  await Promise.all([page.waitForURL((u) => !u.pathname.includes(entry)), page.click('[data-testid=make-link]')]);
  await page.waitForSelector('[data-testid=link-panel]');
  const renewalUrl = await page.inputValue('[data-testid=link-url]');
  assert.notEqual(renewalUrl, url);
  await page.reload();
  assert.equal(await page.inputValue('[data-testid=link-url]'), renewalUrl);
  assert.match(await page.textContent('h1'), /Renewal URL/);
  // Cancel that renewal again (JavaScript), so the next tests stay under the quota.
  const renewalEntry = new URL(page.url()).pathname.split('/')[2];
  await page.goto(`${portal.base}/certificates/${renewalEntry}/revoke`);
  await waitHydrated(page);
  assert.match(await page.textContent('h1'), /Cancel this request/);
  await Promise.all([page.waitForURL(/revoked=1/), page.click('[data-testid=confirm-revoke]')]);
  await ctx.close();
});

test('phone without JavaScript: request, link, Android .p12, revoke (and Japanese)', async () => {
  const ctx = await browser.newContext({ ...PHONE, javaScriptEnabled: false, locale: 'en-US' });
  const page = await ctx.newPage();
  await signIn(page, false);
  const entry = await requestCertificate(page, 'Pixel', false);
  // <details> opens without JavaScript.
  await page.click(`[data-entry="${entry}"] [data-testid=cert-menu]`);
  await Promise.all([page.waitForURL(/\/link$/), page.click(`[data-entry="${entry}"] [data-testid=show-link]`)]);
  await Promise.all([page.waitForURL(/\/link$/), page.click('[data-testid=make-link]')]);
  await page.waitForSelector('[data-testid=link-panel]');
  const url = await page.inputValue('[data-testid=link-url]');
  const pin = await page.getAttribute('[data-testid=pin]', 'data-pin');
  assert.match(pin, /^[2-9A-HJ-NP-Z]{8}$/);
  assert.equal(await page.locator('[data-copy]').isVisible(), false, 'copy needs JavaScript');
  await page.screenshot({ path: path.join(SHOTS, 'link-phone-nojs.png'), fullPage: true });

  // Android without JavaScript, in Japanese: the PIN form, then a plain download form.
  const phone = await browser.newContext({ ...ANDROID, javaScriptEnabled: false, locale: 'ja-JP' });
  const p = await phone.newPage();
  await p.goto(url);
  assert.match(await p.textContent('label[for=pickup-pin]'), /パソコンに表示されたPIN/);
  await p.screenshot({ path: path.join(SHOTS, 'pickup-pin-android-nojs-ja.png'), fullPage: true });
  await p.fill('[data-testid=pin-input]', pin);
  await Promise.all([p.waitForURL(/unlocked=1/), p.click('[data-testid=pin-submit]')]);
  const dl = p.locator('[data-testid=download]');
  assert.equal(await dl.getAttribute('data-platform'), 'android');
  assert.match(await dl.textContent(), /\.p12/);
  assert.match(await p.textContent('[data-testid=steps]'), /暗号化と認証情報/);
  await p.screenshot({ path: path.join(SHOTS, 'pickup-android-nojs-ja.png'), fullPage: true });
  const [download] = await Promise.all([p.waitForEvent('download'), dl.click()]);
  assert.equal(download.suggestedFilename(), 'certportal-admin.p12');
  assert.ok(readFileSync(await download.path()).length > 500);
  // This phone picked it up: the page says so kindly instead of "already used".
  await p.goto(url);
  assert.equal(await p.locator('[data-testid=pickup-downloaded]').count(), 1);
  await phone.close();
  // The desktop (without JavaScript: on reload) says when it was picked up.
  await page.reload();
  assert.match(await page.textContent('[data-testid=link-status]'), /Picked up at/);

  // Revoke it, after the confirmation page.
  await page.goto(`${portal.base}/certificates`);
  const card = page.locator(`[data-entry="${entry}"]`);
  assert.equal(await card.getAttribute('data-state'), 'issued');
  await page.goto(`${portal.base}/certificates/${entry}/revoke`);
  await page.selectOption('#reason', 'cessationOfOperation');
  await page.screenshot({ path: path.join(SHOTS, 'revoke-phone-nojs.png'), fullPage: true });
  await Promise.all([page.waitForURL(/revoked=1/), page.click('[data-testid=confirm-revoke]')]);
  assert.equal(await page.locator(`[data-entry="${entry}"]`).getAttribute('data-state'), 'revoked');
  assert.match(await page.textContent('[data-testid=certs-notice]'), /final/);
  await page.screenshot({ path: path.join(SHOTS, 'certificates-phone-nojs.png'), fullPage: true });
  await ctx.close();
});

test('iPhone in Chrome is told to open Safari; lost device signs out everywhere (JavaScript, phone)', async () => {
  const ctx = await browser.newContext({ ...PHONE, locale: 'en-US' });
  const page = await ctx.newPage();
  await signIn(page, true);
  const entry = await requestCertificate(page, 'iPad', true);
  await page.goto(`${portal.base}/certificates/${entry}/link`);
  await waitHydrated(page);
  await page.click('[data-testid=make-link]');
  await page.waitForSelector('[data-testid=link-panel]');
  const url = await page.inputValue('[data-testid=link-url]');
  const pin = await page.getAttribute('[data-testid=pin]', 'data-pin');

  const chrome = await browser.newContext({
    ...PHONE,
    userAgent: PHONE.userAgent.replace('Version/18.0', 'CriOS/131.0.6778.73'),
  });
  const c = await chrome.newPage();
  await c.goto(url);
  await waitHydrated(c);
  assert.equal(await c.locator('[data-testid=download]').count(), 0);
  assert.match(await c.textContent('[data-testid=open-in-safari]'), /only be installed from Safari/);
  assert.equal(await c.locator('[data-copy]').isVisible(), true);
  await c.screenshot({ path: path.join(SHOTS, 'pickup-iphone-chrome.png'), fullPage: true });
  await chrome.close();

  await page.goto(`${portal.base}/lost-device`);
  await waitHydrated(page);
  await page.check('[data-testid=lost-confirm]');
  await page.screenshot({ path: path.join(SHOTS, 'lost-device-phone.png'), fullPage: true });
  await Promise.all([page.waitForURL(/\/login\?lost=/), page.click('[data-testid=lost-submit]')]);
  // The open link was voided with everything else: even its right PIN opens nothing.
  const r = await fetch(`${url}/unlock`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ pin }),
  });
  assert.equal(r.status, 303);
  assert.match(r.headers.get('location'), /error=link_voided/);
  await page.goto(`${portal.base}/certificates`);
  assert.equal(await page.locator('[data-testid=cert-list]').count(), 0, 'signed out');
  await ctx.close();
});
