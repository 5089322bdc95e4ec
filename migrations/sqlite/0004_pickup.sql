-- certportal schema v4 (sqlite): the pickup proves the PIN to the server (SPEC rule 5).
--   pin_failures: wrong PINs typed for this link; the 5th voids it (void_reason 'pin').
--   unlocked_at:  when a correct PIN was last proven (the desktop shows it live).
--   scep_hash:    SHA-256 of the SCEP challenge handed out in this link's profile; the
--                 certificate is signed when a device enrolls with it (one use: used_at).
--   profile_at:   when a profile with that challenge was first handed out.
--   picked_at / picked_format: when and how the link was redeemed (the desktop shows it).
ALTER TABLE links ADD COLUMN pin_failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE links ADD COLUMN void_reason TEXT;
ALTER TABLE links ADD COLUMN unlocked_at INTEGER;
ALTER TABLE links ADD COLUMN scep_hash TEXT;
ALTER TABLE links ADD COLUMN profile_at INTEGER;
ALTER TABLE links ADD COLUMN picked_format TEXT;
CREATE UNIQUE INDEX links_scep ON links(scep_hash);

-- A short-lived grant made by a correct PIN: the only thing that releases a bundle or a
-- profile. Only its SHA-256 is stored. A PKCS#12 download uses it up (used_at); a SCEP
-- profile does not (nothing is signed until the device enrolls).
CREATE TABLE pickup_grants (
    id_hash         TEXT PRIMARY KEY,
    link_id         TEXT NOT NULL REFERENCES links(id),
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    used_at         INTEGER
);
CREATE INDEX pickup_grants_link ON pickup_grants(link_id);
CREATE INDEX pickup_grants_expiry ON pickup_grants(expires_at);

-- The SCEP registration authority of each CA (RFC 8894): an RSA certificate issued by the
-- CA that decrypts and signs SCEP messages; its key sealed under the portal's secret key.
CREATE TABLE scep_ras (
    ca_id       TEXT PRIMARY KEY REFERENCES cas(id),
    cert_der    BLOB NOT NULL,
    key_sealed  TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);
