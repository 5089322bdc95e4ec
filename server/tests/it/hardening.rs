//! Hardening (issue 12): throttles that count parallel attempts exactly, client addresses
//! behind a trusted proxy (IPv6 per /64), the history naming the address that acted,
//! anonymous traffic that cannot grow the database, and input that cannot panic a request.

use crate::both;
use crate::helpers::*;

/// A sign-in as a browser's script sends it, from a task of its own.
async fn login_raw(base: String, login: String, password: &'static str) -> String {
    client()
        .post(format!("{base}/api/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "login={}&password={}",
            urlencode(&login),
            urlencode(password)
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn count_action(app: &TestApp, action: &str) -> usize {
    app.audit_records()
        .await
        .iter()
        .filter(|r| r.entry.action == action)
        .count()
}

async fn parallel_guesses_get_no_more_tries(backend: Backend) {
    let app = spawn(backend).await;
    activated_user(&app, "hanako", false).await;
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..60 {
        set.spawn(login_raw(
            app.base.clone(),
            "hanako".into(),
            "wrong password!",
        ));
    }
    let mut failed = 0;
    let mut throttled = 0;
    while let Some(r) = set.join_next().await {
        let text = r.unwrap();
        if text.contains("sign_in_failed") {
            failed += 1;
        } else if text.contains("throttled") {
            throttled += 1;
        } else {
            panic!("unexpected answer {text}");
        }
    }
    // Exactly as many passwords were checked as one attacker typing them one by one gets.
    assert_eq!((failed, throttled), (5, 55));
    assert_eq!(count_action(&app, "auth.login_failed").await, 5);
    assert_eq!(
        count_action(&app, "auth.login_throttled").await,
        1,
        "the lock's start"
    );
    let r = call(
        &app,
        "login",
        &[("login", "hanako"), ("password", PW)],
        None,
    )
    .await;
    assert!(r.text().await.unwrap().contains("throttled"));

    // The same for the confirmation of rule 8, per account.
    let s = activated_user(&app, "jiro", false).await;
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..40 {
        let base = app.base.clone();
        let s = s.clone();
        set.spawn(async move {
            client()
                .post(format!("{base}/api/confirm_password"))
                .header("content-type", "application/x-www-form-urlencoded")
                .header("cookie", format!("certportal={s}"))
                .body("password=not+the+password")
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        });
    }
    while let Some(r) = set.join_next().await {
        let text = r.unwrap();
        assert!(
            text.contains("wrong_password") || text.contains("throttled"),
            "{text}"
        );
    }
    assert_eq!(count_action(&app, "auth.reauth_failed").await, 5);
    app.stop().await;
}
both!(parallel_guesses, parallel_guesses_get_no_more_tries);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_addresses_are_believed_only_from_trusted_proxies() {
    // No trusted proxies: a client cannot choose its address with a header.
    let app = spawn(Backend::Sqlite).await;
    let r = call_with(
        &app,
        "login",
        &[("login", "ghost"), ("password", "whatever pw")],
        None,
        &[("x-forwarded-for", "203.0.113.7")],
    )
    .await;
    assert!(r.text().await.unwrap().contains("sign_in_failed"));
    let last = app.audit_records().await.pop().unwrap();
    assert_eq!(last.entry.ip.as_deref(), Some("127.0.0.1"));
    app.stop().await;

    let app = spawn_with(&[("CERTPORTAL_TRUSTED_PROXIES", "127.0.0.1, ::1".into())]).await;
    let fail_from = |login: String, ip: String| {
        let app = &app;
        async move {
            let r = call_with(
                app,
                "login",
                &[("login", &login), ("password", "whatever pw")],
                None,
                &[("x-forwarded-for", &ip)],
            )
            .await;
            r.text().await.unwrap()
        }
    };
    // The client behind the proxy is named in the history and throttled alone.
    assert!(fail_from("ghost".into(), "1.1.1.1, 203.0.113.7".into())
        .await
        .contains("sign_in_failed"));
    let last = app.audit_records().await.pop().unwrap();
    assert_eq!(last.entry.ip.as_deref(), Some("203.0.113.7"));
    // Only the header the proxies set is read: a client's own `Forwarded` passes through
    // an X-Forwarded-For proxy untouched and must not count.
    let r = call_with(
        &app,
        "login",
        &[("login", "ghost"), ("password", "whatever pw")],
        None,
        &[
            ("forwarded", "for=9.9.9.9"),
            ("x-forwarded-for", "198.51.100.77"),
        ],
    )
    .await;
    assert!(r.text().await.unwrap().contains("sign_in_failed"));
    let last = app.audit_records().await.pop().unwrap();
    assert_eq!(last.entry.ip.as_deref(), Some("198.51.100.77"));
    // IPv6 is throttled per /64: thirty failures from addresses of one /64 lock all of it…
    for i in 0..30 {
        let text = fail_from(format!("ghost{i}"), format!("2001:db8:1:2::{:x}", i + 1)).await;
        assert!(text.contains("sign_in_failed"), "{i}: {text}");
    }
    let text = fail_from("ghost99".into(), "2001:db8:1:2:ffff::9".into()).await;
    assert!(text.contains("throttled"), "{text}");
    // …but not the neighbouring network, nor IPv4 clients of the same proxy.
    assert!(fail_from("ghost98".into(), "2001:db8:1:3::1".into())
        .await
        .contains("sign_in_failed"));
    assert!(fail_from("ghost97".into(), "198.51.100.20".into())
        .await
        .contains("sign_in_failed"));

    // The history names the address of the request that acted, not the sign-in's.
    activated_user(&app, "mika", false).await;
    let r = call_with(
        &app,
        "login",
        &[("login", "mika"), ("password", PW)],
        None,
        &[("x-forwarded-for", "192.0.2.10")],
    )
    .await;
    let session = session_cookie(&r).unwrap();
    let r = call_with(
        &app,
        "confirm_password",
        &[("password", PW)],
        Some(&session),
        &[("x-forwarded-for", "192.0.2.99")],
    )
    .await;
    assert_eq!(r.status(), 200);
    let records = app.audit_records().await;
    let login = records
        .iter()
        .rev()
        .find(|r| r.entry.action == "auth.login")
        .unwrap();
    assert_eq!(login.entry.ip.as_deref(), Some("192.0.2.10"));
    let reauth = records
        .iter()
        .rev()
        .find(|r| r.entry.action == "auth.reauth")
        .unwrap();
    assert_eq!(reauth.entry.ip.as_deref(), Some("192.0.2.99"));
    app.stop().await;
}

/// Rows in the tables anonymous callers could reach.
async fn counts(app: &TestApp) -> Vec<i64> {
    let mut v = Vec::new();
    for t in ["audit", "throttle", "pickup_grants", "webauthn_states"] {
        v.push(app.rows_in(t).await);
    }
    v
}

async fn anonymous_traffic_is_bounded(backend: Backend) {
    let app = spawn(backend).await;
    activated_user(&app, "taro", false).await;
    let before = counts(&app).await;
    // Unknown links: answered from reads, nothing written.
    let token = "ab".repeat(32);
    let http = client();
    let r = http
        .post(format!("{}/pickup/{token}/unlock", app.base))
        .form(&[("pin", "ABCD-EFGH")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let r = http
        .post(format!("{}/pickup/{token}/download", app.base))
        .header("cookie", format!("certportal-grant={}", "cd".repeat(32)))
        .form(&[("format", "p12")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(counts(&app).await, before, "unknown links leave no trace");

    // A typed login is stored capped, however long.
    let long = "x".repeat(60_000);
    let r = call(
        &app,
        "login",
        &[("login", &long), ("password", "whatever pw")],
        None,
    )
    .await;
    assert!(r.text().await.unwrap().contains("sign_in_failed"));
    let last = app.audit_records().await.pop().unwrap();
    assert!(last.entry.detail.len() < 100, "{}", last.entry.detail.len());
    let mut c = app.services.conn().await.unwrap();
    let longest: i64 = {
        use sqlx::Row;
        sqlx::query("SELECT MAX(LENGTH(key)) AS n FROM throttle")
            .fetch_one(&mut *c)
            .await
            .unwrap()
            .try_get("n")
            .unwrap()
    };
    drop(c);
    assert!(longest < 100, "{longest}");

    // Once locked, further attempts write nothing at all.
    for _ in 0..5 {
        call(
            &app,
            "login",
            &[("login", "taro"), ("password", "wrong wrong")],
            None,
        )
        .await;
    }
    let locked = counts(&app).await;
    for _ in 0..20 {
        let r = call(
            &app,
            "login",
            &[("login", "taro"), ("password", "wrong wrong")],
            None,
        )
        .await;
        assert!(r.text().await.unwrap().contains("throttled"));
    }
    assert_eq!(
        counts(&app).await,
        locked,
        "refusals while locked are not stored"
    );

    // Ceremonies nobody answers are purged, and so are spent throttle records.
    for _ in 0..3 {
        let r = call(&app, "passkey_login_start", &[], None).await;
        assert_eq!(r.status(), 200);
    }
    assert_eq!(app.rows_in("webauthn_states").await, 3);
    app.clock.advance(3600);
    server::background_tick(&app.services).await;
    assert_eq!(app.rows_in("webauthn_states").await, 0);
    assert_eq!(app.rows_in("throttle").await, 0);
    app.stop().await;
}
both!(anonymous_traffic, anonymous_traffic_is_bounded);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_input_panics_a_redirect() {
    let app = spawn(Backend::Sqlite).await;
    for (name, body) in [
        (
            "activate",
            vec![
                ("token", "ab\u{1}\t/\u{7f}cd"),
                ("password", "a long enough password"),
            ],
        ),
        (
            "complete_setup",
            vec![
                ("token", "x\u{1}y\r\nSet-Cookie: a=b"),
                ("login", "root"),
                ("display_name", "Root"),
                ("email", "root@example.com"),
                ("password", "a long enough password"),
            ],
        ),
    ] {
        let r = form_post(&app, name, &body, None).await;
        assert!(r.status().is_redirection(), "{name}: {}", r.status());
        let to = r.headers()["location"].to_str().unwrap().to_string();
        assert!(
            to.starts_with('/') && !to.contains(['\r', '\n', '\t', '\0']),
            "{to}"
        );
        assert!(!r.headers().contains_key("a"), "no header injection");
    }
    // A NUL byte is refused before any handler (PostgreSQL cannot even compare one).
    let r = form_post(
        &app,
        "activate",
        &[("token", "a\u{0}b"), ("password", "x")],
        None,
    )
    .await;
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("malformed_request"));
    // The server is still there.
    assert_eq!(
        client()
            .get(format!("{}/healthz", app.base))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    app.stop().await;
}

/// Administrator rules of issue 12: "remove existing" and settings and promotions need
/// rule 8's confirmation; deactivating revokes (unless told not to); two administrators
/// demoting each other leave one.
async fn admin_rules(backend: Backend) {
    use crate::admin::{user_id, with_certificate};
    let app = spawn(backend).await;
    let boss = activated_user(&app, "boss", true).await;
    let boss2 = activated_user(&app, "boss2", true).await;
    let (_, taro) = with_certificate(&app, "taro").await;
    let (_, jiro) = with_certificate(&app, "jiro").await;
    let (_, hana) = with_certificate(&app, "hana").await;
    let issued = |login: &'static str| {
        let app = &app;
        async move {
            crate::pickup::certificates_of(app, login)
                .await
                .iter()
                .filter(|c| c.state == app::domain::lifecycle::State::Issued)
                .count()
        }
    };
    // The sign-in's confirmation runs out.
    app.clock.advance(6 * 60);

    // Bulk "Create" with "remove existing" revokes: confirmation first, nothing changes.
    let bulk = |pw: Option<&'static str>| {
        let app = &app;
        let boss = boss.clone();
        let taro = taro.clone();
        async move {
            let mut body = vec![("users[]", taro.as_str()), ("remove_existing", "on")];
            if let Some(p) = pw {
                body.push(("password", p));
            }
            call(app, "admin_bulk_create", &body, Some(&boss))
                .await
                .text()
                .await
                .unwrap()
        }
    };
    assert!(bulk(None).await.contains("reauth_required"));
    assert_eq!(issued("taro").await, 1, "nothing revoked");
    let r = client()
        .post(format!("{}/admin/create-download", app.base))
        .header("cookie", format!("certportal={boss}"))
        .form(&[("users[]", taro.as_str()), ("remove_existing", "on")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert!(r.headers()["location"]
        .to_str()
        .unwrap()
        .contains("error=reauth_required"));
    assert_eq!(issued("taro").await, 1, "nothing revoked");
    let done = bulk(Some(PW)).await;
    assert!(done.contains("\"error\":null"), "{done}");
    assert_eq!(issued("taro").await, 0, "confirmed: removed");

    // Settings and promotions need it too; a plain flag change does not.
    app.clock.advance(6 * 60);
    let mut settings: Vec<(&str, &str)> = [
        "distribution_mode",
        "default_validity_days",
        "max_validity_days",
        "link_lifetime_minutes",
        "pickup_deadline_days",
        "max_active_per_user",
        "p12_form",
        "key_algorithm",
        "crl_next_update_days",
    ]
    .into_iter()
    .map(|k| (k, "x"))
    .collect();
    let r = call(&app, "admin_update_settings", &settings, Some(&boss)).await;
    assert!(r.text().await.unwrap().contains("reauth_required"));
    settings.push(("password", PW));
    let r = call(&app, "admin_update_settings", &settings, Some(&boss)).await;
    let text = r.text().await.unwrap();
    assert!(
        text.contains("invalid_choice"),
        "confirmed, then the fields are checked: {text}"
    );
    app.clock.advance(6 * 60);
    let flags = |id: &str, role: &'static str, extra: &[(&'static str, &'static str)]| {
        let mut v: Vec<(&str, String)> = vec![
            ("id", id.to_string()),
            ("reissue", "off".into()),
            ("role", role.into()),
        ];
        v.extend(extra.iter().map(|(k, x)| (*k, x.to_string())));
        v
    };
    let send = |body: Vec<(&'static str, String)>| {
        let app = &app;
        let boss = boss.clone();
        async move {
            let b: Vec<(&str, &str)> = body.iter().map(|(k, v)| (*k, v.as_str())).collect();
            call(app, "admin_update_user", &b, Some(&boss))
                .await
                .text()
                .await
                .unwrap()
        }
    };
    let text = send(flags(&jiro, "admin", &[("active", "on")])).await;
    assert!(text.contains("reauth_required"), "{text}");
    // So does creating an administrator.
    let r = call(
        &app,
        "admin_create_user",
        &[
            ("login", "eve"),
            ("display_name", "Eve"),
            ("email", "eve@example.com"),
            ("is_admin", "on"),
        ],
        Some(&boss),
    )
    .await;
    assert!(r.text().await.unwrap().contains("reauth_required"));
    let text = send(flags(&jiro, "user", &[("active", "on")])).await;
    assert!(text.contains("reissue_allowed=false"), "{text}");

    // Deactivating revokes the certificates (affiliationChanged) unless kept.
    let text = send(flags(&jiro, "user", &[])).await;
    assert!(text.contains("reauth_required"), "{text}");
    let text = send(flags(&jiro, "user", &[("password", PW)])).await;
    assert!(text.contains("certificates_revoked=1"), "{text}");
    let jiro_certs = crate::pickup::certificates_of(&app, "jiro").await;
    assert_eq!(
        jiro_certs[0].revocation_reason.as_deref(),
        Some("affiliationChanged"),
        "{jiro_certs:?}"
    );
    let text = send(flags(&hana, "user", &[("keep_certificates", "on")])).await;
    assert!(!text.contains("certificates_revoked"), "{text}");
    assert_eq!(issued("hana").await, 1, "kept on request");

    // Two administrators demoting each other at once leave one.
    let demote = |who: String, cookie: String| {
        let base = app.base.clone();
        async move {
            client()
                .post(format!("{base}/api/admin_update_user"))
                .header("content-type", "application/x-www-form-urlencoded")
                .header("cookie", format!("certportal={cookie}"))
                .body(format!(
                    "id={who}&reissue=default&role=user&active=on&password={}",
                    urlencode(PW)
                ))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    let (a, b) = tokio::join!(
        demote(user_id(&app, "boss2").await, boss.clone()),
        demote(user_id(&app, "boss").await, boss2.clone())
    );
    let admins = {
        let mut c = app.services.conn().await.unwrap();
        app::ssr::db::admin_rows::count_active_admins(&mut c)
            .await
            .unwrap()
    };
    assert_eq!(admins, 1, "{a} / {b}");
    // The loser is refused either as the last administrator (both counted at once) or, when
    // the other change committed first, as no longer an administrator.
    let refused = |t: &str| t.contains("last_admin") || t.contains("forbidden");
    assert!(refused(&a) || refused(&b), "{a} / {b}");
    app.stop().await;
}
both!(admin_rule_checks, admin_rules);

/// Rule 3 without detours: with reissue off a user gets no further certificate by asking
/// for a new one; renewing an expired certificate counts against the limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reissue_and_limits_have_no_detours() {
    use app::ssr::certs::{self, CertError, NewEnrollment};
    let app = spawn(Backend::Sqlite).await;
    let admin = app.add_user("admin", true).await;
    let user = app.add_user("taro", false).await;
    let me = app.actor(&user);
    let req = |renews: Option<String>| NewEnrollment {
        user_id: user.id.clone(),
        renews_certificate_id: renews,
        ..Default::default()
    };
    let issue = |not_after: Option<i64>| {
        let app = &app;
        let admin = &admin;
        let user = &user;
        async move {
            let e = certs::create_enrollment(
                &app.services,
                &app.actor(admin),
                &NewEnrollment {
                    user_id: user.id.clone(),
                    not_after,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
            certs::pick_up(&app.services, &app.actor(admin), &e.id, "ABCD2345", None)
                .await
                .unwrap()
                .certificate
        }
    };
    // An expiring certificate, then two more: the limit (2) is reached.
    let first = issue(Some(app.services.now() + 2 * 86_400)).await;
    app.clock.advance(3 * 86_400);
    issue(None).await;
    issue(None).await;
    let e = certs::create_enrollment(&app.services, &me, &req(Some(first.id.clone()))).await;
    assert!(matches!(e, Err(CertError::Quota(_))), "{e:?}");

    // Reissue off: no new request either, once the user has had a certificate.
    let mut c = app.services.conn().await.unwrap();
    app::ssr::db::admin_rows::set_user_flags(&mut c, &user.id, Some(false), false, true, 0)
        .await
        .unwrap();
    drop(c);
    let e = certs::create_enrollment(&app.services, &me, &req(None)).await;
    assert!(matches!(e, Err(CertError::ReissueNotAllowed)), "{e:?}");
    // A newcomer's first certificate needs no flag.
    let newbie = app.add_user("newbie", false).await;
    let mut c = app.services.conn().await.unwrap();
    app::ssr::db::admin_rows::set_user_flags(&mut c, &newbie.id, Some(false), false, true, 0)
        .await
        .unwrap();
    drop(c);
    let e = certs::create_enrollment(
        &app.services,
        &app.actor(&newbie),
        &NewEnrollment {
            user_id: newbie.id.clone(),
            ..Default::default()
        },
    )
    .await;
    assert!(e.is_ok(), "{e:?}");
    app.stop().await;
}

/// A new setup link voids the older ones; none is made once an administrator exists.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_newest_setup_link_works() {
    use app::ssr::setup;
    let app = spawn(Backend::Sqlite).await;
    let actor = app::ssr::audit::Actor::cli();
    let token = |link: String| link.rsplit('/').next().unwrap().to_string();
    let first = token(setup::new_setup_link(&app.services, &actor).await.unwrap());
    let second = token(setup::new_setup_link(&app.services, &actor).await.unwrap());
    assert!(!setup::setup_token_usable(&app.services, &first)
        .await
        .unwrap());
    assert!(setup::setup_token_usable(&app.services, &second)
        .await
        .unwrap());
    app.add_user("admin", true).await;
    assert!(matches!(
        setup::new_setup_link(&app.services, &actor).await,
        Err(setup::SetupError::AdminExists)
    ));
    app.stop().await;
}

/// A self-signed certificate for `localhost` made by openssl; returns its SHA-256
/// fingerprint as openssl prints it.
fn make_server_cert(cert: &std::path::Path, key: &std::path::Path) -> String {
    let (c, k) = (cert.display().to_string(), key.display().to_string());
    ok(
        "openssl",
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            &k,
            "-out",
            &c,
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost",
        ],
    );
    ok(
        "openssl",
        &["x509", "-in", &c, "-noout", "-fingerprint", "-sha256"],
    )
    .trim()
    .to_string()
}

/// The fingerprint of the certificate the portal serves, as openssl sees it.
fn served_fingerprint(port: u16) -> String {
    let (_, out) = run(
        "sh",
        &[
            "-c",
            &format!(
                "openssl s_client -connect 127.0.0.1:{port} -servername localhost </dev/null 2>/dev/null \
                 | openssl x509 -noout -fingerprint -sha256"
            ),
        ],
    );
    out.trim().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_with_reload_hsts_and_a_host_allow_list() {
    let files = tempfile::tempdir().unwrap();
    let (cert, key) = (files.path().join("cert.pem"), files.path().join("key.pem"));
    let first = make_server_cert(&cert, &key);
    let app = spawn_with(&[
        ("CERTPORTAL_TLS_CERT_FILE", cert.display().to_string()),
        ("CERTPORTAL_TLS_KEY_FILE", key.display().to_string()),
    ])
    .await;
    assert!(app.services.public_url.starts_with("https://localhost:"));
    let port: u16 = app.base.rsplit(':').next().unwrap().parse().unwrap();
    let url = format!("https://localhost:{port}/healthz");
    let ca = cert.display().to_string();
    // curl checks the chain and the name, and shows the headers.
    let head = ok(
        "curl",
        &["-sS", "-D", "-", "-o", "/dev/null", "--cacert", &ca, &url],
    );
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("strict-transport-security: max-age=31536000"),
        "{head}"
    );
    // Plain HTTP on the TLS port gets no page.
    let (plain, _) = run(
        "curl",
        &[
            "-sS",
            "--max-time",
            "5",
            &format!("http://localhost:{port}/healthz"),
        ],
    );
    assert!(!plain);
    // DNS rebinding: another name is refused, an address or the public name is served.
    for (host, status) in [
        ("evil.example", "421"),
        (&*format!("evil.example:{port}"), "421"),
        (&*format!("127.0.0.1:{port}"), "200"),
        (&*format!("LOCALHOST:{port}"), "200"),
    ] {
        let code = ok(
            "curl",
            &[
                "-sS",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                "--cacert",
                &ca,
                "-H",
                &format!("Host: {host}"),
                &url,
            ],
        );
        assert_eq!(code.trim(), status, "{host}");
    }

    // A renewed certificate is served without a restart (a broken pair is refused by the
    // same check the watcher runs, so the working one stays).
    assert_eq!(served_fingerprint(port), first);
    let (next_cert, next_key) = (files.path().join("n.pem"), files.path().join("nk.pem"));
    let second = make_server_cert(&next_cert, &next_key);
    assert_ne!(first, second);
    let mismatched = server::tls::TlsFiles {
        cert: cert.clone(),
        key: next_key.clone(),
    };
    assert!(
        server::tls::load(&mismatched).is_err(),
        "a key of another certificate"
    );
    std::fs::write(files.path().join("junk.pem"), "not a certificate").unwrap();
    let junk = server::tls::TlsFiles {
        cert: files.path().join("junk.pem"),
        key: key.clone(),
    };
    assert!(server::tls::load(&junk).is_err());
    std::fs::copy(&next_key, &key).unwrap();
    std::fs::copy(&next_cert, &cert).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let now = served_fingerprint(port);
        if now == second {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "not reloaded: {now}");
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
    app.stop().await;
}

#[test]
fn host_allow_list() {
    use server::host_allowed;
    assert!(host_allowed(Some("certs.example.com"), "certs.example.com"));
    assert!(host_allowed(
        Some("CERTS.example.com:443"),
        "certs.example.com"
    ));
    assert!(host_allowed(Some("10.0.0.5:3000"), "certs.example.com"));
    assert!(host_allowed(Some("[::1]:3000"), "certs.example.com"));
    assert!(host_allowed(Some("localhost:3000"), "certs.example.com"));
    assert!(host_allowed(None, "certs.example.com"));
    assert!(!host_allowed(Some("attacker.example"), "certs.example.com"));
    assert!(!host_allowed(
        Some("certs.example.com.attacker.example"),
        "certs.example.com"
    ));
}

/// The way back in after "lost device" for someone without a password (or who forgot it):
/// an administrator's new activation link, behind rule 8; it resets the password, ends the
/// old sessions, and only the newest link works.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_activation_link_for_an_existing_user() {
    let app = spawn(Backend::Sqlite).await;
    let boss = activated_user(&app, "boss", true).await;
    let ken = activated_user(&app, "ken", false).await;
    let ken_id = crate::admin::user_id(&app, "ken").await;
    app.clock.advance(6 * 60);
    let r = call(
        &app,
        "admin_activation_link",
        &[("id", &ken_id)],
        Some(&boss),
    )
    .await;
    assert!(r.text().await.unwrap().contains("reauth_required"));
    // A new activation link, returned as JSON (`password` confirms, when given).
    let new_link = |password: Option<&'static str>| {
        let (app, boss, id) = (&app, boss.clone(), ken_id.clone());
        async move {
            let mut body = vec![("id", id.as_str())];
            body.extend(password.map(|p| ("password", p)));
            let r = call(app, "admin_activation_link", &body, Some(&boss)).await;
            serde_json::from_str::<String>(&r.text().await.unwrap()).unwrap()
        }
    };
    let first = new_link(Some(PW)).await;
    let second = new_link(None).await;
    let token = |l: &str| l.rsplit('/').next().unwrap().to_string();
    let new_pw = "a completely new password";
    let r = call(
        &app,
        "activate",
        &[("token", &token(&first)), ("password", new_pw)],
        None,
    )
    .await;
    assert!(!r.status().is_success(), "the older link no longer works");
    let r = call(
        &app,
        "activate",
        &[("token", &token(&second)), ("password", new_pw)],
        None,
    )
    .await;
    assert_eq!(r.status(), 200);
    let r = call(&app, "whoami", &[], Some(&ken)).await;
    assert!(
        !r.text().await.unwrap().contains("\"ken\""),
        "the old session ended"
    );
    let r = call(&app, "login", &[("login", "ken"), ("password", PW)], None).await;
    assert!(r.text().await.unwrap().contains("sign_in_failed"));
    let r = call(
        &app,
        "login",
        &[("login", "ken"), ("password", new_pw)],
        None,
    )
    .await;
    assert_eq!(r.status(), 200);
    assert!(app
        .audit_actions()
        .await
        .contains(&"user.activation_link".to_string()));
    // A deactivated account's link stops working, and none is made for it.
    let third = new_link(Some(PW)).await;
    let r = call(
        &app,
        "admin_update_user",
        &[
            ("id", &ken_id),
            ("reissue", "default"),
            ("role", "user"),
            ("keep_certificates", "on"),
        ],
        Some(&boss),
    )
    .await;
    assert_eq!(r.status(), 200);
    let r = call(
        &app,
        "activate",
        &[("token", &token(&third)), ("password", new_pw)],
        None,
    )
    .await;
    assert!(!r.status().is_success());
    let r = call(
        &app,
        "admin_activation_link",
        &[("id", &ken_id)],
        Some(&boss),
    )
    .await;
    assert_eq!(r.status(), 404);
    app.stop().await;
}

/// One address cannot fill the store of passkey ceremonies for everyone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passkey_starts_are_limited_per_address() {
    let app = spawn(Backend::Sqlite).await;
    for i in 0..30 {
        let r = call(&app, "passkey_login_start", &[], None).await;
        assert_eq!(r.status(), 200, "{i}");
    }
    let r = call(&app, "passkey_login_start", &[], None).await;
    assert_eq!(r.status(), 429);
    assert_eq!(app.rows_in("webauthn_states").await, 30);
    app.stop().await;
}
