-- certportal schema v10 (sqlite): the number of users, kept by triggers, so the directory's
-- unfiltered first page (every administrator's start) reads one row instead of counting every
-- user on each request (COUNT(*) reads the whole table or index).
CREATE TABLE user_count (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n BIGINT NOT NULL
);
INSERT INTO user_count (id, n) SELECT 1, COUNT(*) FROM users;
CREATE TRIGGER user_count_insert AFTER INSERT ON users
BEGIN
    UPDATE user_count SET n = n + 1 WHERE id = 1;
END;
CREATE TRIGGER user_count_delete AFTER DELETE ON users
BEGIN
    UPDATE user_count SET n = n - 1 WHERE id = 1;
END;
