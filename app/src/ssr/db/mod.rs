//! The database: one sqlx pool for the process (SQLite by default, PostgreSQL by URL), the
//! migration runner, and the SQL for every table. SQL lives only in this module.
//!
//! Queries use `$1` placeholders and portable SQL so that one text serves both backends
//! through sqlx's `Any` driver. Times are stored as Unix seconds, flags as integers.

pub mod admin_rows;
pub mod audit_rows;
pub mod auth_rows;
pub mod cas;
pub mod certificates;
pub mod enrollments;
pub mod link_rows;
pub mod mail_rows;
pub mod migrate;
pub mod rows;
pub mod scim_rows;
pub mod settings;
pub mod setup_tokens;
pub mod users;

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{Any, AnyPool, Executor};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub use audit_rows::*;
pub use auth_rows::{PasskeyRow, SessionRow};
pub use cas::*;
pub use certificates::*;
pub use enrollments::*;
pub use link_rows::LinkRow;
pub use mail_rows::*;
pub use rows::Conn;
pub use settings::*;
pub use setup_tokens::*;
pub use users::*;

/// A write transaction. On SQLite it also holds the process's writer gate (see
/// [`Db::begin`]) until it commits, rolls back or is dropped.
pub struct Tx {
    inner: sqlx::Transaction<'static, Any>,
    _gate: Option<tokio::sync::OwnedMutexGuard<()>>,
    commits: Arc<AtomicU64>,
}

impl Tx {
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.inner.commit().await?;
        self.commits.fetch_add(1, Ordering::Release);
        Ok(())
    }

    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        self.inner.rollback().await
    }
}

impl std::ops::Deref for Tx {
    type Target = sqlx::AnyConnection;
    fn deref(&self) -> &Self::Target {
        &self.inner
    }
}

impl std::ops::DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.inner
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Why a database operation failed. The cause is logged, never shown to a browser.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("unsupported database URL (use sqlite://… or postgres://…)")]
    UnsupportedUrl,
    #[error("database error: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error("migration {version} ({name}) failed: {cause}")]
    Migration {
        version: i64,
        name: String,
        cause: String,
    },
    #[error("migration {0} was changed after it was applied; migrations are append-only")]
    MigrationChanged(i64),
    #[error(
        "the database has schema version {0}, newer than this binary knows; upgrade certportal"
    )]
    SchemaTooNew(i64),
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
}

impl DbError {
    /// Whether a unique constraint refused the write: another transaction committed the same
    /// key first (on PostgreSQL two transactions can both check a login is free and then both
    /// insert it; the second insert waits for the first to commit, then fails here).
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, DbError::Sqlx(e)
            if e.as_database_error().is_some_and(|d| d.is_unique_violation()))
    }
}

/// How long something read from the database may be reused when this process committed
/// nothing meanwhile ([`Kept`]): changes by another process (an instance on the same
/// PostgreSQL database, a command-line run) show within this time.
pub const FRESH_FOR: Duration = Duration::from_secs(1);

/// A value read from the database, reused while it is current: while this process has
/// committed no write transaction since it was read ([`Db::commits`]) and for at most
/// [`FRESH_FOR`]. For what is shown, never for what a rule decides: a use case that enforces
/// a rule reads inside its own transaction.
pub struct Kept<T> {
    slot: std::sync::Mutex<Option<(u64, std::time::Instant, T)>>,
}

impl<T> Default for Kept<T> {
    fn default() -> Self {
        Kept {
            slot: std::sync::Mutex::new(None),
        }
    }
}

impl<T: Clone> Kept<T> {
    /// The kept value if it is current, else what `read` reads (kept for next time).
    pub async fn get<E, F>(&self, db: &Db, read: F) -> Result<T, E>
    where
        F: std::future::Future<Output = Result<T, E>>,
    {
        if let Ok(slot) = self.slot.lock() {
            if let Some((commits, made, v)) = slot.as_ref() {
                if db.is_current(*commits, *made) {
                    return Ok(v.clone());
                }
            }
        }
        // Counted before reading: a write committed meanwhile leaves the value already out
        // of date, never mistaken for current.
        let (commits, made) = (db.commits(), std::time::Instant::now());
        let v = read.await?;
        if let Ok(mut slot) = self.slot.lock() {
            *slot = Some((commits, made, v.clone()));
        }
        Ok(v)
    }
}

/// How long a pooled PostgreSQL connection may sit unused before it is checked again before
/// use. A connection that lived through a server restart has normally been idle longer than
/// this, and is replaced before a request gets it; one given back within this time before a
/// restart fails its next query once (that request gets an error) and is then dropped.
const PING_AFTER_IDLE: Duration = Duration::from_secs(1);

/// How many connections a pool holds unless configured (`CERTPORTAL_DATABASE_MAX_CONNECTIONS`):
/// two per CPU core of this machine, at least 4 and at most 16, on either database.
///
/// More is slower, not faster, once every core is busy: sqlx gives each connection back
/// through a task of its own that pings it first, and the more connections are in use, the
/// more requests are half-way through at once, each waiting its turn for a core. On 2 cores
/// with 64 clients the directory's HTML page had its p99 at 41-44 ms with 4 connections,
/// 45-48 with 8 and 64 with 16 on PostgreSQL (37-40 / 40-41 / 46 on SQLite); the bench
/// `directory` measures it (`server/benches/directory.out`).
pub fn default_max_connections() -> u32 {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    u32::try_from(cores.saturating_mul(2))
        .unwrap_or(u32::MAX)
        .clamp(4, 16)
}

/// The process's database handle: cheap to clone (the pool is shared).
#[derive(Debug, Clone)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
    /// SQLite has one writer at a time: write transactions queue here, in the process, in
    /// arrival order, instead of several connections polling for the lock (SQLite's busy
    /// handler sleeps up to 100 ms between tries, which put a pickup's p99 at 640 ms with
    /// eight clients). Other processes on the same file still wait through `busy_timeout`.
    writer: Arc<tokio::sync::Mutex<()>>,
    /// Write transactions this process committed (see [`Db::commits`]).
    commits: Arc<AtomicU64>,
}

impl Db {
    /// Connects with the default pool size ([`default_max_connections`]). Call
    /// [`Db::migrate`] before use.
    pub async fn connect(url: &str) -> Result<Db, DbError> {
        Db::connect_with_pool(url, None).await
    }

    /// Connects with a pool of at most `max_connections` connections (`None`: the
    /// default, [`default_max_connections`]). Call [`Db::migrate`] before use.
    pub async fn connect_with_pool(url: &str, max_connections: Option<u32>) -> Result<Db, DbError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(DbError::UnsupportedUrl);
        };
        let opts = AnyPoolOptions::new()
            .acquire_timeout(Duration::from_secs(30))
            // sqlx asks every pooled connection whether it is alive before each use (and
            // again when it is given back). A SQLite connection is a file handle in this
            // process: never asked. A PostgreSQL connection may have been cut (a server
            // restart), but one given back alive a moment ago is: asked only after
            // `PING_AFTER_IDLE` unused (under load the ping was a third of the round trips
            // of a directory page).
            .test_before_acquire(false)
            .before_acquire(move |conn, meta| {
                Box::pin(async move {
                    if backend == Backend::Postgres && meta.idle_for >= PING_AFTER_IDLE {
                        sqlx::Connection::ping(conn).await?;
                    }
                    Ok(true)
                })
            })
            .max_connections(max_connections.unwrap_or_else(default_max_connections));
        let opts = if backend == Backend::Sqlite {
            opts.after_connect(|conn, _meta| Box::pin(sqlite_pragmas(conn)))
        } else {
            opts
        };
        let pool = opts.connect(url).await?;
        Ok(Db {
            pool,
            backend,
            writer: Arc::default(),
            commits: Arc::default(),
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The most connections the pool opens.
    pub fn max_connections(&self) -> u32 {
        self.pool.options().get_max_connections()
    }

    /// The same SQLite database through one connection of its own, opened by the calling
    /// thread — so the worker thread SQLite's driver starts for it inherits the caller's CPU
    /// affinity (see `ssr::admin::on_one_core`) — sharing this handle's writer gate and
    /// commit count. `None` on PostgreSQL, and for an in-memory database (another connection
    /// would open another database). Close it when done.
    pub async fn own_sqlite_connection(&self) -> Result<Option<Db>, DbError> {
        let options = self.pool.connect_options();
        let url = options.database_url.as_str();
        if self.backend != Backend::Sqlite
            || url.contains(":memory:")
            || url.contains("mode=memory")
        {
            return Ok(None);
        }
        let pool = AnyPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .test_before_acquire(false)
            .after_connect(|conn, _meta| Box::pin(sqlite_pragmas(conn)))
            .connect_with((*options).clone())
            .await?;
        Ok(Some(Db {
            pool,
            backend: self.backend,
            writer: self.writer.clone(),
            commits: self.commits.clone(),
        }))
    }

    /// How many write transactions this process has committed: what was read before a
    /// change of this number may be out of date (the anonymous start page's cache keys on
    /// it). Writes by other processes on the same database are not counted.
    pub fn commits(&self) -> u64 {
        self.commits.load(Ordering::Acquire)
    }

    /// Whether something read at `made`, when [`Db::commits`] was `commits`, is still current
    /// (see [`Kept`]).
    pub fn is_current(&self, commits: u64, made: std::time::Instant) -> bool {
        commits == self.commits() && made.elapsed() < FRESH_FOR
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Starts a write transaction. On SQLite it waits for the process's writer gate, then
    /// takes the write lock at once (`BEGIN IMMEDIATE`), so writers queue instead of failing
    /// on upgrade. A write transaction must not be begun while holding another (on SQLite
    /// that could never proceed).
    pub async fn begin(&self) -> Result<Tx, DbError> {
        Ok(match self.backend {
            Backend::Sqlite => {
                let gate = self.writer.clone().lock_owned().await;
                Tx {
                    inner: self.pool.begin_with("BEGIN IMMEDIATE").await?,
                    _gate: Some(gate),
                    commits: self.commits.clone(),
                }
            }
            Backend::Postgres => Tx {
                inner: self.pool.begin().await?,
                _gate: None,
                commits: self.commits.clone(),
            },
        })
    }

    /// Whether a write transaction begun now would wait for another one (on SQLite, the
    /// process's writer gate is taken; always `false` on PostgreSQL).
    #[cfg(test)]
    pub(crate) fn begin_would_wait(&self) -> bool {
        self.backend == Backend::Sqlite && self.writer.try_lock().is_err()
    }

    /// Runs pending migrations; any failure is returned and must stop start-up.
    pub async fn migrate(&self) -> Result<(), DbError> {
        migrate::run(self).await
    }

    /// `SELECT 1`, for /healthz.
    pub async fn ping(&self) -> Result<(), DbError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Every SQLite connection's settings: WAL lets readers run beside the single writer;
/// `busy_timeout` makes a writer of another process wait for the lock instead of failing.
async fn sqlite_pragmas(conn: &mut sqlx::AnyConnection) -> Result<(), sqlx::Error> {
    conn.execute("PRAGMA journal_mode = WAL").await?;
    conn.execute("PRAGMA synchronous = NORMAL").await?;
    conn.execute("PRAGMA foreign_keys = ON").await?;
    conn.execute("PRAGMA busy_timeout = 10000").await?;
    Ok(())
}

pub(crate) fn get_str(row: &AnyRow, col: &str) -> Result<String, DbError> {
    use sqlx::Row;
    Ok(row.try_get::<String, _>(col)?)
}

pub(crate) fn get_opt_str(row: &AnyRow, col: &str) -> Result<Option<String>, DbError> {
    use sqlx::Row;
    Ok(row.try_get::<Option<String>, _>(col)?)
}

pub(crate) fn get_i64(row: &AnyRow, col: &str) -> Result<i64, DbError> {
    use sqlx::Row;
    Ok(row.try_get::<i64, _>(col)?)
}

pub(crate) fn get_opt_i64(row: &AnyRow, col: &str) -> Result<Option<i64>, DbError> {
    use sqlx::Row;
    Ok(row.try_get::<Option<i64>, _>(col)?)
}

pub(crate) fn get_bytes(row: &AnyRow, col: &str) -> Result<Vec<u8>, DbError> {
    use sqlx::Row;
    Ok(row.try_get::<Vec<u8>, _>(col)?)
}

pub(crate) fn get_opt_bytes(row: &AnyRow, col: &str) -> Result<Option<Vec<u8>>, DbError> {
    use sqlx::Row;
    Ok(row.try_get::<Option<Vec<u8>>, _>(col)?)
}

/// Unit tests' database: a new SQLite file in its own directory, migrated. Keep the
/// directory as long as the database is used.
#[cfg(test)]
pub(crate) async fn migrated_sqlite() -> (tempfile::TempDir, Db) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/t.db?mode=rwc", dir.path().display());
    let db = Db::connect(&url).await.unwrap();
    db.migrate().await.unwrap();
    (dir, db)
}

/// Unit tests' user `id` (login `id`), with only the columns every user must have.
#[cfg(test)]
pub(crate) async fn insert_test_user(c: &mut Conn, id: &str) {
    sqlx::query(
        "INSERT INTO users (id, login, display_name, email, is_admin, active, created_at, \
         updated_at) VALUES ($1, $1, 'U', '', 0, 1, 0, 0)",
    )
    .bind(id)
    .execute(c)
    .await
    .unwrap();
}
