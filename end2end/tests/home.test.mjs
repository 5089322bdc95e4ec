// The start page in a real browser: server rendering without WebAssembly, the language switch
// with and without JavaScript, phone and desktop layouts, and the first-admin setup form.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startPortal, launchBrowser, waitHydrated, PHONE, DESKTOP, SHOTS } from '../support/portal.mjs';

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

const EN_TAGLINE = 'Client certificates for your devices, renewed by you.';
const JA_TAGLINE = '端末のクライアント証明書を、ご自身で更新できます。';

test('the start page is plain HTML, no WebAssembly; the language switch posts and comes back (JavaScript on, desktop)', async () => {
  const ctx = await browser.newContext({ ...DESKTOP, locale: 'en-US' });
  const page = await ctx.newPage();
  const errors = [];
  const loaded = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('request', (r) => loaded.push(new URL(r.url()).pathname));
  await page.goto(`${portal.base}/`);
  await waitHydrated(page);
  assert.equal(await page.getAttribute('html', 'data-wasm'), 'none');
  assert.deepEqual(loaded.filter((p) => p.startsWith('/pkg/') && !p.endsWith('.css')), [], 'no WebAssembly, no glue');
  assert.equal(await page.locator('leptos-island').count(), 0);
  assert.equal(await page.textContent('[data-testid=tagline]'), EN_TAGLINE);
  assert.match(await page.textContent('[data-testid=ca-subject]'), /certportal CA/);
  await Promise.all([page.waitForNavigation(), page.click('[data-testid=lang-switch]')]);
  assert.equal(await page.textContent('[data-testid=tagline]'), JA_TAGLINE);
  assert.equal(await page.getAttribute('html', 'lang'), 'ja');
  assert.equal(new URL(page.url()).pathname, '/', 'back on the same page');
  // The choice is remembered by the server for the next page load.
  await page.reload();
  assert.equal(await page.textContent('[data-testid=tagline]'), JA_TAGLINE);
  await page.screenshot({ path: path.join(SHOTS, 'home-desktop-ja.png'), fullPage: true });
  assert.deepEqual(errors, []);
  await ctx.close();
});

test('works without JavaScript: reading and switching language by form post', async () => {
  const ctx = await browser.newContext({ ...DESKTOP, javaScriptEnabled: false, locale: 'en-US' });
  const page = await ctx.newPage();
  await page.goto(`${portal.base}/`);
  assert.equal(await page.textContent('[data-testid=tagline]'), EN_TAGLINE);
  assert.match(await page.textContent('[data-testid=ca-subject]'), /certportal CA/);
  await Promise.all([page.waitForNavigation(), page.click('[data-testid=lang-switch]')]);
  assert.equal(await page.textContent('[data-testid=tagline]'), JA_TAGLINE);
  assert.equal(await page.getAttribute('html', 'lang'), 'ja');
  await ctx.close();
});

test('phone size: Japanese from the browser language, no sideways scrolling', async () => {
  for (const js of [true, false]) {
    const ctx = await browser.newContext({ ...PHONE, javaScriptEnabled: js, locale: 'ja-JP' });
    const page = await ctx.newPage();
    await page.goto(`${portal.base}/`);
    if (js) await waitHydrated(page);
    assert.equal(await page.textContent('[data-testid=tagline]'), JA_TAGLINE);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `page is ${overflow}px wider than the phone`);
    // Touch targets of the switch are at least 44 px high.
    const box = await page.locator('[data-testid=lang-switch]').boundingBox();
    assert.ok(box.height >= 44, `language button is ${box.height}px high`);
    await page.screenshot({ path: path.join(SHOTS, `home-phone-${js ? 'js' : 'nojs'}.png`), fullPage: true });
    await ctx.close();
  }
});

test('first-admin setup: an error without JavaScript, then success with it', async () => {
  const nojs = await browser.newContext({ ...PHONE, javaScriptEnabled: false, locale: 'en-US' });
  let page = await nojs.newPage();
  await page.goto(portal.setupLink);
  await page.fill('#login', 'admin');
  await page.fill('#display_name', 'First Admin');
  await page.fill('#email', 'admin@example.com');
  // The browser's own minlength check would stop a short password; remove it to prove the
  // server refuses it too.
  await page.fill('#password', 'short');
  await page.evaluate(() => document.querySelector('#password').removeAttribute('minlength'));
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit].primary')]);
  assert.match(await page.textContent('[role=alert]'), /12 characters/);
  await page.screenshot({ path: path.join(SHOTS, 'setup-phone-error.png'), fullPage: true });
  await nojs.close();

  const js = await browser.newContext({ ...DESKTOP, locale: 'en-US' });
  page = await js.newPage();
  await page.goto(portal.setupLink);
  await waitHydrated(page);
  await page.fill('#login', 'admin');
  await page.fill('#display_name', 'First Admin');
  await page.fill('#email', 'admin@example.com');
  await page.fill('#password', 'correct horse battery');
  await page.click('button[type=submit].primary');
  await page.waitForSelector('[data-testid=setup-done]');
  // The link is now spent.
  await page.goto(portal.setupLink);
  await page.waitForSelector('[role=alert]');
  assert.match(await page.textContent('[role=alert]'), /invalid, already used or expired/);
  await js.close();
});
