//! Pickups per second over real HTTP against an in-process portal on real SQLite: PKCS#12
//! bundles (each redeems a one-time link after its PIN was proven: key generation, signing,
//! PKCS#12 built and parsed back, the durable commit and the audit rows), and SCEP
//! enrollments (each a device's PKCSReq with its profile's challenge: signature and envelope
//! checked, RA decryption, signing for the device's key, the commit, the RA-signed answer,
//! read back by the test device). The parts are measured alone first.
//!
//! Run with `cargo bench -p server --bench pickup`. Prints one line per measurement.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use app::domain::policy::{KeyAlgorithm, P12Form};
use app::ssr::audit::Actor;
use app::ssr::auth::{self, UserInput};
use app::ssr::certs::{self, NewEnrollment};
use app::ssr::scep::client::Device;
use app::ssr::scep::ContentCipher;
use app::ssr::{bundle, ca, links, profile};
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use common::rate;

#[tokio::main]
async fn main() {
    let bench = common::portal().await;
    let base = bench.base.clone();
    let s = bench.running.services.clone();

    // The parts, one core.
    let ca_id = {
        let mut c = s.conn().await.unwrap();
        s.current_ca_id(&mut c).await.unwrap()
    };
    let signer = s.signer(&ca_id).await.unwrap();
    let subject = ca::ClientSubject {
        display_name: "Bench User".into(),
        login: "bench".into(),
        email: "bench@example.com".into(),
        upn: None,
    };
    let now = s.now();
    let n = 200;
    let t = Instant::now();
    let mut issued = Vec::new();
    for _ in 0..n {
        issued.push(
            ca::issue_client(
                &signer,
                &subject,
                ca::ClientKey::Generate(KeyAlgorithm::EcdsaP256),
                now,
                now + 86_400,
                &s.public_url,
            )
            .unwrap(),
        );
    }
    println!(
        "P-256 key + certificate signed:        {:8.1}/s (one core)",
        rate(n, t)
    );
    let t = Instant::now();
    let mut p12s = Vec::new();
    for i in issued.iter().take(50) {
        p12s.push(
            bundle::build_p12(
                P12Form::Legacy,
                "ABCD2345",
                i.key_pkcs8.as_deref().unwrap(),
                &i.cert_der,
                &signer.cert_der,
                "bench",
            )
            .unwrap(),
        );
    }
    println!(
        "PKCS#12 legacy, built and parsed back: {:8.1}/s (one core)",
        rate(50, t)
    );
    let t = Instant::now();
    for p in &p12s {
        let _ = profile::mobileconfig(&profile::ProfileInput {
            portal_url: &s.public_url,
            user_id: "u",
            login: "bench",
            display_name: "Bench User",
            identity: profile::Identity::Pkcs12(p.clone()),
            ca_der: &signer.cert_der,
            removal_date: now + 86_400,
            lang: app::i18n::Lang::En,
        });
    }
    println!(
        "mobileconfig around it:                {:8.1}/s (one core)",
        rate(p12s.len(), t)
    );

    // End to end: one user, one enrollment and one link per pickup.
    let users = 600;
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
    let mut tokens = Vec::new();
    for (u, _) in &created {
        let e = certs::create_enrollment(
            &s,
            &Actor::cli(),
            &NewEnrollment {
                user_id: u.id.clone(),
                device_label: app::domain::validate::DeviceLabel::parse("phone").expect("label"),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let l = links::make_link(&s, &Actor::cli(), &e.id).await.unwrap();
        tokens.push(l.token);
    }
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let concurrency = 8;
    // Every link's PIN proven first (the grant cookie), as the phone does before installing.
    let mut grants = Vec::new();
    for token in &tokens {
        let pin = s.pin_for_token(token).unwrap();
        let r = http
            .post(format!("{base}/pickup/{token}/unlock"))
            .form(&[("pin", pin.as_str())])
            .send()
            .await
            .unwrap();
        let cookie = r
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string())
            .find(|c| c.starts_with("certportal-grant="))
            .expect("grant");
        grants.push((token.clone(), cookie));
    }
    let (p12_links, scep_links) = grants.split_at(2 * users / 3);
    let (alone_links, crowd_links) = p12_links.split_at(p12_links.len() / 2);

    // PKCS#12: each download signs, builds the bundle and uses the link up. One phone at a
    // time, then eight at once: the signing runs on every core, outside the write lock.
    let download = {
        let (http, base) = (http.clone(), base.clone());
        move |(token, grant): (String, String)| {
            let (http, base) = (http.clone(), base.clone());
            async move {
                let r = http
                    .post(format!("{base}/pickup/{token}/download"))
                    .header("cookie", grant)
                    .form(&[("format", "p12")])
                    .send()
                    .await
                    .unwrap();
                r.status() == 200 && !r.bytes().await.unwrap().is_empty()
            }
        }
    };
    let alone = run(1, alone_links.to_vec(), download.clone()).await;
    println!(
        "picked-up bundles over HTTP (p12, 1 client, SQLite):  {:8.1}/s  p50 {:6.2} ms  p99 {:6.2} ms",
        alone.rate, alone.p50_ms, alone.p99_ms
    );
    let crowd = run(concurrency, crowd_links.to_vec(), download).await;
    println!(
        "picked-up bundles over HTTP (p12, {concurrency} clients, SQLite): {:8.1}/s  p50 {:6.2} ms  p99 {:6.2} ms",
        crowd.rate, crowd.p50_ms, crowd.p99_ms
    );
    println!(
        "ratio {concurrency} clients / 1 client: {:.2} (on {} cores)",
        crowd.rate / alone.rate,
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );

    // SCEP: the profile first (nothing signed), then the device's PKCSReq with its challenge.
    let mut challenges = Vec::new();
    for (token, grant) in scep_links {
        let xml = http
            .post(format!("{base}/pickup/{token}/download"))
            .header("cookie", grant)
            .form(&[("format", "mobileconfig")])
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let after = xml.split("<key>Challenge</key>").nth(1).unwrap();
        let challenge = after
            .split("<string>")
            .nth(1)
            .unwrap()
            .split('<')
            .next()
            .unwrap();
        challenges.push(challenge.to_string());
    }
    let ra_der = s
        .authority
        .scep_ra(&ca_id, now)
        .await
        .unwrap()
        .cert_der()
        .to_vec();
    let device = Arc::new(Device::new(2048));
    let t = Instant::now();
    let messages: Vec<Vec<u8>> = challenges
        .iter()
        .map(|c| device.pkcs_req(&ra_der, &device.csr(Some(c)), ContentCipher::Aes128Cbc))
        .collect();
    println!(
        "PKCSReq built by the test device:      {:8.1}/s (one core)",
        rate(messages.len(), t)
    );
    let scep_rate = run(concurrency, messages, {
        let (http, base, device) = (http.clone(), base.clone(), device.clone());
        move |msg: Vec<u8>| {
            let (http, base, device) = (http.clone(), base.clone(), device.clone());
            async move {
                let r = http
                    .post(format!("{base}/scep?operation=PKIOperation"))
                    .body(msg)
                    .send()
                    .await
                    .unwrap();
                let body = r.bytes().await.unwrap();
                device.read_cert_rep(&body).is_ok()
            }
        }
    })
    .await;
    println!(
        "SCEP enrollments over HTTP ({concurrency} clients, SQLite): {:8.1}/s  p99 {:6.2} ms",
        scep_rate.rate, scep_rate.p99_ms
    );
    println!("resident memory at the end: {} kB", common::rss_kb());
    bench.running.stop().await;
}

/// What [`run`] measured.
struct Run {
    rate: f64,
    p50_ms: f64,
    p99_ms: f64,
}

/// Runs `job` over `items` with `concurrency` workers; asserts every one succeeded and
/// returns the rate per second and the latency percentiles.
async fn run<T, F, Fut>(concurrency: usize, items: Vec<T>, job: F) -> Run
where
    T: Clone + Send + Sync + 'static,
    F: Fn(T) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = bool> + Send,
{
    let n = items.len();
    let queue = Arc::new(items);
    let next = Arc::new(AtomicUsize::new(0));
    let ok = Arc::new(AtomicUsize::new(0));
    let t = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (queue, next, ok, job) = (queue.clone(), next.clone(), ok.clone(), job.clone());
        tasks.push(tokio::spawn(async move {
            let mut took = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(item) = queue.get(i) else { break };
                let started = Instant::now();
                if job(item.clone()).await {
                    ok.fetch_add(1, Ordering::Relaxed);
                }
                took.push(started.elapsed().as_secs_f64() * 1000.0);
            }
            took
        }));
    }
    let mut took = Vec::new();
    for t in tasks {
        took.extend(t.await.unwrap());
    }
    assert_eq!(ok.load(Ordering::Relaxed), n, "every one succeeded");
    took.sort_by(f64::total_cmp);
    let at = |q: f64| took[((took.len() as f64 * q) as usize).min(took.len() - 1)];
    Run {
        rate: rate(n, t),
        p50_ms: at(0.50),
        p99_ms: at(0.99),
    }
}
