-- certportal schema v9 (postgres): the company's directory drives the accounts (SCIM 2.0) and signs users in (OpenID Connect).
--   users.external_id:  the directory's own id for the user (SCIM externalId).
--   users.scim_attributes: what the directory last sent of name, displayName, emails and
--                       active (JSON), returned to it as sent; display_name and email stay
--                       what the portal shows and certificates carry, derived from them.
--   users.deleted_at:   the directory deleted the user. The row stays, deactivated, so that
--                       the user's certificates and history stay visible to administrators;
--                       its login gets a "~deleted-…" suffix, freeing the name for a rehire.
ALTER TABLE users ADD COLUMN external_id TEXT;
ALTER TABLE users ADD COLUMN scim_attributes TEXT;
ALTER TABLE users ADD COLUMN deleted_at BIGINT;

-- Bearer tokens of the directory's SCIM client: only their SHA-256 is kept.
CREATE TABLE scim_tokens (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    token_hash    TEXT NOT NULL UNIQUE,
    created_by    TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    last_used_at  BIGINT,
    revoked_at    BIGINT
);

-- The directory's groups; their members may carry the administrator role or renewal.
CREATE TABLE scim_groups (
    id            TEXT PRIMARY KEY,
    display_name  TEXT NOT NULL UNIQUE,
    external_id   TEXT,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE TABLE scim_group_members (
    group_id  TEXT NOT NULL REFERENCES scim_groups(id),
    user_id   TEXT NOT NULL REFERENCES users(id),
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX scim_group_members_user ON scim_group_members(user_id);

-- Sign-in through the company's OpenID provider: the provider's subject of each linked
-- user, and the flows begun in a browser and not yet finished (state, nonce and PKCE
-- verifier kept server-side, found by the SHA-256 of the id in the browser's cookie, used once).
ALTER TABLE users ADD COLUMN oidc_subject TEXT;
CREATE UNIQUE INDEX users_oidc_subject ON users(oidc_subject);
CREATE TABLE oidc_flows (
    id_hash        TEXT PRIMARY KEY,
    state          TEXT NOT NULL,
    nonce          TEXT NOT NULL,
    pkce_verifier  TEXT NOT NULL,
    -- 'login', or 'confirm' (rule 8: a fresh sign-in at the provider for this session)
    purpose        TEXT NOT NULL,
    session_hash   TEXT,
    next_path      TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL
);
CREATE INDEX oidc_flows_expiry ON oidc_flows(expires_at);
