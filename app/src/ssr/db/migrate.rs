//! A small, strict migration runner: each migration runs in its own transaction with its
//! version and checksum recorded; a changed or unknown migration stops start-up. PostgreSQL
//! instances starting together serialise on an advisory lock.

use super::{Backend, Db, DbError};
use sha2::{Digest, Sha256};
use sqlx::Row;

struct Migration {
    version: i64,
    name: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "init",
        sqlite: include_str!("../../../../migrations/sqlite/0001_init.sql"),
        postgres: include_str!("../../../../migrations/postgres/0001_init.sql"),
    },
    Migration {
        version: 2,
        name: "auth",
        sqlite: include_str!("../../../../migrations/sqlite/0002_auth.sql"),
        postgres: include_str!("../../../../migrations/postgres/0002_auth.sql"),
    },
    Migration {
        version: 3,
        name: "directory",
        sqlite: include_str!("../../../../migrations/sqlite/0003_directory.sql"),
        postgres: include_str!("../../../../migrations/postgres/0003_directory.sql"),
    },
    Migration {
        version: 4,
        name: "pickup",
        sqlite: include_str!("../../../../migrations/sqlite/0004_pickup.sql"),
        postgres: include_str!("../../../../migrations/postgres/0004_pickup.sql"),
    },
    Migration {
        version: 5,
        name: "locks",
        sqlite: include_str!("../../../../migrations/sqlite/0005_locks.sql"),
        postgres: include_str!("../../../../migrations/postgres/0005_locks.sql"),
    },
    Migration {
        version: 6,
        name: "mail",
        sqlite: include_str!("../../../../migrations/sqlite/0006_mail.sql"),
        postgres: include_str!("../../../../migrations/postgres/0006_mail.sql"),
    },
    Migration {
        version: 7,
        name: "time_zone",
        sqlite: include_str!("../../../../migrations/sqlite/0007_time_zone.sql"),
        postgres: include_str!("../../../../migrations/postgres/0007_time_zone.sql"),
    },
    Migration {
        version: 8,
        name: "search",
        sqlite: include_str!("../../../../migrations/sqlite/0008_search.sql"),
        postgres: include_str!("../../../../migrations/postgres/0008_search.sql"),
    },
    Migration {
        version: 9,
        name: "provisioning",
        sqlite: include_str!("../../../../migrations/sqlite/0009_provisioning.sql"),
        postgres: include_str!("../../../../migrations/postgres/0009_provisioning.sql"),
    },
    Migration {
        version: 10,
        name: "user_count",
        sqlite: include_str!("../../../../migrations/sqlite/0010_user_count.sql"),
        postgres: include_str!("../../../../migrations/postgres/0010_user_count.sql"),
    },
];

/// The newest schema version this binary knows.
pub fn latest_version() -> i64 {
    MIGRATIONS.iter().map(|m| m.version).max().unwrap_or(0)
}

const LOCK_KEY: i64 = 0x6365_7274_706f_7274; // "certport"

pub(super) async fn run(db: &Db) -> Result<(), DbError> {
    run_list(db, MIGRATIONS).await
}

async fn run_list(db: &Db, migrations: &[Migration]) -> Result<(), DbError> {
    let mut tx = db.begin().await?;
    if db.backend() == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(LOCK_KEY)
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version BIGINT PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL)",
    )
    .execute(&mut *tx)
    .await?;
    let applied = sqlx::query("SELECT version, checksum FROM schema_migrations ORDER BY version")
        .fetch_all(&mut *tx)
        .await?;
    let mut done = Vec::new();
    for row in &applied {
        let version: i64 = row.try_get("version")?;
        let checksum: String = row.try_get("checksum")?;
        match migrations.iter().find(|m| m.version == version) {
            None => return Err(DbError::SchemaTooNew(version)),
            Some(m) if checksum_of(m, db.backend()) != checksum => {
                return Err(DbError::MigrationChanged(version))
            }
            Some(_) => done.push(version),
        }
    }
    for m in migrations.iter().filter(|m| !done.contains(&m.version)) {
        let sql = match db.backend() {
            Backend::Sqlite => m.sqlite,
            Backend::Postgres => m.postgres,
        };
        sqlx::raw_sql(sql)
            .execute(&mut *tx)
            .await
            .map_err(|e| DbError::Migration {
                version: m.version,
                name: m.name.to_string(),
                cause: e.to_string(),
            })?;
        sqlx::query("INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)")
            .bind(m.version)
            .bind(m.name)
            .bind(checksum_of(m, db.backend()))
            .execute(&mut *tx)
            .await?;
    }
    // All pending migrations commit together: a failure leaves the schema as it was.
    tx.commit().await?;
    Ok(())
}

fn checksum_of(m: &Migration, backend: Backend) -> String {
    let sql = match backend {
        Backend::Sqlite => m.sqlite,
        Backend::Postgres => m.postgres,
    };
    hex::encode(Sha256::digest(sql.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_failing_migration_stops_and_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/t.db?mode=rwc", dir.path().display());
        let db = Db::connect(&url).await.unwrap();
        let bad = [
            Migration {
                version: 1,
                name: "ok",
                sqlite: "CREATE TABLE a (x INTEGER);",
                postgres: "",
            },
            Migration {
                version: 2,
                name: "broken",
                sqlite: "CREATE TABLE b (y INTEGER); THIS IS NOT SQL;",
                postgres: "",
            },
        ];
        let err = run_list(&db, &bad).await;
        assert!(
            matches!(err, Err(DbError::Migration { version: 2, .. })),
            "{err:?}"
        );
        // Nothing of the batch was applied, not even the first migration's table.
        let tables = sqlx::query("SELECT name FROM sqlite_master WHERE name IN ('a','b')")
            .fetch_all(db.pool())
            .await
            .map(|r| r.len());
        assert_eq!(tables.ok(), Some(0));

        // The good one alone applies; then a changed text is refused.
        assert!(run_list(&db, &bad[..1]).await.is_ok());
        let changed = [Migration {
            version: 1,
            name: "ok",
            sqlite: "CREATE TABLE a (x TEXT);",
            postgres: "",
        }];
        assert!(matches!(
            run_list(&db, &changed).await,
            Err(DbError::MigrationChanged(1))
        ));
        // A binary that knows fewer migrations than the database refuses to start.
        assert!(matches!(
            run_list(&db, &[]).await,
            Err(DbError::SchemaTooNew(1))
        ));
    }
}
