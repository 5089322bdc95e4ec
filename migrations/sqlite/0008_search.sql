-- certportal schema v8 (sqlite): substring search over logins and display names through a
-- trigram index (FTS5 `trigram` tokenizer), so a search of 100,000 users reads the few rows
-- that contain the term instead of every row. The directory narrows a search of three or more
-- characters through it and then applies the same LIKE as before (same results).
-- The index is keyed by `users.search_key`, a stable integer given to each user on insert
-- (a table's implicit rowid may change on VACUUM), and kept in step by triggers, whatever
-- writes the users (portal, CLI, imports).
ALTER TABLE users ADD COLUMN search_key INTEGER;
UPDATE users SET search_key = rowid;
CREATE UNIQUE INDEX users_search_key ON users(search_key);
CREATE VIRTUAL TABLE user_search USING fts5(login, display_name, tokenize = 'trigram');
INSERT INTO user_search(rowid, login, display_name)
    SELECT search_key, login, display_name FROM users;
CREATE TRIGGER users_search_insert AFTER INSERT ON users BEGIN
    UPDATE users SET search_key = (SELECT COALESCE(MAX(search_key), 0) + 1 FROM users)
        WHERE id = new.id;
    INSERT INTO user_search(rowid, login, display_name)
        VALUES ((SELECT search_key FROM users WHERE id = new.id), new.login, new.display_name);
END;
CREATE TRIGGER users_search_update AFTER UPDATE OF login, display_name ON users BEGIN
    UPDATE user_search SET login = new.login, display_name = new.display_name
        WHERE rowid = new.search_key;
END;
CREATE TRIGGER users_search_delete AFTER DELETE ON users BEGIN
    DELETE FROM user_search WHERE rowid = old.search_key;
END;
-- A status filter walks the users of that status in login order (the directory's order), so
-- its first page stops after 50 rows instead of sorting every user of the status.
CREATE INDEX users_summary_login ON users(cert_summary, login);
