// Bytes on the wire (issue 17), counted as Chromium counts them (CDP
// Network.loadingFinished.encodedDataLength, a cold cache, a phone): the pickup page a phone
// opens from the QR code stays under 60 KiB and loads no WebAssembly; every other page stays
// under 150 KiB; only the link page loads WebAssembly (its islands), precompressed (brotli).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startPortal, launchBrowser, api, firstAdmin, PHONE } from '../support/portal.mjs';

let portal;
let browser;
let adminCookie;
const PASSWORD = 'correct horse battery staple';

before(async () => {
  portal = await startPortal();
  browser = await launchBrowser();
  adminCookie = await firstAdmin(portal, PASSWORD);
});

after(async () => {
  await browser?.close();
  await portal?.stop();
});

/**
 * Opens `url` in a fresh phone context (`times` times in a row, in the same context: a
 * returning visitor); returns { total, byUrl } in bytes on the wire of the last visit.
 */
async function weigh(url, cookie, times = 1) {
  const ctx = await browser.newContext({ ...PHONE, locale: 'ja-JP' });
  if (cookie) await ctx.addCookies([{ name: cookie.split('=')[0], value: cookie.split('=')[1], url: portal.base }]);
  const page = await ctx.newPage();
  const cdp = await ctx.newCDPSession(page);
  await cdp.send('Network.enable');
  const urls = new Map();
  let byUrl = new Map();
  const header = (h, name) => h[name] ?? h[name.replace(/(^|-)./g, (c) => c.toUpperCase())];
  cdp.on('Network.responseReceived', (e) => urls.set(e.requestId, {
    url: e.response.url,
    encoding: header(e.response.headers, 'content-encoding'),
    cache: header(e.response.headers, 'cache-control'),
    fromCache: e.response.fromDiskCache || e.response.fromMemoryCache,
  }));
  cdp.on('Network.loadingFinished', (e) => {
    const r = urls.get(e.requestId);
    if (r) byUrl.set(r.url, { ...r, bytes: r.fromCache ? 0 : e.encodedDataLength });
  });
  for (let i = 0; i < times; i++) {
    byUrl = new Map();
    await page.goto(url, { waitUntil: 'networkidle' });
  }
  await ctx.close();
  const total = [...byUrl.values()].reduce((n, r) => n + r.bytes, 0);
  return { total, byUrl };
}

let userCookie;
let entry;
let pickupUrl;

test('the phone\'s pickup page is under 60 KiB on the wire and loads no WebAssembly', async () => {
  const { json: link } = await api(portal, 'admin_create_user', { login: 'mori', display_name: 'Mori', email: 'mori@example.com' }, adminCookie);
  const token = String(link.url ?? link).split('/').pop();
  const { headers } = await api(portal, 'activate', { token, password: PASSWORD });
  userCookie = headers.get('set-cookie').split(';')[0];
  ({ json: entry } = await api(portal, 'request_certificate', { device_label: 'iPhone' }, userCookie));
  const { json: answer } = await api(portal, 'show_renewal_link', { entry }, userCookie);
  pickupUrl = answer.Link.url;
  const { total, byUrl } = await weigh(pickupUrl);
  const list = [...byUrl].map(([u, r]) => `${r.bytes}\t${r.encoding ?? '-'}\t${new URL(u).pathname.replace(/\/pickup\/[^/]+/, '/pickup/…')}`).join('\n');
  console.log(`pickup page: ${total} bytes on the wire\n${list}`);
  assert.ok(![...byUrl.keys()].some((u) => u.endsWith('.wasm')), list);
  assert.ok(total <= 60 * 1024, `${total} bytes\n${list}`);
});

test('every page is under 150 KiB on the wire; only the link page loads WebAssembly, precompressed', async () => {
  const pages = [
    ['/', undefined],
    ['/login', undefined],
    ['/certificates', userCookie],
    ['/account', userCookie],
    [`/certificates/${entry}/link`, userCookie],
    ['/admin/users', adminCookie],
    ['/admin/settings', adminCookie],
    ['/admin/history', adminCookie],
  ];
  const lines = [];
  for (const [path, cookie] of pages) {
    const { total, byUrl } = await weigh(`${portal.base}${path}`, cookie);
    const wasm = [...byUrl].find(([u]) => u.endsWith('.wasm'));
    lines.push(`${String(total).padStart(7)} B  ${wasm ? `wasm ${wasm[1].bytes} B` : 'no wasm'}  ${path.replace(entry, '<entry>')}`);
    const list = [...byUrl].map(([u, r]) => `${r.bytes}\t${r.encoding ?? '-'}\t${new URL(u).pathname}`).join('\n');
    assert.ok(total <= 150 * 1024, `${path}: ${total} bytes\n${list}`);
    if (path.endsWith('/link')) {
      assert.ok(wasm, 'the link page has islands');
      assert.equal(wasm[1].encoding, 'br', 'brotli, precompressed at build');
      const js = [...byUrl].find(([u]) => /\/pkg\/certportal[^/]*\.js$/.test(u));
      assert.equal(js[1].encoding, 'br');
    } else {
      assert.equal(wasm, undefined, `${path} loads no WebAssembly`);
    }
  }
  console.log(`bytes on the wire, a phone, cold cache:\n${lines.join('\n')}`);
});

test('a returning browser asks for nothing but the page: hashed files are immutable', async () => {
  const link = `${portal.base}/certificates/${entry}/link`;
  const { byUrl: first } = await weigh(link, userCookie);
  const wasm = [...first].find(([u]) => u.endsWith('.wasm'));
  assert.match(new URL(wasm[0]).pathname, /^\/pkg\/certportal\.[A-Za-z0-9_-]{22}\.wasm$/, 'a hashed name');
  assert.equal(wasm[1].cache, 'public, max-age=31536000, immutable');
  const script = [...first].find(([u]) => new URL(u).pathname === '/passkey.js');
  assert.match(new URL(script[0]).search, /^\?v=[0-9a-f]{16}$/, 'a versioned address');
  assert.equal(script[1].cache, 'public, max-age=31536000, immutable');
  const { total, byUrl } = await weigh(link, userCookie, 2);
  // The page's own status questions (`/api/link_page_key`) are the page working, not assets.
  const assets = [...byUrl].filter(([u]) => !new URL(u).pathname.startsWith('/api/'));
  const list = assets.map(([u, r]) => `${r.bytes}\t${r.fromCache ? 'cache' : 'net'}\t${new URL(u).pathname}`).join('\n');
  console.log(`link page again: ${total} bytes on the wire\n${list}`);
  const fetched = assets.filter(([, r]) => r.bytes > 0).map(([u]) => new URL(u).pathname);
  assert.deepEqual(fetched, [`/certificates/${entry}/link`], list);
  assert.ok(total < 20 * 1024, list);
});
