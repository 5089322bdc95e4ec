-- certportal schema v8 (postgres): substring search over logins and display names through
-- trigram indexes (pg_trgm, a trusted extension shipped with PostgreSQL), so the directory's
-- `LOWER(login) LIKE '%term%'` reads the few rows that contain the term instead of every row.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX users_login_trgm ON users USING gin (LOWER(login) gin_trgm_ops);
CREATE INDEX users_display_name_trgm ON users USING gin (LOWER(display_name) gin_trgm_ops);
-- A status filter walks the users of that status in login order (the directory's order), so
-- its first page stops after 50 rows instead of sorting every user of the status.
CREATE INDEX users_summary_login ON users(cert_summary, login);
