//! Crash safety (issue 12): the real `certportal` binary is killed with SIGKILL at random
//! moments while it runs a bulk "Create" with "remove existing" over 300 users and phones
//! pick links up, 50 times on SQLite and on PostgreSQL. After every kill the database must
//! hold: every certificate with its audit row, every revoked certificate on its CA's stored
//! CRL, every enrollment with its history, issued enrollments with their certificate, at
//! most one open enrollment per user (a "remove existing" is all or nothing), at most one
//! open renewal per certificate, unique serials — and the portal must start again.

use crate::helpers::*;
use app::ssr::audit::Actor;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const USERS: usize = 300;
/// Rounds per database (`CERTPORTAL_CRASH_ROUNDS` overrides it for a quick local run).
fn rounds() -> usize {
    std::env::var("CERTPORTAL_CRASH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50)
}

/// A small deterministic generator (xorshift), so a failing round can be replayed.
struct Rng(u64);
impl Rng {
    fn next(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % bound
    }
}

fn start(env: &[(String, String)], port: u16) -> Reaped {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_certportal"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env.iter().cloned())
        .env("CERTPORTAL_LISTEN", format!("127.0.0.1:{port}"))
        .env("CERTPORTAL_PUBLIC_URL", format!("http://localhost:{port}"))
        .arg("serve")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    Reaped(cmd.spawn().unwrap())
}

/// Starts the portal and waits (bounded) until it answers `/healthz`: (process, base URL).
/// A port picked by the kernel can be taken by another process before the portal binds it on
/// a busy machine; then the portal exits at start and is started again on another port.
async fn started(env: &[(String, String)]) -> (Reaped, String) {
    for _ in 0..5 {
        let port = free_port();
        let base = format!("http://localhost:{port}");
        let mut child = start(env, port);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(r) = client().get(format!("{base}/healthz")).send().await {
                if r.status() == 200 {
                    return (child, base);
                }
            }
            if child.0.try_wait().unwrap().is_some() {
                break;
            }
            assert!(Instant::now() < deadline, "the portal did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    panic!("the portal exited at start five times");
}

async fn rows(s: &app::ssr::Services, sql: &str) -> Vec<String> {
    use sqlx::Row;
    let mut c = s.conn().await.unwrap();
    sqlx::query(sql)
        .fetch_all(&mut *c)
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get::<String, _>(0).unwrap())
        .collect()
}

/// The invariants that must hold whenever the process died.
async fn check(s: &app::ssr::Services, round: usize, sqlite: bool) {
    let none = |what: &str, v: Vec<String>| assert!(v.is_empty(), "round {round}: {what}: {v:?}");
    none(
        "duplicate serials",
        rows(
            s,
            "SELECT serial_hex FROM certificates GROUP BY serial_hex HAVING COUNT(*) > 1",
        )
        .await,
    );
    none(
        "certificates without their issue record",
        rows(
            s,
            "SELECT c.id FROM certificates c WHERE c.id NOT IN (SELECT a.certificate_id \
             FROM audit a WHERE a.certificate_id IS NOT NULL AND a.action = 'certificate.issue')",
        )
        .await,
    );
    none(
        "revoked certificates without their revocation record",
        rows(
            s,
            "SELECT c.id FROM certificates c WHERE c.revoked_at IS NOT NULL AND c.id NOT IN \
             (SELECT a.certificate_id FROM audit a WHERE a.certificate_id IS NOT NULL \
              AND a.action IN ('certificate.revoke', 'certificate.supersede'))",
        )
        .await,
    );
    none(
        "enrollments without history",
        rows(
            s,
            "SELECT e.id FROM enrollments e WHERE e.id NOT IN \
             (SELECT a.enrollment_id FROM audit a WHERE a.enrollment_id IS NOT NULL)",
        )
        .await,
    );
    none(
        "issued enrollments without their certificate",
        rows(
            s,
            "SELECT e.id FROM enrollments e WHERE e.state = 'issued' AND e.id NOT IN \
             (SELECT c.enrollment_id FROM certificates c)",
        )
        .await,
    );
    none(
        "users with two open enrollments (a half-done remove existing)",
        rows(
            s,
            "SELECT user_id FROM enrollments WHERE state IN ('ready', 'pending') \
             GROUP BY user_id HAVING COUNT(*) > 1",
        )
        .await,
    );
    none(
        "two open renewals of one certificate",
        rows(
            s,
            "SELECT renews_certificate_id FROM enrollments WHERE renews_certificate_id IS NOT NULL \
             AND state IN ('ready', 'pending') GROUP BY renews_certificate_id HAVING COUNT(*) > 1",
        )
        .await,
    );
    // Every revoked certificate is on its CA's stored CRL (published in the same transaction).
    let mut c = s.conn().await.unwrap();
    let cas = app::ssr::db::list_cas(&mut c).await.unwrap();
    for ca in cas {
        let on_crl: std::collections::HashSet<String> = match &ca.crl_der {
            Some(der) => {
                use x509_parser::prelude::FromDer;
                let (_, crl) =
                    x509_parser::revocation_list::CertificateRevocationList::from_der(der)
                        .unwrap_or_else(|e| panic!("round {round}: CRL does not parse: {e}"));
                crl.iter_revoked_certificates()
                    .map(|r| {
                        hex::encode_upper(r.raw_serial())
                            .trim_start_matches("00")
                            .to_string()
                    })
                    .collect()
            }
            None => Default::default(),
        };
        let revoked = rows(
            s,
            &format!(
                "SELECT serial_hex FROM certificates WHERE ca_id = '{}' AND revoked_at IS NOT NULL",
                ca.id
            ),
        )
        .await;
        for serial in revoked {
            assert!(
                on_crl.contains(serial.trim_start_matches("00")),
                "round {round}: {serial} revoked but not on the CRL"
            );
        }
    }
    if sqlite {
        use sqlx::Row;
        let ok: String = sqlx::query("PRAGMA integrity_check")
            .fetch_one(&mut *c)
            .await
            .unwrap()
            .try_get(0)
            .unwrap();
        assert_eq!(ok, "ok", "round {round}");
    }
}

async fn killed_at_random_points(backend: Backend) {
    // Prepare: an administrator with a password and 300 users, then stop the in-process
    // portal; from here on only the binary runs, and the test reads the database.
    let app = spawn_at(backend, real_now()).await;
    activated_user(&app, "boss", true).await;
    {
        let mut tx = app.services.db.begin().await.unwrap();
        for i in 0..USERS {
            app::ssr::db::insert_user(
                &mut tx,
                &app::ssr::ids::new_id(),
                &app::ssr::db::NewUser {
                    login: format!("u{i:03}"),
                    display_name: format!("User {i}"),
                    email: format!("u{i}@example.com"),
                    upn: None,
                    department_id: None,
                    is_admin: false,
                    password_hash: None,
                },
                real_now(),
            )
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();
    }
    let env = app.env();
    let sqlite = backend == Backend::Sqlite;
    let TestApp {
        dir,
        running,
        services,
        ..
    } = app;
    running.unwrap().stop().await;
    drop(services);
    let s = server::services(
        &server::config::Config::load(None, &|k| {
            env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
        })
        .unwrap(),
        server::system_clock(),
    )
    .await
    .unwrap();
    let ids = rows(
        &s,
        "SELECT id FROM users WHERE login LIKE 'u%' ORDER BY login",
    )
    .await;
    let mut rng = Rng(0x5eed_0000_0000_0001 ^ u64::from(sqlite));
    let began = Instant::now();
    let rounds = rounds();
    for round in 0..rounds {
        let t0 = Instant::now();
        let (mut child, base) = started(&env).await;
        let t_ready = t0.elapsed();
        let r = client()
            .post(format!("{base}/api/login"))
            .form(&[("login", "boss"), ("password", PW)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "round {round}: sign-in");
        let cookie = session_cookie(&r).unwrap();
        // Phones pick links up meanwhile.
        let mut pickups = Vec::new();
        for _ in 0..3 {
            let login = format!("u{:03}", rng.next(USERS as u64));
            if let Ok(app::ssr::links::LinkOutcome::Link(l)) =
                app::ssr::links::helpdesk_link(&s, &Actor::cli(), &login, None, None).await
            {
                let base = base.clone();
                pickups.push(tokio::spawn(async move {
                    let http = client();
                    let r = http
                        .post(format!("{base}/pickup/{}/unlock", l.token))
                        .form(&[("pin", l.pin.as_str())])
                        .send()
                        .await?;
                    let grant = r
                        .headers()
                        .get_all("set-cookie")
                        .iter()
                        .filter_map(|v| v.to_str().ok())
                        .find(|c| c.starts_with("certportal-grant="))
                        .map(|c| c.split(';').next().unwrap_or_default().to_string());
                    if let Some(g) = grant {
                        http.post(format!("{base}/pickup/{}/download", l.token))
                            .header("cookie", g)
                            .form(&[("format", "p12")])
                            .send()
                            .await?;
                    }
                    Ok::<_, reqwest::Error>(())
                }));
            }
        }
        // The bulk run over every user, one transaction each.
        let mut form: Vec<(&str, &str)> = ids.iter().map(|id| ("users[]", id.as_str())).collect();
        form.push(("remove_existing", "on"));
        form.push(("password", PW));
        let body = serde_urlencoded_pairs(&form);
        let bulk = {
            let base = base.clone();
            let cookie = cookie.clone();
            tokio::spawn(async move {
                client()
                    .post(format!("{base}/api/admin_bulk_create"))
                    .header("content-type", "application/x-www-form-urlencoded")
                    .header("cookie", format!("certportal={cookie}"))
                    .body(body)
                    .send()
                    .await
            })
        };
        tokio::time::sleep(Duration::from_millis(rng.next(2500))).await;
        child.0.kill().unwrap();
        child.0.wait().unwrap();
        let _ = bulk.await;
        for p in pickups {
            let _ = p.await;
        }
        let t_killed = t0.elapsed();
        check(&s, round, sqlite).await;
        if round % 10 == 0 {
            eprintln!(
                "round {round}: ready {t_ready:?}, killed {t_killed:?}, checked {:?}",
                t0.elapsed()
            );
        }
    }
    eprintln!("crash safety: {rounds} rounds in {:?}", began.elapsed());
    // And after the last kill the portal still starts and serves.
    let (mut child, _) = started(&env).await;
    child.0.kill().unwrap();
    child.0.wait().unwrap();
    s.db.close().await;
    drop(dir);
}
crate::both!(sigkill_during_bulk_and_pickups, killed_at_random_points);

fn serde_urlencoded_pairs(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v)))
        .collect::<Vec<_>>()
        .join("&")
}
