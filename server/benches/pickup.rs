//! Picked-up bundles per second: each one redeems a one-time link over real HTTP against an
//! in-process portal on real SQLite — key generation, signing, PKCS#12 (built and parsed
//! back), the profile for Apple devices, the durable commit and the audit rows. The parts
//! are measured alone first so the end-to-end figure can be read against them.
//!
//! Run with `cargo bench -p server --bench pickup`. Prints one line per measurement.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use app::domain::policy::{KeyAlgorithm, P12Form};
use app::ssr::audit::Actor;
use app::ssr::auth::{self, UserInput};
use app::ssr::certs::{self, NewEnrollment};
use app::ssr::{bundle, ca, links, profile};
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
        });
    }
    println!(
        "mobileconfig around it:                {:8.1}/s (one core)",
        rate(p12s.len(), t)
    );

    // End to end: one user, one enrollment and one link per pickup.
    let users = 400;
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
    let http = reqwest::Client::new();
    let concurrency = 8;
    for (format, slice) in [
        ("mobileconfig", &tokens[..users / 2]),
        ("p12", &tokens[users / 2..]),
    ] {
        let queue = Arc::new(slice.to_vec());
        let next = Arc::new(AtomicUsize::new(0));
        let ok = Arc::new(AtomicUsize::new(0));
        let t = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..concurrency {
            let (http, base, queue, next, ok) = (
                http.clone(),
                base.clone(),
                queue.clone(),
                next.clone(),
                ok.clone(),
            );
            tasks.push(tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(token) = queue.get(i) else { break };
                    let r = http
                        .get(format!("{base}/pickup/{token}/download/{format}"))
                        .send()
                        .await
                        .unwrap();
                    if r.status() == 200 && !r.bytes().await.unwrap().is_empty() {
                        ok.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let done = ok.load(Ordering::Relaxed);
        assert_eq!(done, slice.len(), "every pickup succeeded");
        println!(
            "picked-up bundles over HTTP ({format}, {concurrency} clients, SQLite): {:8.1}/s",
            rate(done, t)
        );
    }
    bench.running.stop().await;
}
