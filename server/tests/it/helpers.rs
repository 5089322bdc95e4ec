//! Test harness: `spawn(Backend)` gives a running portal with its own data directory, its own
//! database and a manual clock; `both!` runs one scenario on SQLite and on PostgreSQL.

use app::ssr::audit::Actor;
use app::ssr::auth::{self, UserInput};
use app::ssr::clock::{Clock, ManualClock};
use app::ssr::db::{self, NewUser, UserRow};
use app::ssr::Services;
use reqwest::header::{HeaderMap, HeaderValue, COOKIE, SET_COOKIE};
use server::config::Config;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

pub const PASSPHRASE: &str = "integration test passphrase";
/// 2026-01-01T00:00:00Z: tests run on a fixed, movable clock.
pub const T0: i64 = 1_767_225_600;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub base: String,
    pub dir: tempfile::TempDir,
    pub clock: ManualClock,
    pub services: Services,
    pub cfg: Config,
    pub database_url: String,
    pub running: Option<server::Running>,
}

impl TestApp {
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Environment for running the `certportal` binary against this portal's database.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            (
                "CERTPORTAL_DATA_DIR".into(),
                self.cfg.data_dir.display().to_string(),
            ),
            ("CERTPORTAL_DATABASE_URL".into(), self.database_url.clone()),
            ("CERTPORTAL_CA_PASSPHRASE".into(), PASSPHRASE.into()),
            (
                "CERTPORTAL_PUBLIC_URL".into(),
                self.services.public_url.clone(),
            ),
            ("CERTPORTAL_LOG".into(), "warn".into()),
        ]
    }

    pub async fn stop(mut self) {
        if let Some(r) = self.running.take() {
            r.stop().await;
        }
    }

    /// Adds a user directly (account management has its own use cases and tests).
    pub async fn add_user(&self, login: &str, is_admin: bool) -> UserRow {
        let mut tx = self.services.db.begin().await.unwrap();
        let u = db::insert_user(
            &mut tx,
            &app::ssr::ids::new_id(),
            &NewUser {
                login: login.into(),
                display_name: format!("{login} Display"),
                email: format!("{login}@example.com"),
                upn: Some(format!("{login}@corp.example")),
                department_id: None,
                is_admin,
                password_hash: None,
            },
            self.clock.now(),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        u
    }

    pub fn actor(&self, u: &UserRow) -> Actor {
        Actor::user(&u.id, &u.login, u.is_admin, Some("127.0.0.1".into()))
    }

    /// Every history record, oldest first.
    pub async fn audit_records(&self) -> Vec<db::AuditRecord> {
        let mut c = self.services.conn().await.unwrap();
        let mut v = db::list_audit(&mut c, None, None, 100_000).await.unwrap();
        v.reverse();
        v
    }

    /// The number of rows in `table`.
    pub async fn rows_in(&self, table: &str) -> i64 {
        use sqlx::Row;
        let mut c = self.services.conn().await.unwrap();
        sqlx::query(&format!("SELECT COUNT(*) AS n FROM {table}"))
            .fetch_one(&mut *c)
            .await
            .unwrap()
            .try_get::<i64, _>("n")
            .unwrap()
    }

    pub async fn audit_actions(&self) -> Vec<String> {
        let mut c = self.services.conn().await.unwrap();
        let mut v: Vec<String> = db::list_audit(&mut c, None, None, 10_000)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.entry.action)
            .collect();
        v.reverse();
        v
    }
}

/// A fresh PostgreSQL database on the test server.
async fn fresh_postgres() -> String {
    let admin = std::env::var("CERTPORTAL_TEST_POSTGRES_URL").unwrap_or_else(|_| {
        panic!("CERTPORTAL_TEST_POSTGRES_URL is not set: run the suite with .ci/test (it starts PostgreSQL)")
    });
    let name = format!("cp_test_{}", &app::ssr::ids::new_id()[..12]);
    let db = db::Db::connect(&admin)
        .await
        .expect("connect to the PostgreSQL test server");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(db.pool())
        .await
        .unwrap();
    db.close().await;
    let base = admin.rsplit_once('/').map(|(b, _)| b.to_string()).unwrap();
    format!("{base}/{name}")
}

pub async fn database_url(backend: Backend, dir: &Path) -> String {
    match backend {
        Backend::Sqlite => format!(
            "sqlite://{}/certportal.db?mode=rwc",
            dir.join("data").display()
        ),
        Backend::Postgres => fresh_postgres().await,
    }
}

pub fn config(dir: &Path, database_url: &str) -> Config {
    config_with(dir, database_url, &[])
}

/// [`config`] with more `CERTPORTAL_*` settings.
pub fn config_with(dir: &Path, database_url: &str, extra: &[(&'static str, String)]) -> Config {
    let mut vars = HashMap::new();
    for (k, v) in extra {
        vars.insert(*k, v.clone());
    }
    vars.insert(
        "CERTPORTAL_DATA_DIR",
        dir.join("data").display().to_string(),
    );
    vars.insert("CERTPORTAL_LISTEN", "127.0.0.1:0".to_string());
    vars.insert("CERTPORTAL_DATABASE_URL", database_url.to_string());
    vars.insert("CERTPORTAL_CA_PASSPHRASE", PASSPHRASE.to_string());
    vars.insert(
        "CERTPORTAL_SITE_ROOT",
        dir.join("site").display().to_string(),
    );
    Config::load(None, &move |k| vars.get(k).cloned()).unwrap()
}

/// Starts a portal on a new database.
pub async fn spawn(backend: Backend) -> TestApp {
    spawn_at(backend, T0).await
}

/// Starts a portal whose clock starts at `now` (for checks by tools that read the real clock,
/// such as `openssl verify` with a CRL's nextUpdate).
pub async fn spawn_at(backend: Backend, now: i64) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let url = database_url(backend, dir.path()).await;
    spawn_on_at(dir, url, now).await
}

/// The real time, for [`spawn_at`].
pub fn real_now() -> i64 {
    app::ssr::clock::SystemClock.now()
}

/// Starts a portal on an existing database (a second instance, or a restart).
pub async fn spawn_on(dir: tempfile::TempDir, database_url: String) -> TestApp {
    spawn_on_at(dir, database_url, T0).await
}

/// Starts a portal on a new SQLite database with more `CERTPORTAL_*` settings.
pub async fn spawn_with(extra: &[(&'static str, String)]) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let url = database_url(Backend::Sqlite, dir.path()).await;
    let cfg = config_with(dir.path(), &url, extra);
    start_with(dir, url, T0, cfg).await
}

/// Starts a portal on a new database of `backend` with more `CERTPORTAL_*` settings.
pub async fn spawn_backend_with(backend: Backend, extra: &[(&'static str, String)]) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let url = database_url(backend, dir.path()).await;
    let cfg = config_with(dir.path(), &url, extra);
    start_with(dir, url, T0, cfg).await
}

/// As [`spawn_backend_with`], with the clock starting at `now`.
pub async fn spawn_backend_with_at(
    backend: Backend,
    extra: &[(&'static str, String)],
    now: i64,
) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let url = database_url(backend, dir.path()).await;
    let cfg = config_with(dir.path(), &url, extra);
    start_with(dir, url, now, cfg).await
}

/// Starts another portal on an existing database with more `CERTPORTAL_*` settings.
pub async fn spawn_on_with(database_url: String, extra: &[(&'static str, String)]) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config_with(dir.path(), &database_url, extra);
    start_with(dir, database_url, T0, cfg).await
}

async fn spawn_on_at(dir: tempfile::TempDir, database_url: String, now: i64) -> TestApp {
    let cfg = config(dir.path(), &database_url);
    start_with(dir, database_url, now, cfg).await
}

async fn start_with(
    dir: tempfile::TempDir,
    database_url: String,
    now: i64,
    cfg: Config,
) -> TestApp {
    let clock = ManualClock::new(now);
    let running = server::start(&cfg, Arc::new(clock.clone())).await.unwrap();
    TestApp {
        base: format!("http://localhost:{}", running.addr.port()),
        services: running.services.clone(),
        dir,
        clock,
        cfg,
        database_url,
        running: Some(running),
    }
}

/// Runs blocking work inside an async test, such as an external tool that calls back into the
/// portal running in this same process: on the multi-threaded runtime the worker first hands its
/// queued tasks to another thread, so no task of the portal waits behind the blocked thread.
pub fn blocking<T>(f: impl FnOnce() -> T) -> T {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(h) if h.runtime_flavor() == RuntimeFlavor::MultiThread => tokio::task::block_in_place(f),
        _ => f(),
    }
}

/// A child process that is killed and reaped when dropped: a failed assertion never leaves a
/// server running after its test (nor holding the test run's output open).
pub struct Reaped(pub std::process::Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A port that was free a moment ago (for a server started in another process).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits (bounded) until `child` accepts connections on every one of `ports`; false when it
/// exited first (a port taken meanwhile) or never listened.
pub async fn listening(child: &mut Reaped, ports: &[u16]) -> bool {
    for _ in 0..300 {
        if child.0.try_wait().unwrap().is_some() {
            return false;
        }
        if ports
            .iter()
            .all(|p| std::net::TcpStream::connect(("127.0.0.1", *p)).is_ok())
        {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    false
}

/// Runs an external tool and returns (success, stdout+stderr).
pub fn run(cmd: &str, args: &[&str]) -> (bool, String) {
    let out = blocking(|| Command::new(cmd).args(args).output())
        .unwrap_or_else(|e| panic!("cannot run {cmd}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// Runs a tool that must succeed; returns its output.
pub fn ok(cmd: &str, args: &[&str]) -> String {
    let (success, text) = run(cmd, args);
    assert!(success, "{cmd} {args:?} failed:\n{text}");
    text
}

/// Defines `NAME_sqlite` and `NAME_postgres` running `scenario(Backend)`.
#[macro_export]
macro_rules! both {
    ($name:ident, $scenario:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$scenario($crate::helpers::Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$scenario($crate::helpers::Backend::Postgres).await
            }
        }
    };
}

/// Percent-encodes a form value.
pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

// ---------------------------------------------------------------- HTTP as a browser

/// The password of users made by [`activated_user`].
pub const PW: &str = "correct horse battery staple";

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        // A request the portal never answers fails the test with its address instead of
        // hanging the run (the portal answers every test request in well under a second).
        .timeout(std::time::Duration::from_secs(120))
        .build()
        .unwrap()
}

/// POSTs a server function with a form body and an optional session cookie.
pub async fn call(
    app: &TestApp,
    name: &str,
    body: &[(&str, &str)],
    cookie: Option<&str>,
) -> reqwest::Response {
    post_fn(&app.base, name, body, cookie, None, &[]).await
}

/// [`call`] with extra request headers (a proxy's `X-Forwarded-For`, say).
pub async fn call_with(
    app: &TestApp,
    name: &str,
    body: &[(&str, &str)],
    cookie: Option<&str>,
    headers: &[(&'static str, &str)],
) -> reqwest::Response {
    post_fn(&app.base, name, body, cookie, None, headers).await
}

/// POSTs a server function as a browser without JavaScript does (`Accept: text/html`), so
/// the answer is a redirect.
pub async fn form_post(
    app: &TestApp,
    name: &str,
    body: &[(&str, &str)],
    cookie: Option<&str>,
) -> reqwest::Response {
    post_fn(
        &app.base,
        name,
        body,
        cookie,
        Some("text/html,application/xhtml+xml"),
        &[],
    )
    .await
}

async fn post_fn(
    base: &str,
    name: &str,
    body: &[(&str, &str)],
    cookie: Option<&str>,
    accept: Option<&'static str>,
    extra: &[(&'static str, &str)],
) -> reqwest::Response {
    let mut h = HeaderMap::new();
    for (k, v) in extra {
        h.append(*k, HeaderValue::from_str(v).unwrap());
    }
    h.insert(
        "content-type",
        HeaderValue::from_static("application/x-www-form-urlencoded"),
    );
    if let Some(a) = accept {
        h.insert("accept", HeaderValue::from_static(a));
    }
    if let Some(c) = cookie {
        // A bare token is the session; `name=value; …` is sent as it is.
        let header = if c.contains('=') {
            c.to_string()
        } else {
            format!("certportal={c}")
        };
        h.insert(COOKIE, HeaderValue::from_str(&header).unwrap());
    }
    let body: String = body
        .iter()
        .map(|(k, v)| format!("{k}={}", urlencode(v)))
        .collect::<Vec<_>>()
        .join("&");
    client()
        .post(format!("{base}/api/{name}"))
        .headers(h)
        .body(body)
        .send()
        .await
        .unwrap()
}

/// The session token a response set, if any.
pub fn session_cookie(r: &reqwest::Response) -> Option<String> {
    r.headers().get_all(SET_COOKIE).iter().find_map(|v| {
        let v = v.to_str().ok()?;
        let (kv, _) = v.split_once(';')?;
        let (k, val) = kv.split_once('=')?;
        (k == "certportal" && !val.is_empty()).then(|| val.to_string())
    })
}

/// Creates and activates a user through the real HTTP API; returns the session token.
pub async fn activated_user(app: &TestApp, login: &str, is_admin: bool) -> String {
    let input = UserInput {
        login: login.into(),
        display_name: format!("{login} Display"),
        email: format!("{login}@example.com"),
        is_admin,
        ..Default::default()
    };
    let (_, link) = auth::create_user(&app.services, &Actor::cli(), &input)
        .await
        .unwrap();
    let token = link.rsplit('/').next().unwrap();
    let r = call(app, "activate", &[("token", token), ("password", PW)], None).await;
    assert_eq!(r.status(), 200);
    let set = r
        .headers()
        .get(SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax") && !set.contains("Secure"),
        "{set}"
    );
    // The link is spent.
    let again = call(app, "activate", &[("token", token), ("password", PW)], None).await;
    assert!(!again.status().is_success());
    session_cookie(&r).unwrap()
}

/// Runs the `certportal` binary with exactly `env`; returns (exit code, stdout, stderr).
pub fn certportal(env: &[(String, String)], args: &[&str]) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_certportal"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = blocking(|| cmd.args(args).output()).unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Signs in an existing user with [`PW`]; returns the session cookie.
pub async fn sign_in(app: &TestApp, login: &str) -> String {
    let r = call(app, "login", &[("login", login), ("password", PW)], None).await;
    assert_eq!(r.status(), 200, "sign-in of {login}");
    session_cookie(&r).unwrap()
}

/// A transaction holding a department uncommitted (see [`hold_new_department`]), on
/// connections of the test's own: the portal's pool is left whole to the requests that race.
pub struct Held {
    tx: db::Tx,
    own: db::Db,
}

/// On PostgreSQL, a transaction holding a new top-level department `name` uncommitted: a use
/// case that makes a department under it waits on its key (after the checks it made before).
/// `None` on SQLite, where write transactions never overlap.
pub async fn hold_new_department(app: &TestApp, backend: Backend, name: &str) -> Option<Held> {
    if backend != Backend::Postgres {
        return None;
    }
    let own = db::Db::connect_with_pool(&app.database_url, Some(2))
        .await
        .unwrap();
    let mut tx = own.begin().await.unwrap();
    sqlx::query("INSERT INTO departments (id, parent_id, name, path) VALUES ($1, NULL, $2, $2)")
        .bind(format!("held-{name}"))
        .bind(name)
        .execute(&mut *tx)
        .await
        .unwrap();
    Some(Held { tx, own })
}

/// Commits `held` once `waiting` transactions wait on a lock in the test's database (a bounded
/// poll of `pg_stat_activity`: they are all inside their transactions at once, past their
/// checks), so that what they do next races for certain.
pub async fn commit_when_waiting(held: Option<Held>, waiting: i64) {
    let Some(Held { tx, own }) = held else { return };
    let mut c = own.pool().acquire().await.unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM pg_stat_activity \
             WHERE datname = current_database() AND wait_event_type = 'Lock'",
        )
        .fetch_one(&mut *c)
        .await
        .unwrap();
        if sqlx::Row::get::<i64, _>(&row, "n") >= waiting {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{waiting} transactions never waited on the held department"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    tx.commit().await.unwrap();
    drop(c);
    own.close().await;
}
