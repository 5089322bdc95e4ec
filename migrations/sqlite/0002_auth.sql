-- certportal schema v2 (SQLite): sign-in. Passkeys, WebAuthn ceremony state kept server-side
-- (so any instance can finish what another started), throttling counters, activation links.
CREATE TABLE passkeys (
    id              TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL REFERENCES users(id),
    name            TEXT NOT NULL,
    credential_id   TEXT NOT NULL UNIQUE,
    passkey_json    TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    last_used_at    INTEGER
);
CREATE INDEX passkeys_user ON passkeys(user_id);

CREATE TABLE webauthn_states (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    user_id     TEXT,
    state_json  TEXT NOT NULL,
    expires_at  INTEGER NOT NULL
);

CREATE TABLE throttle (
    key           TEXT PRIMARY KEY,
    window_start  INTEGER NOT NULL,
    failures      INTEGER NOT NULL,
    locked_until  INTEGER NOT NULL
);

CREATE TABLE activation_tokens (
    token_hash  TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id),
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER
);
CREATE INDEX activation_user ON activation_tokens(user_id);

-- A stable per-user handle for WebAuthn (16 random bytes as a UUID, never the login).
ALTER TABLE users ADD COLUMN webauthn_handle TEXT;
ALTER TABLE users ADD COLUMN password_changed_at INTEGER;
