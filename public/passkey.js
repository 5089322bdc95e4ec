// Passkeys for certportal: runs the WebAuthn ceremonies in the browser and talks to the
// portal's server functions. Buttons carry data-passkey="login" | "register" | "confirm";
// they are shown only when the browser supports WebAuthn (html.webauthn, see main.css).

// Only a same-site path is followed after sign-in (the server renders `data-next` already
// checked; this is the second line of defence): no scheme, no `//`, no backslash, no
// whitespace or control characters, which browsers strip from URLs.
function sameSitePath(p) {
  if (typeof p === 'string' && p.startsWith('/') && !/^\/[\/\\]/.test(p) && !/[\s\\\u0000-\u001f\u007f]/.test(p)) return p;
  return '/certificates';
}


const toBuf = (s) => {
  const b64 = s.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((s.length + 3) % 4);
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)).buffer;
};
const toB64url = (buf) => {
  let s = '';
  for (const x of new Uint8Array(buf)) s += String.fromCharCode(x);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
};

async function call(name, params) {
  const r = await fetch(`/api/${name}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
    body: new URLSearchParams(params),
    credentials: 'same-origin',
  });
  const text = await r.text();
  let value = null;
  try {
    value = text ? JSON.parse(text) : null;
  } catch {
    value = text;
  }
  if (!r.ok) {
    const msg = (value && value.Refused && value.Refused.message) || (typeof value === 'string' ? value : r.statusText);
    throw new Error(msg);
  }
  return value;
}

async function authenticate(confirm) {
  // A sign-in is always the discoverable form (the browser offers the passkeys it holds);
  // a confirmation lists the signed-in user's own passkeys.
  const start = JSON.parse(await call('passkey_login_start', confirm ? { confirm: 'true' } : {}));
  const pk = start.options.publicKey;
  pk.challenge = toBuf(pk.challenge);
  for (const c of pk.allowCredentials || []) c.id = toBuf(c.id);
  const cred = await navigator.credentials.get({ publicKey: pk });
  const r = cred.response;
  const body = {
    id: cred.id,
    rawId: toB64url(cred.rawId),
    type: cred.type,
    response: {
      authenticatorData: toB64url(r.authenticatorData),
      clientDataJSON: toB64url(r.clientDataJSON),
      signature: toB64url(r.signature),
      userHandle: r.userHandle ? toB64url(r.userHandle) : null,
    },
    extensions: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {},
  };
  return call('passkey_login_finish', {
    ceremony: start.ceremony,
    credential: JSON.stringify(body),
    confirm: confirm ? 'true' : 'false',
  });
}

async function register(name, setup) {
  const start = JSON.parse(await call(setup ? 'setup_passkey_start' : 'passkey_register_start', setup || {}));
  const pk = start.options.publicKey;
  pk.challenge = toBuf(pk.challenge);
  pk.user.id = toBuf(pk.user.id);
  for (const c of pk.excludeCredentials || []) c.id = toBuf(c.id);
  const cred = await navigator.credentials.create({ publicKey: pk });
  const r = cred.response;
  const body = {
    id: cred.id,
    rawId: toB64url(cred.rawId),
    type: cred.type,
    response: {
      attestationObject: toB64url(r.attestationObject),
      clientDataJSON: toB64url(r.clientDataJSON),
      transports: r.getTransports ? r.getTransports() : undefined,
    },
    extensions: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {},
  };
  if (setup) {
    await call('setup_passkey_finish', { ceremony: start.ceremony, credential: JSON.stringify(body) });
  } else {
    await call('passkey_register_finish', { ceremony: start.ceremony, name, credential: JSON.stringify(body) });
  }
}

function status(button, text, ok) {
  const el = button.parentElement && button.parentElement.querySelector('.passkey-status');
  if (el) {
    el.textContent = text;
    el.className = `passkey-status ${ok ? 'success' : 'error'}`;
  }
}

if (window.PublicKeyCredential) {
  document.documentElement.classList.add('webauthn');
  document.addEventListener('click', async (ev) => {
    const button = ev.target.closest && ev.target.closest('button[data-passkey]');
    if (!button) return;
    ev.preventDefault();
    const kind = button.dataset.passkey;
    button.disabled = true;
    try {
      if (kind === 'login') {
        const me = await authenticate(false);
        location.href = me && me.must_change_password ? '/account?change=1' : sameSitePath(button.dataset.next);
      } else if (kind === 'confirm') {
        await authenticate(true);
        status(button, button.dataset.done || '✓', true);
      } else if (kind === 'setup') {
        // The first administrator with a passkey and no password.
        const val = (id) => (document.getElementById(id) || {}).value || '';
        await register('', {
          token: button.dataset.token,
          login: val('login'),
          display_name: val('display_name'),
          email: val('email'),
        });
        location.href = '/account';
      } else if (kind === 'register') {
        const input = document.getElementById('passkey-name');
        await register(input ? input.value : '');
        location.reload();
      }
    } catch (e) {
      status(button, e && e.message ? e.message : String(e), false);
    } finally {
      button.disabled = false;
    }
  });
}

// "Copy link" buttons: data-copy="<id of the input holding the text>". Shown only with
// JavaScript (html.js); without it the link stays selectable in its read-only field.
document.documentElement.classList.add('js');
document.addEventListener('click', async (ev) => {
  const button = ev.target.closest('[data-copy]');
  if (!button) return;
  const input = document.getElementById(button.dataset.copy);
  if (!input) return;
  const out = button.parentElement.querySelector('.copy-status');
  try {
    await navigator.clipboard.writeText(input.value);
  } catch {
    input.select();
    document.execCommand('copy');
  }
  if (out) out.textContent = button.dataset.done || '✓';
});

// Escape closes an open "⁝" menu (a <details class="menu">) and returns focus to its button.
document.addEventListener('keydown', (ev) => {
  if (ev.key !== 'Escape') return;
  for (const menu of document.querySelectorAll('details.menu[open]')) {
    menu.open = false;
    menu.querySelector('summary')?.focus();
  }
});

// Times are shown in this browser's time zone: keep it in the `tz` cookie the server renders
// with (the next page load uses it). A zone the user chose on the account page (`tz_set=1`)
// is left alone.
(() => {
  const cookies = Object.fromEntries(
    document.cookie.split(';').map((c) => c.trim().split('=')).filter((kv) => kv.length === 2),
  );
  if (cookies.tz_set === '1') return;
  let zone;
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch {
    return;
  }
  if (!zone || !/^[A-Za-z0-9/_+-]{1,64}$/.test(zone) || cookies.tz === zone) return;
  document.cookie = `tz=${zone}; Path=/; Max-Age=31536000; SameSite=Lax`;
})();

// The account page's time-zone form tells the server this browser's zone, so "Automatic"
// shows the right times on the very next page.
document.addEventListener('submit', (ev) => {
  const form = ev.target;
  if (!(form instanceof HTMLFormElement) || !form.hasAttribute('data-zone-form')) return;
  try {
    form.elements.browser.value = Intl.DateTimeFormat().resolvedOptions().timeZone || '';
  } catch {
    /* the server falls back to the portal's zone */
  }
});

// The phone's pickup page runs no WebAssembly (it is two buttons and instructions): while a
// bundle is being made after the tap on a .p12/.pfx download, the button is disabled and
// says so, and the page asks every second whether the download went through, then shows
// it (a reload renders "Downloaded"); after 30 s without an answer the button comes back.
document.addEventListener('submit', (ev) => {
  const form = ev.target;
  if (!(form instanceof HTMLFormElement) || !form.hasAttribute('data-bundle')) return;
  const button = form.querySelector('button[type=submit]');
  if (!button) return;
  if (button.getAttribute('aria-busy') === 'true') {
    ev.preventDefault();
    return;
  }
  const label = button.textContent;
  button.setAttribute('aria-busy', 'true');
  button.textContent = button.dataset.busyLabel || label;
  // Disabled after the submission has started (a disabled button would stop it).
  setTimeout(() => { button.disabled = true; }, 0);
  let polls = 0;
  const done = () => {
    clearInterval(timer);
    button.disabled = false;
    button.setAttribute('aria-busy', 'false');
    button.textContent = label;
  };
  const timer = setInterval(async () => {
    polls += 1;
    if (polls > 30) return done();
    try {
      const params = { token: form.dataset.token };
      if (form.dataset.platform) params.platform = form.dataset.platform;
      const info = await call('pickup_info', params);
      if (info.downloaded_at != null) {
        clearInterval(timer);
        location.reload();
      }
    } catch {
      /* asked again in a second */
    }
  }, 1000);
});

// "Create & Download" answers with a file, so the page stays: the download sets a short-lived
// cookie saying how many bundles it made; once it is there (asked twice a second for up to two
// minutes) the page is loaded again with `downloaded=<n>`, showing that and the new states.
document.addEventListener('submit', (ev) => {
  const name = ev.submitter && ev.submitter.dataset.downloadWatch;
  if (!name || !/^[a-z_]+$/.test(name)) return;
  let ticks = 0;
  const timer = setInterval(() => {
    ticks += 1;
    const found = document.cookie.split('; ').find((c) => c.startsWith(`${name}=`));
    if (!found && ticks < 240) return;
    clearInterval(timer);
    if (!found) return;
    document.cookie = `${name}=; Path=/admin; Max-Age=0; SameSite=Strict`;
    const n = found.slice(name.length + 1);
    if (!/^\d+$/.test(n)) return;
    const url = new URL(location.href);
    for (const k of ['downloaded', 'done', 'result', 'error', 'keep', 'remove', 'end']) url.searchParams.delete(k);
    url.searchParams.set('downloaded', n);
    location.assign(url.pathname + url.search);
  }, 500);
});

// Every form posts, and a refused one comes back as the page with `error=<code>`: what was
// typed into it (never a password, a one-time code or a hidden field) is kept for a minute in this tab's
// sessionStorage and put back into the same form when the page comes back with an error.
const KEPT = 'certportal-form';
document.addEventListener('submit', (ev) => {
  const form = ev.target;
  if (!(form instanceof HTMLFormElement) || form.method !== 'post') return;
  const fields = [];
  for (const el of form.elements) {
    if (!el.name || el.type === 'password' || el.type === 'hidden' || el.type === 'file') continue;
    if (el.autocomplete === 'one-time-code') continue; // a pickup PIN is a secret too
    if (el.type === 'checkbox' || el.type === 'radio') fields.push([el.name, el.value, el.checked]);
    else if ('value' in el && el.tagName !== 'BUTTON') fields.push([el.name, el.value, null]);
  }
  try {
    sessionStorage.setItem(KEPT, JSON.stringify({ page: location.pathname, action: form.getAttribute('action'), at: Date.now(), fields }));
  } catch {
    /* private mode: nothing kept */
  }
});
(() => {
  let kept;
  try {
    kept = JSON.parse(sessionStorage.getItem(KEPT) || 'null');
    sessionStorage.removeItem(KEPT);
  } catch {
    return;
  }
  if (!kept || kept.page !== location.pathname || Date.now() - kept.at > 60_000) return;
  if (!new URLSearchParams(location.search).has('error')) return;
  const form = [...document.forms].find((f) => f.getAttribute('action') === kept.action);
  if (!form) return;
  for (const [name, value, checked] of kept.fields) {
    for (const el of form.elements) {
      if (el.name !== name) continue;
      if (el.type === 'checkbox' || el.type === 'radio') {
        if (el.value === value) el.checked = checked;
      } else if (el.type !== 'password' && el.type !== 'hidden') {
        el.value = value;
      }
    }
  }
})();

// Pages without WebAssembly are ready once this script has run (tests wait for it).
document.body.dataset.ready = 'true';
