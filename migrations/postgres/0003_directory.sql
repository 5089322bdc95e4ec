-- certportal schema v3 (postgres): the admin directory. Each user row carries a summary of the
-- newest certificate or open enrollment (seed 004's "certificate status" column), kept up to
-- date in the same transaction by every change to enrollments and certificates, so the
-- directory can filter and page 100,000 users through an index.
--   cert_summary: none | pending | ready | issued | superseded | revoked
--   (expired is derived at query time: issued and cert_not_after in the past)
ALTER TABLE users ADD COLUMN cert_summary TEXT NOT NULL DEFAULT 'none';
ALTER TABLE users ADD COLUMN cert_not_after BIGINT;
UPDATE users SET
    cert_summary = COALESCE((
        SELECT CASE WHEN e.state IN ('pending', 'ready') THEN e.state ELSE c.state END
        FROM enrollments e LEFT JOIN certificates c ON c.id = e.certificate_id
        WHERE e.user_id = users.id AND (e.state IN ('pending', 'ready') OR c.id IS NOT NULL)
        ORDER BY e.created_at DESC, e.id DESC LIMIT 1), 'none'),
    cert_not_after = (
        SELECT c.not_after
        FROM enrollments e LEFT JOIN certificates c ON c.id = e.certificate_id
        WHERE e.user_id = users.id AND (e.state IN ('pending', 'ready') OR c.id IS NOT NULL)
        ORDER BY e.created_at DESC, e.id DESC LIMIT 1);
CREATE INDEX users_cert_summary ON users(cert_summary, cert_not_after);
CREATE INDEX users_login_lower ON users(LOWER(login));
CREATE INDEX enrollments_user_newest ON enrollments(user_id, created_at);
