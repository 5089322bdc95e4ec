// Starts the release build of the portal on a free port with a fresh data directory, and
// launches Debian's Chromium through playwright-core.
import { spawn, execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(here, '..', '..');
export const SHOTS = path.join(ROOT, 'end2end', 'screenshots');
mkdirSync(SHOTS, { recursive: true });

export const PHONE = {
  viewport: { width: 390, height: 844 },
  deviceScaleFactor: 2,
  isMobile: true,
  hasTouch: true,
  userAgent:
    'Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1',
};
export const DESKTOP = { viewport: { width: 1280, height: 800 } };

/** Starts `certportal serve`; resolves with { base, setupLink, stop }. */
export async function startPortal({ env = {} } = {}) {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'certportal-e2e-'));
  const bin = process.env.CERTPORTAL_BIN || path.join(ROOT, 'target', 'release', 'certportal');
  const child = spawn(bin, ['serve'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      CERTPORTAL_DATA_DIR: dataDir,
      CERTPORTAL_LISTEN: '127.0.0.1:0',
      CERTPORTAL_CA_PASSPHRASE: 'end-to-end test passphrase',
      CERTPORTAL_SITE_ROOT: path.join(ROOT, 'target', 'site'),
      CERTPORTAL_LOG: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`portal did not start:\n${out}\n${err}`)), 60_000);
    child.stdout.on('data', (d) => {
      out += d;
      const listen = out.match(/listening on http:\/\/127\.0\.0\.1:(\d+)/);
      const setup = out.match(/(http:\/\/localhost:\d+\/setup\/[0-9a-f]+)/);
      if (listen && setup) {
        clearTimeout(timer);
        resolve({ base: `http://localhost:${listen[1]}`, setupLink: setup[1] });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`portal exited with ${code}:\n${out}\n${err}`));
    });
  });
  const info = await ready;
  return {
    ...info,
    dataDir,
    logs: () => err,
    stop: () =>
      new Promise((resolve) => {
        child.removeAllListeners('exit');
        child.on('exit', resolve);
        child.kill('SIGTERM');
      }),
  };
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
}

/** Waits until the page is interactive: the WebAssembly bundle has hydrated it (it marks
 * <body>), or, on a page that ships none (`<html data-wasm="none">`), the page script ran. */
export async function waitHydrated(page) {
  await page.waitForSelector('body[data-hydrated="true"], html[data-wasm="none"] body[data-ready="true"]', { state: 'attached', timeout: 30_000 });
}

/** Calls a server function of `portal` with a form body; fails the test unless it answers 200. */
export async function api(portal, name, fields, cookie) {
  const r = await fetch(`${portal.base}/api/${name}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
      ...(cookie ? { cookie } : {}),
    },
    body: new URLSearchParams(fields),
  });
  const text = await r.text();
  if (r.status !== 200) throw new Error(`${name}: ${r.status} ${text}`);
  return { json: JSON.parse(text), headers: r.headers };
}

/** Creates the first administrator through the setup link and signs in: the session cookie. */
export async function firstAdmin(portal, password) {
  const token = portal.setupLink.split('/').pop();
  await api(portal, 'complete_setup', { token, login: 'admin', display_name: 'Ada Admin', email: 'ada@example.com', password });
  const { headers } = await api(portal, 'login', { login: 'admin', password });
  return headers.get('set-cookie').split(';')[0];
}

/**
 * Enrolls like an iPhone installing the profile's SCEP payload, with an independent SCEP
 * client (micromdm's scepclient, Debian's `scep` package): the RA certificate is found in
 * GetCACert with openssl, the client makes its own key and sends the profile's challenge.
 * Returns { ok, output, certPem }.
 */
export async function scepEnroll(base, challenge, dir) {
  mkdirSync(dir, { recursive: true });
  const r = await fetch(`${base}/scep?operation=GetCACert`);
  writeFileSync(path.join(dir, 'cacert.p7'), Buffer.from(await r.arrayBuffer()));
  const pems = execFileSync('openssl', ['pkcs7', '-inform', 'DER', '-in', path.join(dir, 'cacert.p7'), '-print_certs'], { encoding: 'utf8' });
  let fingerprint = null;
  for (const [i, block] of pems.split('-----END CERTIFICATE-----').entries()) {
    const start = block.indexOf('-----BEGIN CERTIFICATE-----');
    if (start < 0) continue;
    const file = path.join(dir, `ca-${i}.pem`);
    writeFileSync(file, `${block.slice(start)}-----END CERTIFICATE-----\n`);
    const info = execFileSync('openssl', ['x509', '-in', file, '-noout', '-subject', '-fingerprint', '-sha256'], { encoding: 'utf8' });
    if (info.includes('certportal SCEP RA')) fingerprint = info.split('Fingerprint=')[1].trim();
  }
  const out = spawnSync('scepclient', [
    '-server-url', `${base}/scep`, '-challenge', challenge,
    '-private-key', path.join(dir, 'key.pem'), '-certificate', path.join(dir, 'cert.pem'),
    '-ca-fingerprint', fingerprint,
  ], { encoding: 'utf8' });
  const ok = out.status === 0 && existsSync(path.join(dir, 'cert.pem'));
  return { ok, output: `${out.stdout}${out.stderr}`, certPem: ok ? readFileSync(path.join(dir, 'cert.pem'), 'utf8') : null };
}

/**
 * Signs `login` in through the sign-in form, as a person does, and waits for `next`
 * (with JavaScript also for hydration).
 */
export async function signInForm(page, portal, { login = 'admin', password, js, next = '/certificates' }) {
  await page.goto(`${portal.base}/login?next=${next}`);
  if (js) await waitHydrated(page);
  await page.fill('#login', login);
  await page.fill('#password', password);
  await Promise.all([page.waitForURL((u) => u.pathname === next), page.click('form[data-testid=login-form] button[type=submit]')]);
  if (js) await waitHydrated(page);
}

/** Changes policy settings (`changes`, form values) through the settings server function. */
export async function updatePolicy(portal, cookie, password, changes) {
  const { json: s } = await api(portal, 'admin_settings', {}, cookie);
  const p = s.policy;
  await api(portal, 'admin_update_settings', {
    distribution_mode: p.distribution_mode,
    default_validity_days: String(p.default_validity_days),
    max_validity_days: String(p.max_validity_days),
    link_lifetime_minutes: String(p.link_lifetime_minutes),
    pickup_deadline_days: String(p.pickup_deadline_days),
    max_active_per_user: String(p.max_active_per_user),
    p12_form: p.p12_form,
    key_algorithm: p.key_algorithm,
    ...(p.reissue_allowed_default ? { reissue_allowed_default: 'on' } : {}),
    ...(p.revoke_on_deactivate ? { revoke_on_deactivate: 'on' } : {}),
    crl_next_update_days: String(p.crl_next_update_days),
    apple_profile: p.apple_profile,
    ...changes,
    password,
  }, cookie);
}

/**
 * Starts the real OpenID provider (oidc-provider, `support/oidc-provider.mjs`) on a free port:
 * { issuer, allow(portal), nextToken(patch), stop() }.
 */
export async function startProvider() {
  const child = spawn(process.execPath, [path.join(ROOT, 'end2end', 'support', 'oidc-provider.mjs'), '0'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const issuer = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`provider did not start: ${out}`)), 60_000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on (http:\/\/\S+)/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.on('exit', (code) => reject(new Error(`provider exited with ${code}: ${out}`)));
  });
  const post = (p, body) => fetch(`${issuer}${p}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return {
    issuer,
    allow: async (portal) => {
      for (const client_id of ['certportal', 'other']) {
        await post('/__test/redirect-uris', { client_id, redirect_uris: [`${portal.base}/auth/oidc/callback`] });
      }
    },
    nextToken: (patch) => post('/__test/next-id-token', patch),
    stop: () => new Promise((resolve) => { child.removeAllListeners('exit'); child.on('exit', resolve); child.kill('SIGTERM'); }),
  };
}

/** The portal's settings for `provider` (a client secret file in the portal's own temp dir). */
export function oidcEnv(provider, secretFile) {
  writeFileSync(secretFile, 'certportal-test-secret\n');
  return {
    CERTPORTAL_OIDC_ISSUER: provider.issuer,
    CERTPORTAL_OIDC_CLIENT_ID: 'certportal',
    CERTPORTAL_OIDC_CLIENT_SECRET_FILE: secretFile,
    CERTPORTAL_OIDC_DISPLAY_NAME: 'Example SSO',
    CERTPORTAL_OIDC_SCOPES: 'openid profile email groups',
    CERTPORTAL_OIDC_ADMIN_GROUPS: 'portal-admins',
  };
}
