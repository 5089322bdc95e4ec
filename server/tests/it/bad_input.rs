//! Bad input (issue 12): every server function, given malformed bodies, and every path with
//! malformed parameters answers with a 4xx (or the page's own error) — never a 500, never a
//! dropped connection — and changes nothing. The bodies are fixed cases plus seeded random
//! bytes, so a failure reproduces.

use crate::helpers::*;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

/// The tables whose rows count as "state": what a refused request must leave alone. (The
/// history, throttles, sessions' last-seen times and passkey ceremonies legitimately record
/// attempts.)
const STATE: &[&str] = &[
    "users",
    "enrollments",
    "certificates",
    "links",
    "pickup_grants",
    "cas",
    "settings",
    "passkeys",
    "activation_tokens",
    "setup_tokens",
];

async fn state(app: &TestApp) -> Vec<i64> {
    let mut v = Vec::new();
    for t in STATE {
        v.push(app.rows_in(t).await);
    }
    v
}

/// Sends raw bytes as a form body.
async fn post_raw(app: &TestApp, path: &str, body: Vec<u8>, cookie: Option<&str>) -> u16 {
    let mut r = client()
        .post(format!("{}{path}", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body);
    if let Some(c) = cookie {
        r = r.header("cookie", format!("certportal={c}"));
    }
    // A dropped connection (a panic in the handler) fails here.
    r.send().await.expect("an answer").status().as_u16()
}

fn fixed_bodies() -> Vec<Vec<u8>> {
    let mut v: Vec<Vec<u8>> = [
        "",
        "%",
        "%ZZ",
        "=",
        "&&&",
        "a=%FF%FE%00",
        "users[]=&users[]=%00",
        "id=..%2F..%2Fetc%2Fpasswd",
        "entry=%0D%0ASet-Cookie:%20x=y",
        "token=%01%02&password=x",
        "confirm=maybe&reason=%F0%9F%92%A5",
        "not_after=31-31-2026&remove_existing=yes&users[]=nobody",
        "show_all=notabool&confirm=2",
        "credential={&ceremony=%00",
        "next=%2F%2Fevil.example&login=%00&password=",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    v.push(vec![0xff, 0xfe, 0x00, 0x80]);
    v.push(format!("q={}", "a".repeat(60_000)).into_bytes());
    v
}

async fn every_function_refuses_malformed_bodies(backend: Backend) {
    let app = spawn(backend).await;
    let admin = activated_user(&app, "boss", true).await;
    let user = activated_user(&app, "taro", false).await;
    let before = state(&app).await;
    let mut paths: Vec<String> = leptos::server_fn::axum::server_fn_paths()
        .map(|(p, _)| p.to_string())
        .collect();
    paths.sort();
    paths.dedup();
    // Seeded: the same bytes every run.
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]),
    );
    let random = proptest::collection::vec(any::<u8>(), 0..200);
    let mut bodies = fixed_bodies();
    for _ in 0..6 {
        bodies.push(random.new_tree(&mut runner).unwrap().current());
    }
    for path in &paths {
        // Leave the sessions of this test alone.
        if path.ends_with("/logout") || path.ends_with("/logout_everywhere") {
            continue;
        }
        for body in &bodies {
            for cookie in [None, Some(user.as_str()), Some(admin.as_str())] {
                let status = post_raw(&app, path, body.clone(), cookie).await;
                assert!(
                    status < 500,
                    "{path} answered {status} to {:?} ({})",
                    String::from_utf8_lossy(body),
                    if cookie.is_some() {
                        "signed in"
                    } else {
                        "anonymous"
                    }
                );
            }
        }
    }
    assert_eq!(state(&app).await, before, "nothing changed");
    app.stop().await;
}
crate::both!(malformed_bodies, every_function_refuses_malformed_bodies);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_path_parameters_are_refused() {
    let app = spawn(Backend::Sqlite).await;
    let admin = activated_user(&app, "boss", true).await;
    let before = state(&app).await;
    let params = [
        "x",
        "%00",
        "%FF%FE",
        "..%2F..%2Fetc%2Fpasswd",
        "%0D%0AX-Injected:%201",
        "a%20b",
        &"f".repeat(5000),
        &"ab".repeat(32),
        "current.pem.crl",
        "%E2%80%AE",
    ];
    let templates = [
        "/ca/{}",
        "/crl/{}",
        "/ocsp/{}",
        "/pickup/{}",
        "/pickup/{}/download/p12",
        "/setup/{}",
        "/activate/{}",
        "/admin/users/{}",
        "/certificates/{}/link",
        "/certificates/{}/revoke",
        "/scep?operation={}",
        "/scep?operation=PKIOperation&message={}",
        "/admin/history.csv?user={}&from={}",
        "/admin/users?q={}&page={}",
        "/login?next={}",
    ];
    for t in templates {
        for p in params {
            let path = t.replace("{}", p);
            for cookie in [None, Some(admin.as_str())] {
                let mut r = client().get(format!("{}{path}", app.base));
                if let Some(c) = cookie {
                    r = r.header("cookie", format!("certportal={c}"));
                }
                let r = r.send().await.expect("an answer");
                assert!(r.status().as_u16() < 500, "GET {path}: {}", r.status());
                assert!(!r.headers().contains_key("x-injected"));
            }
        }
    }
    for p in params {
        for (path, body) in [
            (format!("/pickup/{p}/unlock"), "pin=ABCD-EFGH"),
            (format!("/pickup/{p}/download"), "format=p12"),
            ("/ocsp".to_string(), p),
            ("/scep?operation=PKIOperation".to_string(), p),
        ] {
            let status = post_raw(&app, &path, body.as_bytes().to_vec(), None).await;
            assert!(status < 500, "POST {path}: {status}");
        }
    }
    assert_eq!(state(&app).await, before, "nothing changed");
    app.stop().await;
}
