#!/usr/bin/env node
// A real OpenID Provider for certportal's browser and integration tests: the OpenID-certified
// `oidc-provider` (pinned 9.13.3) on plain HTTP on loopback, with fixed clients and accounts and
// its own login page (a plain HTML form, no JavaScript, no external resources, no consent page).
//
//   node provider.mjs [PORT]          PORT also from OIDC_PORT; 0 or unset = any free port
//   -> prints "listening on http://127.0.0.1:PORT" once it accepts requests
//
// Environment (all optional):
//   OIDC_PORT                  port (argv[2] wins)
//   OIDC_ISSUER_HOST           host name in the issuer URL (default 127.0.0.1; "localhost" also
//                              works, the socket is always bound to 127.0.0.1)
//   OIDC_CLIENT_SECRET         secret of the client certportal
//   OIDC_REDIRECT_URIS         comma/space separated redirect URIs of all clients
//   OIDC_POST_LOGOUT_REDIRECT_URIS  comma/space separated, for RP-initiated logout
//   OIDC_OTHER_CLIENT_SECRET   secret of the client "other" (a second relying party)
//
// Test-only control endpoints (loopback fixture, no authentication):
//   POST /__test/next-id-token     JSON object merged into the payload of the NEXT ID token that
//                                  /token returns (null deletes a claim); re-signed with the
//                                  provider's own key, so only the patched claims are wrong.
//                                  e.g. {"aud":"other"}  {"exp":1000,"iat":900}  {"nonce":"x"}
//   POST /__test/redirect-uris     {"client_id":"certportal","redirect_uris":["http://..."]}
//                                  replaces a client's redirect URIs at run time (for a portal
//                                  that listens on a port chosen after the provider started).
import crypto from 'node:crypto';
import http from 'node:http';
import Provider from 'oidc-provider';

const list = (value, fallback) => (value ?? fallback).split(/[\s,]+/).filter(Boolean);

const PORT = Number(process.argv[2] ?? process.env.OIDC_PORT ?? 0);
const ISSUER_HOST = process.env.OIDC_ISSUER_HOST || '127.0.0.1';
const CLIENT_SECRET = process.env.OIDC_CLIENT_SECRET || 'certportal-test-secret';
const OTHER_SECRET = process.env.OIDC_OTHER_CLIENT_SECRET || 'other-test-secret';
const REDIRECT_URIS = list(process.env.OIDC_REDIRECT_URIS,
  'http://127.0.0.1:3000/auth/oidc/callback http://localhost:3000/auth/oidc/callback');
const POST_LOGOUT_URIS = list(process.env.OIDC_POST_LOGOUT_REDIRECT_URIS,
  'http://127.0.0.1:3000/ http://localhost:3000/');

// Fixed accounts. Log in with `login` (or the e-mail address) and `password`.
const ACCOUNTS = [
  {
    login: 'alice', password: 'alice-password',
    claims: {
      sub: '6f1c2a7e-0b4d-4c1e-9a51-000000000001',
      preferred_username: 'alice', name: 'Alice Anders', given_name: 'Alice', family_name: 'Anders',
      email: 'alice@example.com', email_verified: true,
      upn: 'alice@corp.example.com', department: 'Engineering', groups: ['staff'],
    },
  },
  {
    login: 'bob', password: 'bob-password',
    claims: {
      sub: '6f1c2a7e-0b4d-4c1e-9a51-000000000002',
      preferred_username: 'bob', name: 'Bob Berger', given_name: 'Bob', family_name: 'Berger',
      email: 'bob@example.com', email_verified: true,
      upn: 'bob@corp.example.com', department: 'IT Operations', groups: ['staff', 'portal-admins'],
    },
  },
  {
    login: 'carol', password: 'carol-password',
    claims: {
      sub: '6f1c2a7e-0b4d-4c1e-9a51-000000000003',
      preferred_username: 'carol', name: 'Carol Chen', given_name: 'Carol', family_name: 'Chen',
      email: 'carol@example.com', email_verified: true,
      upn: 'carol@corp.example.com', department: 'Finance', groups: [],
    },
  },
];
const bySub = new Map(ACCOUNTS.map((a) => [a.claims.sub, a]));
const byLogin = (login) => ACCOUNTS.find((a) => a.login === login || a.claims.email === login);

// Signing key made at start-up; kept here so /__test/next-id-token can re-sign.
const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingJwk = { ...privateKey.export({ format: 'jwk' }), kid: `test-${crypto.randomUUID()}`, alg: 'RS256', use: 'sig' };

const client = (client_id, client_secret, token_endpoint_auth_method) => ({
  client_id,
  client_secret,
  client_name: client_id,
  redirect_uris: [...REDIRECT_URIS],
  post_logout_redirect_uris: [...POST_LOGOUT_URIS],
  grant_types: ['authorization_code'],
  response_types: ['code'],
  // oidc-provider 9 accepts client_secret_post for a client registered with _basic and vice versa.
  token_endpoint_auth_method,
  id_token_signed_response_alg: 'RS256',
  require_auth_time: true, // auth_time in every ID token, not only with max_age / prompt=login
});

const server = http.createServer();
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(PORT, '127.0.0.1', resolve);
});
const { port } = server.address();
const issuer = `http://${ISSUER_HOST}:${port}`;

const provider = new Provider(issuer, {
  clients: [
    client('certportal', CLIENT_SECRET, 'client_secret_basic'),
    client('other', OTHER_SECRET, 'client_secret_basic'),
  ],
  jwks: { keys: [signingJwk] },
  cookies: {
    keys: [crypto.randomBytes(32).toString('base64url')],
    // Cookies are per host, not per port: prefixed so they never collide with the portal's
    // when both run on 127.0.0.1.
    names: { session: 'op_session', interaction: 'op_interaction', resume: 'op_interaction_resume' },
  },
  pkce: { required: () => true }, // only S256 exists in oidc-provider 9
  responseTypes: ['code'],
  clientAuthMethods: ['client_secret_basic', 'client_secret_post'],
  scopes: ['openid', 'profile', 'email', 'groups'],
  claims: {
    openid: ['sub'],
    profile: ['name', 'given_name', 'family_name', 'preferred_username', 'upn', 'department'],
    email: ['email', 'email_verified'],
    groups: ['groups'],
  },
  // Put the scope-granted claims into the ID token itself, not only into /me (userinfo).
  conformIdTokenClaims: false,
  features: {
    devInteractions: { enabled: false }, // our own login page below
    rpInitiatedLogout: { enabled: true, logoutSource, postLogoutSuccessSource },
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  // First-party clients: never ask for consent, grant what was requested.
  async loadExistingGrant(ctx) {
    const { oidc } = ctx;
    const grantId = oidc.result?.consent?.grantId || oidc.session.grantIdFor(oidc.client.clientId);
    let grant = grantId ? await oidc.provider.Grant.find(grantId) : undefined;
    if (!grant || grant.accountId !== oidc.account.accountId) {
      grant = new oidc.provider.Grant({ clientId: oidc.client.clientId, accountId: oidc.account.accountId });
    }
    grant.addOIDCScope([...oidc.requestParamOIDCScopes].join(' '));
    if (oidc.requestParamClaims.size) grant.addOIDCClaims([...oidc.requestParamClaims]);
    await grant.save();
    return grant;
  },
  async findAccount(ctx, sub) {
    const account = bySub.get(sub);
    if (!account) return undefined;
    return { accountId: sub, claims: async () => structuredClone(account.claims) };
  },
  ttl: {
    // The defaults, spelled out (and silencing "you SHOULD change" notices).
    AccessToken: 3600, AuthorizationCode: 60, IdToken: 3600, Interaction: 3600, Session: 14 * 24 * 3600, Grant: 14 * 24 * 3600,
  },
  renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = page('Error', `<h1>Error</h1>${Object.entries(out)
      .map(([k, v]) => `<p><strong>${esc(k)}</strong>: <span id="${esc(k)}">${esc(v)}</span></p>`).join('')}`);
  },
});

function esc(value) {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
function page(title, body) {
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: sans-serif; max-width: 24rem; margin: 2rem auto">${body}</body></html>`;
}
async function logoutSource(ctx, form) {
  ctx.type = 'html';
  ctx.body = page('Sign out', `<h1>Sign out</h1>${form}
<button type="submit" form="op.logoutForm" name="logout" value="yes">Yes, sign me out</button>
<button type="submit" form="op.logoutForm">No, stay signed in</button>`);
}
async function postLogoutSuccessSource(ctx) {
  ctx.type = 'html';
  ctx.body = page('Signed out', '<h1>Signed out</h1>');
}

function loginPage({ uid, loginHint = '', error, clientId }) {
  return page('Sign in', `<h1>Sign in</h1>
<p>to <span id="client">${esc(clientId)}</span></p>
${error ? `<p id="error" role="alert">${esc(error)}</p>` : ''}
<form method="post" action="/interaction/${esc(uid)}/login" autocomplete="off">
  <p><label for="login">Username</label><br>
  <input id="login" name="login" type="text" required value="${esc(loginHint)}" ${loginHint ? '' : 'autofocus'}></p>
  <p><label for="password">Password</label><br>
  <input id="password" name="password" type="password" required ${loginHint ? 'autofocus' : ''}></p>
  <p><button id="submit" type="submit">Sign in</button></p>
</form>
<form method="post" action="/interaction/${esc(uid)}/abort">
  <button id="cancel" type="submit">Cancel</button>
</form>`);
}

async function readForm(req, limit = 64 * 1024) {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > limit) throw new Error('body too large');
  }
  return req.headers['content-type']?.startsWith('application/json')
    ? JSON.parse(body || '{}')
    : Object.fromEntries(new URLSearchParams(body));
}

let nextIdTokenPatch = null;

function resign(jwt, patch) {
  const [h, p] = jwt.split('.');
  const header = JSON.parse(Buffer.from(h, 'base64url'));
  const payload = JSON.parse(Buffer.from(p, 'base64url'));
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete payload[key]; else payload[key] = value;
  }
  const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  return `${input}.${crypto.sign('sha256', Buffer.from(input), privateKey).toString('base64url')}`;
}

async function interaction(ctx, uid, action) {
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  if (details.uid !== uid) ctx.throw(400, 'interaction mismatch');
  const { prompt, params } = details;
  const finish = async (result) => {
    ctx.status = 303;
    ctx.redirect(await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false }));
  };
  if (!action && ctx.method === 'GET') {
    if (prompt.name === 'login') {
      ctx.type = 'html';
      ctx.body = loginPage({ uid, loginHint: params.login_hint, clientId: params.client_id });
      return;
    }
    // loadExistingGrant grants everything, so consent is not expected; if it ever is, grant it.
    const grant = details.grantId ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: details.session.accountId, clientId: params.client_id });
    if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
    if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
    await finish({ consent: { grantId: await grant.save() } });
    return;
  }
  if (ctx.method !== 'POST') ctx.throw(405);
  if (action === 'abort') {
    await finish({ error: 'access_denied', error_description: 'End-User aborted interaction' });
    return;
  }
  const form = await readForm(ctx.req);
  const account = byLogin(form.login ?? '');
  if (prompt.name !== 'login' || !account || account.password !== form.password) {
    ctx.type = 'html';
    ctx.body = loginPage({ uid, loginHint: form.login ?? '', error: 'Invalid username or password.', clientId: params.client_id });
    return;
  }
  if (details.session?.accountId && details.session.accountId !== account.claims.sub) {
    // Another account than the signed-in one (prompt=login): oidc-provider would first end
    // the old session through a self-submitting form that needs JavaScript (a "Continue"
    // button without it). End the old session here instead, so every step stays plain HTML.
    const old = await provider.Session.findByUid(details.session.uid);
    delete details.session;
    await details.save(details.exp - Math.floor(Date.now() / 1000));
    await old?.destroy();
  }
  await finish({ login: { accountId: account.claims.sub, amr: ['pwd'] } });
}

// Own routes in front of oidc-provider's router (provider.use inserts before it).
provider.use(async (ctx, next) => {
  const m = ctx.path.match(/^\/interaction\/([\w-]+)(?:\/(login|abort))?$/);
  if (m) {
    ctx.set('cache-control', 'no-store');
    try {
      await interaction(ctx, ...m.slice(1));
    } catch (err) {
      // e.g. SessionNotFound when the op_interaction cookie did not come along
      ctx.status = err.statusCode || err.status || 500;
      ctx.type = 'html';
      ctx.body = page('Error', `<h1>Error</h1><p><strong>error</strong>: <span id="error">${esc(err.error || err.name)}</span></p>
<p><strong>error_description</strong>: <span id="error_description">${esc(err.error_description || err.message)}</span></p>`);
    }
    return;
  }
  if (ctx.path.startsWith('/__test/') && ctx.method === 'POST') {
    const body = await readForm(ctx.req);
    if (ctx.path === '/__test/next-id-token') {
      nextIdTokenPatch = body;
      ctx.status = 204;
      return;
    }
    if (ctx.path === '/__test/redirect-uris') {
      const c = await provider.Client.find(body.client_id);
      if (!c || !Array.isArray(body.redirect_uris)) ctx.throw(400, 'client_id and redirect_uris[] needed');
      c.redirectUris.splice(0, c.redirectUris.length, ...body.redirect_uris);
      ctx.status = 204;
      return;
    }
  }

  await next();

  if (ctx.path === '/token' && nextIdTokenPatch && ctx.status === 200 && ctx.body?.id_token) {
    ctx.body = { ...ctx.body, id_token: resign(ctx.body.id_token, nextIdTokenPatch) };
    nextIdTokenPatch = null;
  }
});

server.on('request', provider.callback());
console.log(`listening on ${issuer}`);

// Everything lives in memory: nothing to flush, and open keep-alive sockets must not delay exit.
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
