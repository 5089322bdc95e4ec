//! Sign-ins per second against a real portal (in-process server, real SQLite, real HTTP),
//! compared with the argon2id bound: one hash per sign-in, at most one hash per core at once.
//!
//! Run with `cargo bench -p server --bench signin`. Prints one line per measurement.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use app::ssr::audit::Actor;
use app::ssr::auth::{self, UserInput};
use std::sync::Arc;
use std::time::Instant;

const PW: &str = "benchmark password 123";

#[tokio::main]
async fn main() {
    let bench = common::portal().await;
    let base = bench.base.clone();
    let s = bench.running.services.clone();
    println!(
        "resident memory after start: {} kB ({} kB of it anonymous: heap and stacks; the rest \
         the executable's pages)",
        common::rss_kb(),
        common::rss_anon_kb()
    );

    // The bound: argon2id hashes per second with every core busy, each core hashing in one
    // reused work area as the portal does (a fresh 19 MiB area per hash costs page faults
    // the portal never pays, and made this bound too low).
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let n_hash = 80;
    let t = Instant::now();
    let mut handles = Vec::new();
    for _ in 0..cores {
        handles.push(std::thread::spawn(move || {
            let mut area = app::ssr::passwords::WorkArea::new();
            for _ in 0..n_hash / cores {
                app::ssr::passwords::hash_with(PW, &mut area).unwrap();
            }
        }));
    }
    for h in handles {
        h.join().unwrap();
    }
    let bound = (n_hash / cores * cores) as f64 / t.elapsed().as_secs_f64();
    println!(
        "argon2id (19 MiB, t=2, p=1) on {cores} cores: {bound:.1} hashes/s  (the sign-in bound)"
    );

    // Users to sign in as (distinct accounts, so the per-account throttle is not hit).
    let users = 200;
    let inputs: Vec<UserInput> = (0..users)
        .map(|i| UserInput {
            login: format!("u{i}"),
            display_name: format!("User {i}"),
            email: format!("u{i}@example.com"),
            ..Default::default()
        })
        .collect();
    let created = auth::create_users(&s, &Actor::cli(), &inputs)
        .await
        .map_err(|(_, e)| e)
        .unwrap();
    let hash = auth::hash_password(&s, PW).await.unwrap();
    for (u, _) in &created {
        let mut c = s.conn().await.unwrap();
        app::ssr::db::auth_rows::set_password_hash(&mut c, &u.id, &hash, 0)
            .await
            .unwrap();
    }

    let http = reqwest::Client::new();
    let concurrency = 8;
    let per_task = users / concurrency;
    let t = Instant::now();
    let ok = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for c in 0..concurrency {
        let http = http.clone();
        let base = base.clone();
        let ok = ok.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..per_task {
                let login = format!("u{}", c * per_task + i);
                // Each sign-in comes from its own (forwarded) address in real life; here all
                // share 127.0.0.1, so stay under the per-address limit by signing in right.
                let r = http
                    .post(format!("{base}/api/login"))
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(format!("login={login}&password=benchmark+password+123"))
                    .send()
                    .await
                    .unwrap();
                if r.status().is_success() {
                    ok.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let secs = t.elapsed().as_secs_f64();
    let n = ok.load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(n, per_task * concurrency, "every sign-in succeeded");
    let rate = n as f64 / secs;
    println!("password sign-ins over HTTP ({concurrency} clients, SQLite): {rate:.1}/s = {:.0}% of the argon2 bound", 100.0 * rate / bound);
    println!("resident memory after them: {} kB", common::rss_kb());

    // Bursts: 3 × 20 sign-ins at once (argon2 runs at most one per core; the rest wait).
    // Twenty, not sixty, at once: attempts in flight count against the per-address throttle
    // (30 per 15 minutes) until they succeed, and every client here is 127.0.0.1.
    let mut peak = 0;
    let mut ok = 0;
    for wave in 0..3 {
        let burst: Vec<_> = (0..20)
            .map(|i| {
                let (http, base) = (http.clone(), base.clone());
                tokio::spawn(async move {
                    let r = http
                        .post(format!("{base}/api/login"))
                        .header("content-type", "application/x-www-form-urlencoded")
                        .body(format!(
                            "login=u{}&password=benchmark+password+123",
                            100 + wave * 20 + i
                        ))
                        .send()
                        .await
                        .unwrap();
                    let status = r.status();
                    if !status.is_success() {
                        eprintln!("{status}: {}", r.text().await.unwrap_or_default());
                    }
                    status.is_success()
                })
            })
            .collect();
        for b in burst {
            ok += usize::from(b.await.unwrap());
            peak = peak.max(common::rss_kb());
        }
    }
    assert_eq!(ok, 60, "every sign-in of the bursts succeeded");
    println!(
        "3 × 20 sign-ins at once: resident memory after {} kB (highest seen {peak} kB)",
        common::rss_kb()
    );
    bench.running.stop().await;
}
