-- certportal schema v10 (postgres): the number of users, kept by triggers, so the directory's
-- unfiltered first page (every administrator's start) reads one row instead of counting every
-- user on each request (COUNT(*) reads the whole table or index). Statement-level triggers
-- with transition tables: a multi-row INSERT updates the counter once, not once per row.
CREATE TABLE user_count (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n BIGINT NOT NULL
);
INSERT INTO user_count (id, n) SELECT 1, COUNT(*) FROM users;
CREATE FUNCTION user_count_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE user_count SET n = n + (SELECT COUNT(*) FROM inserted) WHERE id = 1;
    RETURN NULL;
END;
$$;
CREATE FUNCTION user_count_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE user_count SET n = n - (SELECT COUNT(*) FROM deleted) WHERE id = 1;
    RETURN NULL;
END;
$$;
CREATE TRIGGER user_count_insert AFTER INSERT ON users
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION user_count_insert();
CREATE TRIGGER user_count_delete AFTER DELETE ON users
    REFERENCING OLD TABLE AS deleted FOR EACH STATEMENT EXECUTE FUNCTION user_count_delete();
