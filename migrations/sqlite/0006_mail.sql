-- certportal schema v6 (sqlite): reminders and the admin digest by e-mail.
--   users.language:      the language of the user's last sign-in ('en' or 'ja'); mails use it.
--   users.digest_opt_in: an administrator asked for the weekly digest.
--   mails: one row per mail the portal decided to send. `dedup_key` is unique
--   (reminder:<certificate>:<days>, digest:<user>:<ISO week>), so two instances deciding the
--   same mail insert one row. A sender claims a row (queued/retry -> sending) with a
--   conditional UPDATE before it talks to the SMTP server; only the claimer sends. A claim
--   whose sender died is never resent (abandoned): at most once, never twice.
ALTER TABLE users ADD COLUMN language TEXT;
ALTER TABLE users ADD COLUMN digest_opt_in INTEGER NOT NULL DEFAULT 0;
CREATE TABLE mails (
    id               TEXT PRIMARY KEY,
    kind             TEXT NOT NULL CHECK (kind IN ('reminder', 'digest')),
    dedup_key        TEXT NOT NULL UNIQUE,
    user_id          TEXT NOT NULL REFERENCES users(id),
    certificate_id   TEXT REFERENCES certificates(id),
    threshold_days   INTEGER,
    recipient        TEXT NOT NULL,
    state            TEXT NOT NULL CHECK (state IN ('queued', 'sending', 'retry', 'sent', 'failed', 'abandoned', 'cancelled')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL,
    claimed_until    INTEGER,
    smtp_answer      TEXT,
    created_at       INTEGER NOT NULL,
    sent_at          INTEGER
);
CREATE INDEX mails_due ON mails(state, next_attempt_at);
CREATE INDEX mails_certificate ON mails(certificate_id, threshold_days);
CREATE INDEX certificates_expiry ON certificates(state, not_after);
