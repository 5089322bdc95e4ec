//! The `setup_tokens` table (first-administrator links).

use super::rows::*;
use super::*;

pub async fn insert_setup_token(
    c: &mut Conn,
    hash: &str,
    now: i64,
    expires_at: i64,
) -> Result<(), DbError> {
    sqlx::query("INSERT INTO setup_tokens (token_hash, created_at, expires_at) VALUES ($1,$2,$3)")
        .bind(hash)
        .bind(now)
        .bind(expires_at)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// Is this setup token unused and unexpired at `now`?
pub async fn setup_token_valid(c: &mut Conn, hash: &str, now: i64) -> Result<bool, DbError> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM setup_tokens WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
    )
    .bind(hash)
    .bind(now)
    .fetch_one(&mut *c)
    .await?;
    Ok(get_i64(&row, "n")? == 1)
}

/// Marks a setup token used; `false` if it was already used, expired or unknown.
pub async fn consume_setup_token(c: &mut Conn, hash: &str, now: i64) -> Result<bool, DbError> {
    let r = sqlx::query(
        "UPDATE setup_tokens SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1",
    )
    .bind(now)
    .bind(hash)
    .execute(&mut *c)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Voids every unused setup token (a newer link replaces them).
pub async fn void_setup_tokens(c: &mut Conn, now: i64) -> Result<u64, DbError> {
    Ok(
        sqlx::query("UPDATE setup_tokens SET used_at = $1 WHERE used_at IS NULL")
            .bind(now)
            .execute(&mut *c)
            .await?
            .rows_affected(),
    )
}
