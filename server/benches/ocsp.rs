//! OCSP answers per second: signing a response alone, then whole requests over real HTTP
//! (POST `/ocsp`) against an in-process portal on real SQLite, for certificates that are
//! good and revoked. Each answer is looked up in the database and signed fresh (the nonce
//! rules out caching).
//!
//! Run with `cargo bench -p server --bench ocsp`. Prints one line per measurement.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use app::domain::lifecycle::RevocationReason;
use app::ssr::audit::Actor;
use app::ssr::auth::{self, UserInput};
use app::ssr::certs::{self, NewEnrollment};
use app::ssr::ocsp::{self, CertAnswer, IssuerKey};
use common::rate;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

#[tokio::main]
async fn main() {
    let bench = common::portal().await;
    let s = bench.running.services.clone();
    let base = bench.base.clone();

    // 40 certificates picked up through one-time links; every other one revoked.
    let inputs: Vec<UserInput> = (0..40)
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
    let mut serials = Vec::new();
    for (i, (u, _)) in created.iter().enumerate() {
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
        let picked = certs::pick_up(&s, &Actor::cli(), &e.id, "ABCD2345", None)
            .await
            .unwrap();
        if i % 2 == 1 {
            certs::revoke_certificate(
                &s,
                &Actor::cli(),
                &picked.certificate.id,
                RevocationReason::KeyCompromise,
            )
            .await
            .unwrap();
        }
        serials.push(picked.certificate.serial_hex.clone());
    }
    let ca_id = {
        let mut c = s.conn().await.unwrap();
        s.current_ca_id(&mut c).await.unwrap()
    };
    let signer = s.signer(&ca_id).await.unwrap();
    let issuer = IssuerKey::from_cert(&ca_id, &signer.cert_der).unwrap();
    let requests: Vec<Vec<u8>> = serials
        .iter()
        .map(|sn| ocsp::request_for(&issuer, sn).unwrap())
        .collect();

    // Signing alone, one core.
    let parsed = ocsp::parse_request(&requests[0]).unwrap();
    let n = 2000;
    let t = Instant::now();
    for _ in 0..n {
        ocsp::sign_response(&signer, &issuer, &parsed, &[CertAnswer::Good], s.now()).unwrap();
    }
    println!(
        "OCSP response built and signed (P-256): {:8.1}/s (one core)",
        rate(n, t)
    );

    // Over HTTP.
    let http = reqwest::Client::new();
    let concurrency = 8;
    let total = 4000;
    let requests = Arc::new(requests);
    let next = Arc::new(AtomicUsize::new(0));
    let right = Arc::new(AtomicUsize::new(0));
    let t = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (http, url, requests, next, right) = (
            http.clone(),
            format!("{base}/ocsp"),
            requests.clone(),
            next.clone(),
            right.clone(),
        );
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    break;
                }
                let k = i % requests.len();
                let r = http
                    .post(&url)
                    .header("content-type", "application/ocsp-request")
                    .body(requests[k].clone())
                    .send()
                    .await
                    .unwrap();
                let der = r.bytes().await.unwrap();
                let want_revoked = k % 2 == 1;
                match ocsp::first_status(&der) {
                    Some(CertAnswer::Good) if !want_revoked => {
                        right.fetch_add(1, Ordering::Relaxed);
                    }
                    Some(CertAnswer::Revoked { .. }) if want_revoked => {
                        right.fetch_add(1, Ordering::Relaxed);
                    }
                    other => panic!("request {k}: {other:?}"),
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(right.load(Ordering::Relaxed), total, "every answer right");
    println!(
        "OCSP answers over HTTP (POST, {concurrency} clients, SQLite, half revoked): {:8.1}/s",
        rate(total, t)
    );
    bench.running.stop().await;
}
