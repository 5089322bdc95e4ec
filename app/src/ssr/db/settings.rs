//! The `settings` table (the policy, the current CA id).

use super::rows::*;
use super::*;

pub async fn get_setting(c: &mut Conn, key: &str) -> Result<Option<String>, DbError> {
    let row = sqlx::query("SELECT value FROM settings WHERE key = $1")
        .bind(key)
        .fetch_optional(&mut *c)
        .await?;
    row.as_ref().map(|r| get_str(r, "value")).transpose()
}

pub async fn put_setting(c: &mut Conn, key: &str, value: &str) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO settings (key, value) VALUES ($1, $2) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    .bind(key)
    .bind(value)
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// Inserts a setting only if it is absent; returns whether this call inserted it. Used to
/// elect one winner when several instances start at once.
pub async fn insert_setting_if_absent(
    c: &mut Conn,
    key: &str,
    value: &str,
) -> Result<bool, DbError> {
    let r = sqlx::query(
        "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
    )
    .bind(key)
    .bind(value)
    .execute(&mut *c)
    .await?;
    Ok(r.rows_affected() == 1)
}
