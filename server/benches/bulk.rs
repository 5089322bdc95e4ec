//! Bulk "Create" with "remove existing" for 3,000 and 10,000 users who each hold an issued
//! certificate (real SQLite, in-process portal, the use case the directory's bulk form
//! calls), while a reader requests the start page over HTTP 200 times a second (rendered
//! each time, not answered from the page cache): the run's
//! time, the ratio of the two runs (linear work gives about 10,000 / 3,000 = 3.3), and the
//! reader's p50/p99 during the run against the same reader with nothing else going on.
//!
//! Run with `cargo bench -p server --bench bulk`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use app::ssr::admin;
use app::ssr::audit::Actor;
use app::ssr::auth::{self, UserInput};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Users with one issued certificate each (signed through "Create & Download").
async fn users_with_certificates(s: &app::ssr::Services, prefix: &str, n: usize) -> Vec<String> {
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        let (u, _) = auth::create_user(
            s,
            &Actor::cli(),
            &UserInput {
                login: format!("{prefix}{i:05}"),
                display_name: format!("User {prefix}{i}"),
                email: format!("{prefix}{i}@example.com"),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        ids.push(u.id);
    }
    let made = admin::bulk_create_and_download(s, &Actor::cli(), &ids, None, false).await;
    assert!(made.iter().all(|o| o.result.is_ok()));
    ids
}

/// Requests `/` until `stop`; the latencies in milliseconds, sorted. The reader sends a
/// cookie the page cache does not key on, so every page is rendered and reads the database
/// (the kept anonymous page would measure nothing here). One request every 5 ms at most
/// (200 a second, far more than a portal's users make): a reader in a tight loop would take
/// a core from the run it watches, and the run's time would measure the reader.
async fn reader(base: String, stop: Arc<AtomicBool>) -> Vec<f64> {
    let http = reqwest::Client::new();
    let mut lat = Vec::new();
    let mut every = tokio::time::interval(Duration::from_millis(5));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while !stop.load(Ordering::Relaxed) {
        every.tick().await;
        let t = Instant::now();
        let r = http
            .get(format!("{base}/"))
            .header("cookie", "bench=reader")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let _ = r.bytes().await.unwrap();
        lat.push(t.elapsed().as_secs_f64() * 1e3);
    }
    lat.sort_by(|a, b| a.total_cmp(b));
    lat
}

fn pct(v: &[f64], p: f64) -> f64 {
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main]
async fn main() {
    let bench = common::portal().await;
    let s = bench.running.services.clone();

    // The reader alone, for comparison.
    let stop = Arc::new(AtomicBool::new(false));
    let quiet = tokio::spawn(reader(bench.base.clone(), stop.clone()));
    tokio::time::sleep(Duration::from_secs(3)).await;
    stop.store(true, Ordering::Relaxed);
    let quiet = quiet.await.unwrap();
    println!(
        "start page alone:            p50 {:6.2} ms  p99 {:6.2} ms  ({} requests)",
        pct(&quiet, 0.5),
        pct(&quiet, 0.99),
        quiet.len()
    );

    let mut secs = Vec::new();
    for (prefix, n) in [("a", 3_000usize), ("b", 10_000)] {
        let t = Instant::now();
        let ids = users_with_certificates(&s, prefix, n).await;
        println!(
            "{n:>6} users with a certificate made in {:6.1} s",
            t.elapsed().as_secs_f64()
        );
        let stop = Arc::new(AtomicBool::new(false));
        let during = tokio::spawn(reader(bench.base.clone(), stop.clone()));
        let t = Instant::now();
        let out = admin::bulk_create(&s, &Actor::cli(), &ids, None, true).await;
        let took = t.elapsed().as_secs_f64();
        stop.store(true, Ordering::Relaxed);
        let during = during.await.unwrap();
        assert!(out.iter().all(|o| o.result.is_ok()));
        println!(
            "bulk Create, remove existing, {n:>6} users: {took:6.2} s ({:6.0} users/s); start page meanwhile p50 {:6.2} ms  p99 {:6.2} ms",
            n as f64 / took,
            pct(&during, 0.5),
            pct(&during, 0.99)
        );
        secs.push(took);
    }
    println!(
        "ratio 10,000 / 3,000: {:.2} (linear: 3.33; quadratic: 11.1)",
        secs[1] / secs[0]
    );
    println!("resident memory at the end: {} kB", common::rss_kb());
}
