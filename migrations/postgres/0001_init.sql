-- certportal schema v1 (PostgreSQL). Times are Unix seconds (UTC). Append-only: never edit a
-- released migration; add a new file instead.
CREATE TABLE departments (
    id          TEXT PRIMARY KEY,
    parent_id   TEXT REFERENCES departments(id),
    name        TEXT NOT NULL,
    path        TEXT NOT NULL UNIQUE
);

CREATE TABLE users (
    id                    TEXT PRIMARY KEY,
    login                 TEXT NOT NULL UNIQUE,
    display_name          TEXT NOT NULL,
    email                 TEXT NOT NULL,
    upn                   TEXT,
    department_id         TEXT REFERENCES departments(id),
    is_admin              BIGINT NOT NULL DEFAULT 0,
    -- NULL: follow the global default (settings.reissue_allowed_default)
    reissue_allowed       BIGINT,
    active                BIGINT NOT NULL DEFAULT 1,
    must_change_password  BIGINT NOT NULL DEFAULT 0,
    password_hash         TEXT,
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL
);
CREATE INDEX users_display_name ON users(display_name);
CREATE INDEX users_department ON users(department_id);

CREATE TABLE cas (
    id                 TEXT PRIMARY KEY,
    subject            TEXT NOT NULL,
    cert_pem           TEXT NOT NULL,
    -- PKCS#8 EncryptedPrivateKeyInfo (PBES2), PEM; the passphrase is never stored
    key_pem_encrypted  TEXT NOT NULL,
    fingerprint_sha256 TEXT NOT NULL,
    not_before         BIGINT NOT NULL,
    not_after          BIGINT NOT NULL,
    created_at         BIGINT NOT NULL,
    retired_at         BIGINT,
    crl_number         BIGINT NOT NULL DEFAULT 0,
    crl_der            BYTEA,
    crl_this_update    BIGINT,
    crl_next_update    BIGINT
);

CREATE TABLE enrollments (
    id                   TEXT PRIMARY KEY,
    user_id              TEXT NOT NULL REFERENCES users(id),
    state                TEXT NOT NULL CHECK (state IN ('pending','rejected','ready','lapsed','issued','revoked')),
    kind                 TEXT NOT NULL CHECK (kind IN ('new','renewal')),
    renews_certificate_id TEXT,
    device_label         TEXT NOT NULL DEFAULT '',
    requested_not_after  BIGINT,
    pickup_deadline      BIGINT NOT NULL,
    admin_created        BIGINT NOT NULL DEFAULT 0,
    created_by           TEXT,
    created_at           BIGINT NOT NULL,
    decided_by           TEXT,
    decided_at           BIGINT,
    decision_note        TEXT,
    withdrawn_reason     TEXT,
    certificate_id       TEXT
);
CREATE INDEX enrollments_user ON enrollments(user_id, state);
CREATE INDEX enrollments_deadline ON enrollments(state, pickup_deadline);

CREATE TABLE certificates (
    id                  TEXT PRIMARY KEY,
    enrollment_id       TEXT NOT NULL UNIQUE REFERENCES enrollments(id),
    user_id             TEXT NOT NULL REFERENCES users(id),
    ca_id               TEXT NOT NULL REFERENCES cas(id),
    serial_hex          TEXT NOT NULL UNIQUE,
    fingerprint_sha256  TEXT NOT NULL,
    subject             TEXT NOT NULL,
    device_label        TEXT NOT NULL DEFAULT '',
    not_before          BIGINT NOT NULL,
    not_after           BIGINT NOT NULL,
    cert_der            BYTEA NOT NULL,
    state               TEXT NOT NULL CHECK (state IN ('issued','superseded','revoked')),
    revoked_at          BIGINT,
    revocation_reason   TEXT,
    -- an admin "Create & Download" bundle that nobody has fetched yet (rule 6)
    handover_pending    BIGINT NOT NULL DEFAULT 0,
    handover_deadline   BIGINT,
    created_at          BIGINT NOT NULL
);
CREATE INDEX certificates_user ON certificates(user_id, state);
CREATE INDEX certificates_ca ON certificates(ca_id, state);

CREATE TABLE links (
    id              TEXT PRIMARY KEY,
    enrollment_id   TEXT NOT NULL REFERENCES enrollments(id),
    token_hash      TEXT NOT NULL UNIQUE,
    created_by      TEXT,
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    used_at         BIGINT,
    voided_at       BIGINT
);
CREATE INDEX links_enrollment ON links(enrollment_id);

CREATE TABLE sessions (
    id_hash       TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users(id),
    created_at    BIGINT NOT NULL,
    last_seen_at  BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    reauth_at     BIGINT,
    ip            TEXT,
    user_agent    TEXT
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE setup_tokens (
    token_hash  TEXT PRIMARY KEY,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT
);

CREATE TABLE audit (
    id               BIGSERIAL PRIMARY KEY,
    at               BIGINT NOT NULL,
    actor_id         TEXT,
    actor_label      TEXT NOT NULL,
    subject_user_id  TEXT,
    certificate_id   TEXT,
    enrollment_id    TEXT,
    action           TEXT NOT NULL,
    result           TEXT NOT NULL,
    detail           TEXT NOT NULL DEFAULT '',
    ip               TEXT
);
CREATE INDEX audit_at ON audit(at);
CREATE INDEX audit_subject ON audit(subject_user_id, at);
CREATE INDEX audit_action ON audit(action, at);

-- Append-only: the database itself refuses to change or delete history.
CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'audit records are append-only'; END; $$;
CREATE TRIGGER audit_no_update BEFORE UPDATE OR DELETE ON audit
FOR EACH ROW EXECUTE FUNCTION audit_append_only();

CREATE TABLE settings (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
