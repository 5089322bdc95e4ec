//! Shared by the bench binaries: an in-process portal on real SQLite in a temporary
//! directory, listening on a free port.

use std::time::Instant;

/// A running portal and the directory that holds its data.
pub struct Bench {
    pub running: server::Running,
    pub base: String,
    pub _dir: tempfile::TempDir,
}

/// Starts a portal on a fresh SQLite database (log level `warn`).
#[allow(dead_code)] // not every bench binary uses it
pub async fn portal() -> Bench {
    portal_on(None).await
}

/// Starts a portal on a fresh database: a new one on the PostgreSQL server at `postgres`
/// (a URL of a database to connect to for `CREATE DATABASE`), else SQLite.
#[allow(dead_code)] // not every bench binary uses it
pub async fn portal_on(postgres: Option<&str>) -> Bench {
    let dir = tempfile::tempdir().unwrap();
    let mut vars: Vec<(&str, String)> = vec![
        (
            "CERTPORTAL_DATA_DIR",
            dir.path().join("data").display().to_string(),
        ),
        ("CERTPORTAL_LISTEN", "127.0.0.1:0".into()),
        ("CERTPORTAL_CA_PASSPHRASE", "benchmark passphrase".into()),
        (
            "CERTPORTAL_SITE_ROOT",
            dir.path().join("site").display().to_string(),
        ),
        ("CERTPORTAL_LOG", "warn".into()),
    ];
    // The pool's size, when the bench is run with it set (to compare sizes on one build).
    if let Ok(n) = std::env::var("CERTPORTAL_DATABASE_MAX_CONNECTIONS") {
        vars.push(("CERTPORTAL_DATABASE_MAX_CONNECTIONS", n));
    }
    if let Some(admin_url) = postgres {
        let name = format!("cp_bench_{}", std::process::id());
        let db = app::ssr::db::Db::connect(admin_url).await.unwrap();
        sqlx::query(&format!("DROP DATABASE IF EXISTS {name}"))
            .execute(db.pool())
            .await
            .unwrap();
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(db.pool())
            .await
            .unwrap();
        db.close().await;
        let base = admin_url.rsplit_once('/').unwrap().0;
        vars.push(("CERTPORTAL_DATABASE_URL", format!("{base}/{name}")));
    }
    let cfg = server::config::Config::load(None, &move |k| {
        vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone())
    })
    .unwrap();
    let running = server::start(&cfg, server::system_clock()).await.unwrap();
    let base = format!("http://127.0.0.1:{}", running.addr.port());
    Bench {
        running,
        base,
        _dir: dir,
    }
}

/// Operations per second since `t`.
#[allow(dead_code)] // not every bench binary uses it
pub fn rate(n: usize, t: Instant) -> f64 {
    n as f64 / t.elapsed().as_secs_f64()
}

/// This process's resident set size in kB (`VmRSS` in `/proc/self/status`).
#[allow(dead_code)] // not every bench binary uses it
pub fn rss_kb() -> u64 {
    status_kb("VmRSS:")
}

/// The part of the resident set that is the process's own memory (`RssAnon`: heap, stacks),
/// as opposed to the executable's code and data mapped from its file (`RssFile`), which the
/// kernel shares and drops under pressure.
#[allow(dead_code)] // not every bench binary uses it
pub fn rss_anon_kb() -> u64 {
    status_kb("RssAnon:")
}

fn status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(field))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}
