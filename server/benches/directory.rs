//! The admin directory with 100,000 users: one page of results over real HTTP (server
//! function `admin_directory`, admin session, in-process portal on real SQLite) for the
//! queries an administrator makes — first page, a search, a status filter, a department
//! subtree, a deep page. The users, departments and certificate summaries are inserted in
//! bulk with SQL (a synthetic mix of statuses), since signing 100,000 certificates would only
//! measure the CA.
//!
//! Run with `cargo bench -p server --bench directory`; with `CERTPORTAL_BENCH_POSTGRES_URL`
//! (e.g. `postgres://postgres@127.0.0.1:25432/postgres`) it runs again on a new database on
//! that PostgreSQL server. Prints one line per query: the median and p99 of one client
//! alone, then of 64 clients at once. For profiling: `CERTPORTAL_BENCH_ONLY=<part of a
//! label>` runs only those queries, and `CERTPORTAL_BENCH_ROUNDS=<n>` makes each of the 64
//! clients ask n times instead of 5.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use app::ssr::audit::Actor;
use app::ssr::auth::{self, UserInput};
use std::time::Instant;

const PW: &str = "benchmark password 123";
const USERS: usize = 100_000;
const PAGE_LABEL: &str = "the page /admin/users (HTML), first page";

fn form(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

#[tokio::main]
async fn main() {
    run("SQLite", None).await;
    if let Ok(url) = std::env::var("CERTPORTAL_BENCH_POSTGRES_URL") {
        run("PostgreSQL", Some(&url)).await;
    }
}

async fn run(db_name: &str, postgres: Option<&str>) {
    let bench = common::portal_on(postgres).await;
    let s = bench.running.services.clone();
    println!(
        "== {db_name} (a pool of {} connections)",
        s.db.max_connections()
    );
    let base = bench.base.clone();

    // The administrator who searches.
    let (admin, _) = auth::create_user(
        &s,
        &Actor::cli(),
        &UserInput {
            login: "admin".into(),
            display_name: "Admin".into(),
            email: "admin@example.com".into(),
            is_admin: true,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let hash = auth::hash_password(&s, PW).await.unwrap();
    {
        let mut c = s.conn().await.unwrap();
        app::ssr::db::auth_rows::set_password_hash(&mut c, &admin.id, &hash, 0)
            .await
            .unwrap();
    }

    // 100 departments in a two-level tree, 100,000 users, a mix of certificate statuses.
    let t = Instant::now();
    let mut tx = s.db.begin().await.unwrap();
    for d in 0..10 {
        sqlx::query(
            "INSERT INTO departments (id, parent_id, name, path) VALUES ($1, NULL, $2, $3)",
        )
        .bind(format!("d{d}"))
        .bind(format!("Division {d}"))
        .bind(format!("Division {d}"))
        .execute(&mut *tx)
        .await
        .unwrap();
        for e in 0..9 {
            sqlx::query(
                "INSERT INTO departments (id, parent_id, name, path) VALUES ($1, $2, $3, $4)",
            )
            .bind(format!("d{d}-{e}"))
            .bind(format!("d{d}"))
            .bind(format!("Team {e}"))
            .bind(format!("Division {d}/Team {e}"))
            .execute(&mut *tx)
            .await
            .unwrap();
        }
    }
    let now = s.now();
    let summaries = [
        "issued",
        "issued",
        "issued",
        "none",
        "ready",
        "pending",
        "superseded",
        "revoked",
        "issued",
        "issued",
    ];
    for chunk in (0..USERS).collect::<Vec<_>>().chunks(500) {
        let mut sql = String::from(
            "INSERT INTO users (id, login, display_name, email, department_id, is_admin, \
             active, created_at, updated_at, cert_summary, cert_not_after) VALUES ",
        );
        for (k, i) in chunk.iter().enumerate() {
            if k > 0 {
                sql.push(',');
            }
            let dept = format!("d{}-{}", i % 10, (i / 10) % 9);
            let summary = summaries[i % summaries.len()];
            // Some issued certificates have run out (expired).
            let not_after = if summary == "none" || summary == "pending" || summary == "ready" {
                "NULL".to_string()
            } else if i % 7 == 0 {
                (now - 86_400).to_string()
            } else {
                (now + 200 * 86_400).to_string()
            };
            sql.push_str(&format!(
                "('u{i:06}', 'user{i:06}', 'User {i:06} Yamada', 'user{i:06}@example.com', \
                 '{dept}', 0, 1, {now}, {now}, '{summary}', {not_after})"
            ));
        }
        sqlx::query(&sql).execute(&mut *tx).await.unwrap();
    }
    tx.commit().await.unwrap();
    println!(
        "inserted {USERS} users in 90 departments: {:.1} s",
        t.elapsed().as_secs_f64()
    );
    {
        let mut c = s.conn().await.unwrap();
        sqlx::query("ANALYZE").execute(&mut *c).await.unwrap();
    }

    let http = reqwest::Client::new();

    // The anonymous start page with all these users: 64 clients for 3 seconds.
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..64 {
        let (http, base) = (http.clone(), base.clone());
        tasks.push(tokio::spawn(async move {
            let mut took = Vec::new();
            while started.elapsed().as_secs_f64() < 3.0 {
                let t = Instant::now();
                let r = http.get(format!("{base}/")).send().await;
                // Every page must come back whole (a title read from a disposed signal
                // once panicked one render in 32 here).
                let ok = match r {
                    Ok(r) if r.status() == 200 => r.bytes().await.is_ok(),
                    _ => false,
                };
                assert!(ok, "every anonymous start page answers");
                took.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            took
        }));
    }
    let mut took = Vec::new();
    for t in tasks {
        took.extend(t.await.unwrap());
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "anonymous start page, 64 clients: {:.0} requests/s, p50 {:.1} ms, p99 {:.1} ms",
        took.len() as f64 / secs,
        pct(&mut took, 0.5),
        pct(&mut took, 0.99)
    );

    let r = http
        .post(format!("{base}/api/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[("login", "admin"), ("password", PW)]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let cookie = r
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();

    let queries: [(&str, Vec<(&str, &str)>); 7] = [
        ("first page, no filter", vec![]),
        // The same page as a browser asks for it: the HTML of `/admin/users`, rendered on
        // the server (the header's "who am I" and the directory share one session lookup).
        (PAGE_LABEL, vec![]),
        (
            "search \"user0421\" (login or name)",
            vec![("q", "user0421")],
        ),
        (
            "search \"yamada\" (matches all, first page)",
            vec![("q", "yamada")],
        ),
        ("status = issued", vec![("status", "issued")]),
        (
            "status = expired, department subtree",
            vec![("status", "expired"), ("department", "Division 1")],
        ),
        ("page 1000 of everyone", vec![("page", "1000")]),
    ];
    let only = std::env::var("CERTPORTAL_BENCH_ONLY").unwrap_or_default();
    let rounds: usize = std::env::var("CERTPORTAL_BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(5);
    for (label, args) in queries {
        if !label.contains(only.as_str()) {
            continue;
        }
        let body = form(&args);
        let html = label == PAGE_LABEL;
        let one = move |http: reqwest::Client, cookie: String, body: String, base: String| async move {
            let t = Instant::now();
            if html {
                let r = http
                    .get(format!("{base}/admin/users"))
                    .header("cookie", &cookie)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200);
                // The page's own count, as it prints it ("1–50 / 100001"), found in its bytes:
                // the 64 clients share the portal's 2 cores, so the check is kept cheap (a
                // copy into a `String` and a plain substring search were 2.6 % of the CPU).
                let page = r.bytes().await.unwrap();
                let mark = "1–50 / ".as_bytes();
                let total: String = memchr::memmem::find(&page, mark)
                    .map(|at| &page[at + mark.len()..])
                    .unwrap_or_default()
                    .iter()
                    .take_while(|b| b.is_ascii_digit())
                    .map(|b| char::from(*b))
                    .collect();
                assert!(!total.is_empty(), "the page shows its count");
                return (t.elapsed().as_secs_f64() * 1000.0, total);
            }
            let r = http
                .post(format!("{base}/api/admin_directory"))
                .header("cookie", &cookie)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            let v: serde_json::Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
            // A search counted only so far says so ("1000+").
            let more = if v["more"].as_bool().unwrap() {
                "+"
            } else {
                ""
            };
            (
                t.elapsed().as_secs_f64() * 1000.0,
                format!("{}{more}", v["total"].as_i64().unwrap()),
            )
        };
        let mut alone = Vec::new();
        let mut total = String::new();
        for _ in 0..30 {
            let (ms, n) = one(http.clone(), cookie.clone(), body.clone(), base.clone()).await;
            alone.push(ms);
            total = n;
        }
        let mut tasks = Vec::new();
        for _ in 0..64 {
            let (http, cookie, body, base) =
                (http.clone(), cookie.clone(), body.clone(), base.clone());
            tasks.push(tokio::spawn(async move {
                let mut took = Vec::new();
                for _ in 0..rounds {
                    took.push(
                        one(http.clone(), cookie.clone(), body.clone(), base.clone())
                            .await
                            .0,
                    );
                }
                took
            }));
        }
        let mut crowd = Vec::new();
        for t in tasks {
            crowd.extend(t.await.unwrap());
        }
        println!(
            "{label:44} {total:>7} matches: alone p50 {:6.1} ms p99 {:6.1} ms; 64 clients p50 {:6.1} ms p99 {:6.1} ms",
            pct(&mut alone, 0.5),
            pct(&mut alone, 0.99),
            pct(&mut crowd, 0.5),
            pct(&mut crowd, 0.99),
        );
        if html {
            // What each of those requests rendered and carried (no compression asked for).
            let page = http
                .get(format!("{base}/admin/users"))
                .header("cookie", &cookie)
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap();
            println!("{:44} the page: {} bytes of HTML", "", page.len());
        }
    }
    println!("resident memory at the end: {} kB", common::rss_kb());
    bench.running.stop().await;
}

/// The `q` quantile of `v`.
fn pct(v: &mut [f64], q: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() as f64 * q) as usize).min(v.len() - 1)]
}
