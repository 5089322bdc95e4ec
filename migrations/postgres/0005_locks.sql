-- certportal schema v5: named locks. A use case that must see and change a set of rows no
-- single row stands for (the administrators: never none; the first-admin setup) takes the
-- lock's row first with a no-op UPDATE, so on PostgreSQL such transactions run one at a
-- time (SQLite's BEGIN IMMEDIATE already serialises every writer).
CREATE TABLE locks (
    name TEXT PRIMARY KEY
);
INSERT INTO locks (name) VALUES ('admins');
