//! Sign-in against the real server: activation, password sign-in, enumeration resistance,
//! throttling, session fixation, timeouts, sign-out everywhere, CSRF, re-authentication,
//! passkeys with a software authenticator, sessions shared by two instances, audit records.

use crate::helpers::{activated_user, call, client, session_cookie, PW};
use crate::helpers::{spawn, spawn_on, Backend, TestApp};
use app::ssr::auth;
use reqwest::header::COOKIE;
use webauthn_authenticator_rs::{softpasskey::SoftPasskey, WebauthnAuthenticator};

async fn whoami(app: &TestApp, cookie: &str) -> Option<String> {
    let r = call(app, "whoami", &[], Some(cookie)).await;
    let v: serde_json::Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    v.get("login").and_then(|l| l.as_str()).map(str::to_string)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_sign_in_sessions_and_enumeration() {
    let app = spawn(Backend::Sqlite).await;
    let first = activated_user(&app, "taro", false).await;
    assert_eq!(whoami(&app, &first).await.as_deref(), Some("taro"));

    // Unknown account and wrong password: the same status and body.
    let unknown = call(
        &app,
        "login",
        &[("login", "nobody"), ("password", PW)],
        None,
    )
    .await;
    let wrong = call(
        &app,
        "login",
        &[("login", "taro"), ("password", "not the password")],
        None,
    )
    .await;
    assert_eq!(unknown.status(), wrong.status());
    assert!(!unknown.status().is_success());
    assert_eq!(unknown.text().await.unwrap(), wrong.text().await.unwrap());

    // Session fixation: the session presented at sign-in is ended and a new id issued.
    let r = call(
        &app,
        "login",
        &[("login", "TARO"), ("password", PW)],
        Some(&first),
    )
    .await;
    assert_eq!(r.status(), 200);
    let second = session_cookie(&r).unwrap();
    assert_ne!(first, second);
    assert_eq!(
        whoami(&app, &first).await,
        None,
        "the pre-login session is gone"
    );
    assert_eq!(whoami(&app, &second).await.as_deref(), Some("taro"));

    // Idle timeout (30 min) and absolute timeout (12 h), on the injected clock.
    app.clock.advance(29 * 60);
    assert!(whoami(&app, &second).await.is_some());
    app.clock.advance(29 * 60);
    assert!(
        whoami(&app, &second).await.is_some(),
        "activity keeps it alive"
    );
    app.clock.advance(31 * 60);
    assert_eq!(whoami(&app, &second).await, None, "idle for 31 minutes");
    let r = call(&app, "login", &[("login", "taro"), ("password", PW)], None).await;
    let third = session_cookie(&r).unwrap();
    for _ in 0..25 {
        app.clock.advance(29 * 60);
        let _ = whoami(&app, &third).await;
    }
    assert_eq!(
        whoami(&app, &third).await,
        None,
        "12 hours after sign-in, however active"
    );

    // Sign out everywhere ends every session.
    let a =
        session_cookie(&call(&app, "login", &[("login", "taro"), ("password", PW)], None).await)
            .unwrap();
    let b =
        session_cookie(&call(&app, "login", &[("login", "taro"), ("password", PW)], None).await)
            .unwrap();
    let r = call(&app, "logout_everywhere", &[], Some(&a)).await;
    assert_eq!(r.status(), 200);
    assert_eq!(whoami(&app, &a).await, None);
    assert_eq!(whoami(&app, &b).await, None);

    let actions = app.audit_actions().await;
    for a in [
        "user.create",
        "user.activate",
        "auth.login",
        "auth.login_failed",
        "auth.session_expired",
        "auth.logout_all",
    ] {
        assert!(actions.iter().any(|x| x == a), "missing {a}");
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_is_throttled_per_account_and_per_address() {
    let app = spawn(Backend::Sqlite).await;
    activated_user(&app, "hanako", false).await;
    // Five tries; the fifth failure locks the account for 30 s, then 60 s, …
    for _ in 0..5 {
        let r = call(
            &app,
            "login",
            &[("login", "hanako"), ("password", "wrong password!")],
            None,
        )
        .await;
        assert!(r.text().await.unwrap().contains("sign_in_failed"));
    }
    // Now even the right password waits.
    let r = call(
        &app,
        "login",
        &[("login", "hanako"), ("password", PW)],
        None,
    )
    .await;
    assert!(r.text().await.unwrap().contains("throttled"));
    app.clock.advance(31);
    let r = call(
        &app,
        "login",
        &[("login", "hanako"), ("password", PW)],
        None,
    )
    .await;
    assert_eq!(r.status(), 200, "after the lock, the right password works");

    app.stop().await;

    // Per address: many accounts from one address (a fresh portal, so the counts start at 0).
    let app = spawn(Backend::Sqlite).await;
    for i in 0..30 {
        let login = format!("ghost{i}");
        let r = call(
            &app,
            "login",
            &[("login", &login), ("password", "whatever pw")],
            None,
        )
        .await;
        assert!(r.text().await.unwrap().contains("sign_in_failed"), "{i}");
    }
    let r = call(
        &app,
        "login",
        &[("login", "ghost99"), ("password", "whatever pw")],
        None,
    )
    .await;
    let text = r.text().await.unwrap();
    assert!(text.contains("throttled"), "{text}");
    assert!(app
        .audit_actions()
        .await
        .contains(&"auth.login_throttled".to_string()));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csrf_headers_and_body_limit() {
    let app = spawn(Backend::Sqlite).await;
    let cookie = activated_user(&app, "jiro", false).await;
    let post = |headers: Vec<(&'static str, String)>| {
        let mut req = client()
            .post(format!("{}/api/logout", app.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .header(COOKIE, format!("certportal={cookie}"));
        for (k, v) in headers {
            req = req.header(k, v);
        }
        req.body("").send()
    };
    let r = post(vec![("sec-fetch-site", "cross-site".into())])
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = post(vec![("origin", "http://evil.example".into())])
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(
        whoami(&app, &cookie).await.as_deref(),
        Some("jiro"),
        "refused requests change nothing"
    );
    let r = post(vec![
        ("sec-fetch-site", "same-origin".into()),
        ("origin", app.base.clone()),
    ])
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(whoami(&app, &cookie).await, None);

    // A page carries a CSP whose nonce is on the islands script (the link page is the one
    // with WebAssembly), and framing is refused.
    let page = client()
        .get(format!("{}/certificates/x/link", app.base))
        .send()
        .await
        .unwrap();
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains("frame-ancestors 'none'") && csp.contains("'wasm-unsafe-eval'"),
        "{csp}"
    );
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .unwrap()
        .split('\'')
        .next()
        .unwrap()
        .to_string();
    let html = page.text().await.unwrap();
    assert!(
        html.contains(&format!("nonce=\"{nonce}\"")),
        "hydration script carries the nonce"
    );

    let big = "x".repeat(70 * 1024);
    let r = client()
        .post(format!("{}/api/login", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("login=a&password={big}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    app.stop().await;
}

/// Registers a passkey of the software authenticator for the session (as a security key:
/// this authenticator cannot keep discoverable credentials).
async fn register_soft_passkey(
    app: &TestApp,
    session: &str,
    authenticator: &mut SoftPasskey,
    origin: &url::Url,
) {
    let r = call(app, "passkey_register_start", &[], Some(session)).await;
    let start: serde_json::Value =
        serde_json::from_str(&serde_json::from_str::<String>(&r.text().await.unwrap()).unwrap())
            .unwrap();
    let mut options: webauthn_rs::prelude::CreationChallengeResponse =
        serde_json::from_value(start["options"].clone()).unwrap();
    if let Some(sel) = options.public_key.authenticator_selection.as_mut() {
        sel.require_resident_key = false;
        sel.resident_key = None;
    }
    let cred = authenticator
        .do_registration(origin.clone(), options)
        .unwrap();
    let r = call(
        app,
        "passkey_register_finish",
        &[
            ("ceremony", start["ceremony"].as_str().unwrap()),
            ("name", "Another key"),
            ("credential", &serde_json::to_string(&cred).unwrap()),
        ],
        Some(session),
    )
    .await;
    assert_eq!(r.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passkeys_with_a_software_authenticator_and_reauthentication() {
    let app = spawn(Backend::Sqlite).await;
    let cookie = activated_user(&app, "saburo", false).await;
    let origin = url::Url::parse(&app.base).unwrap();
    let mut authenticator = SoftPasskey::new(true);

    // Register.
    let r = call(&app, "passkey_register_start", &[], Some(&cookie)).await;
    let start: serde_json::Value =
        serde_json::from_str(&serde_json::from_str::<String>(&r.text().await.unwrap()).unwrap())
            .unwrap();
    let mut options: webauthn_rs::prelude::CreationChallengeResponse =
        serde_json::from_value(start["options"].clone()).unwrap();
    assert_eq!(
        options
            .public_key
            .authenticator_selection
            .as_ref()
            .map(|s| s.require_resident_key),
        Some(true)
    );
    // This software authenticator cannot keep discoverable credentials; it answers as a
    // security key would (the server then lists it when the login name is given).
    if let Some(sel) = options.public_key.authenticator_selection.as_mut() {
        sel.require_resident_key = false;
        sel.resident_key = None;
    }
    let user_handle = options.public_key.user.id.clone();
    let cred = authenticator
        .do_registration(origin.clone(), options)
        .unwrap();
    let body = serde_json::to_string(&cred).unwrap();
    let ceremony = start["ceremony"].as_str().unwrap();
    let r = call(
        &app,
        "passkey_register_finish",
        &[
            ("ceremony", ceremony),
            ("name", "Soft key"),
            ("credential", &body),
        ],
        Some(&cookie),
    )
    .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    // A ceremony can be finished once.
    let r = call(
        &app,
        "passkey_register_finish",
        &[
            ("ceremony", ceremony),
            ("name", "again"),
            ("credential", &body),
        ],
        Some(&cookie),
    )
    .await;
    assert!(!r.status().is_success());

    // Sign in with the passkey (no password) from a fresh browser. The start is the same
    // whatever login is typed (nothing tells who exists or which passkeys they have).
    let mut answers = Vec::new();
    for login in ["saburo", "nobody-here", ""] {
        let r = call(&app, "passkey_login_start", &[("login", login)], None).await;
        let v: serde_json::Value = serde_json::from_str(
            &serde_json::from_str::<String>(&r.text().await.unwrap()).unwrap(),
        )
        .unwrap();
        let pk = &v["options"]["publicKey"];
        answers.push((
            pk["allowCredentials"].as_array().map_or(0, Vec::len),
            pk["userVerification"].clone(),
            pk["rpId"].clone(),
        ));
    }
    assert!(answers.iter().all(|a| *a == answers[0]), "{answers:?}");
    assert_eq!(answers[0].0, 0, "no credential ids");
    let r = call(&app, "passkey_login_start", &[("login", "saburo")], None).await;
    let start: serde_json::Value =
        serde_json::from_str(&serde_json::from_str::<String>(&r.text().await.unwrap()).unwrap())
            .unwrap();
    // The software authenticator cannot look up a discoverable credential by itself: name its
    // credential to it, and add the user handle a discoverable authenticator returns (neither
    // is covered by the signature the server checks).
    let mut raw = start["options"].clone();
    raw["publicKey"]["allowCredentials"] =
        serde_json::json!([{ "type": "public-key", "id": cred.id.clone() }]);
    let options: webauthn_rs::prelude::RequestChallengeResponse =
        serde_json::from_value(raw).unwrap();
    let mut assertion = authenticator
        .do_authentication(origin.clone(), options)
        .unwrap();
    assertion.response.user_handle = Some(user_handle.clone());
    let r = call(
        &app,
        "passkey_login_finish",
        &[
            ("ceremony", start["ceremony"].as_str().unwrap()),
            ("credential", &serde_json::to_string(&assertion).unwrap()),
        ],
        None,
    )
    .await;
    assert_eq!(r.status(), 200);
    let pk_session = session_cookie(&r).unwrap();
    assert_eq!(whoami(&app, &pk_session).await.as_deref(), Some("saburo"));
    // Replaying the same assertion is refused.
    let replay = call(
        &app,
        "passkey_login_finish",
        &[
            ("ceremony", start["ceremony"].as_str().unwrap()),
            ("credential", &serde_json::to_string(&assertion).unwrap()),
        ],
        None,
    )
    .await;
    assert!(!replay.status().is_success());

    // Rule 8: removing the passkey needs a confirmation within 5 minutes.
    let list: serde_json::Value = serde_json::from_str(
        &call(&app, "list_passkeys", &[], Some(&pk_session))
            .await
            .text()
            .await
            .unwrap(),
    )
    .unwrap();
    let id = list[0]["id"].as_str().unwrap().to_string();
    assert_eq!(list[0]["name"], "Soft key");
    app.clock.advance(6 * 60);
    let _ = whoami(&app, &pk_session).await;
    let r = call(&app, "remove_passkey", &[("id", &id)], Some(&pk_session)).await;
    assert!(r.text().await.unwrap().contains("reauth_required"));
    let r = call(
        &app,
        "confirm_password",
        &[("password", "wrong wrong wrong")],
        Some(&pk_session),
    )
    .await;
    assert!(!r.status().is_success());
    let r = call(
        &app,
        "confirm_password",
        &[("password", PW)],
        Some(&pk_session),
    )
    .await;
    assert_eq!(r.status(), 200);
    let r = call(&app, "remove_passkey", &[("id", &id)], Some(&pk_session)).await;
    assert_eq!(r.status(), 200);
    let list: serde_json::Value = serde_json::from_str(
        &call(&app, "list_passkeys", &[], Some(&pk_session))
            .await
            .text()
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(list.as_array().unwrap().len(), 0);

    // Adding a passkey needs a recent confirmation too: a session alone adds no way in.
    app.clock.advance(6 * 60);
    let _ = whoami(&app, &pk_session).await;
    let r = call(&app, "passkey_register_start", &[], Some(&pk_session)).await;
    assert!(r.text().await.unwrap().contains("reauth_required"));
    let r = call(
        &app,
        "confirm_password",
        &[("password", PW)],
        Some(&pk_session),
    )
    .await;
    assert_eq!(r.status(), 200);
    register_soft_passkey(&app, &pk_session, &mut authenticator, &origin).await;
    assert_eq!(app.rows_in("passkeys").await, 1);
    // "Lost device" removes every passkey (the lost phone may hold one) and signs out.
    let r = call(
        &app,
        "report_lost_device",
        &[("confirm", "yes")],
        Some(&pk_session),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(app.rows_in("passkeys").await, 0);
    assert_eq!(whoami(&app, &pk_session).await, None);
    let last = app.audit_records().await.pop().unwrap();
    assert!(
        last.entry.detail.contains("passkeys=1"),
        "{}",
        last.entry.detail
    );

    let actions = app.audit_actions().await;
    for a in [
        "auth.passkey_add",
        "auth.reauth",
        "auth.reauth_failed",
        "auth.passkey_remove",
    ] {
        assert!(actions.iter().any(|x| x == a), "missing {a}");
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forced_password_change_and_admin_only_user_creation() {
    let app = spawn(Backend::Sqlite).await;
    let admin = activated_user(&app, "boss", true).await;
    let user = activated_user(&app, "worker", false).await;
    // A non-admin cannot create users.
    let r = call(
        &app,
        "admin_create_user",
        &[
            ("login", "x"),
            ("display_name", "X"),
            ("email", "x@example.com"),
        ],
        Some(&user),
    )
    .await;
    assert!(r.text().await.unwrap().contains("\"forbidden\""));
    // An admin can; bad input is refused and creates nothing.
    let r = call(
        &app,
        "admin_create_user",
        &[
            ("login", "bad login"),
            ("display_name", "X"),
            ("email", "x@example.com"),
        ],
        Some(&admin),
    )
    .await;
    assert!(r.text().await.unwrap().contains("invalid_login"));
    let r = call(
        &app,
        "admin_create_user",
        &[
            ("login", "newbie"),
            ("display_name", "New"),
            ("email", "n@example.com"),
            ("department", "Sales/Tokyo"),
        ],
        Some(&admin),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("/activate/"));
    let r = call(
        &app,
        "admin_create_user",
        &[
            ("login", "newbie"),
            ("display_name", "Dup"),
            ("email", "d@example.com"),
        ],
        Some(&admin),
    )
    .await;
    assert!(r.text().await.unwrap().contains("login_taken"));

    // Forced change (as after a lost device): sign-in says so, and the change still needs
    // the current password (a session alone never sets one); afterwards the flag is gone.
    {
        let mut c = app.services.conn().await.unwrap();
        let u = app::ssr::db::user_by_login(&mut c, "worker")
            .await
            .unwrap()
            .unwrap();
        app::ssr::db::auth_rows::set_must_change_password(&mut c, &u.id, true, 0)
            .await
            .unwrap();
    }
    let r = call(
        &app,
        "login",
        &[("login", "worker"), ("password", PW)],
        None,
    )
    .await;
    let s = session_cookie(&r).unwrap();
    let body: serde_json::Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    assert_eq!(body["must_change_password"], true);
    let r = call(
        &app,
        "change_password",
        &[("new_password", "a brand new password")],
        Some(&s),
    )
    .await;
    assert!(r.text().await.unwrap().contains("wrong_password"));
    let r = call(
        &app,
        "change_password",
        &[("current", PW), ("new_password", "a brand new password")],
        Some(&s),
    )
    .await;
    assert_eq!(r.status(), 200);
    let r = call(
        &app,
        "login",
        &[("login", "worker"), ("password", "a brand new password")],
        None,
    )
    .await;
    let body: serde_json::Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    assert_eq!(body["must_change_password"], false);
    // Without the flag, the current password is required.
    let s2 = call(
        &app,
        "login",
        &[("login", "worker"), ("password", "a brand new password")],
        None,
    )
    .await;
    let s2 = session_cookie(&s2).unwrap();
    let r = call(
        &app,
        "change_password",
        &[("new_password", "yet another password")],
        Some(&s2),
    )
    .await;
    assert!(r.text().await.unwrap().contains("wrong_password"));
    let _ = user;
    assert!(app
        .audit_actions()
        .await
        .contains(&"auth.password_change".to_string()));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_from_one_instance_works_on_another() {
    let first = spawn(Backend::Postgres).await;
    let cookie = activated_user(&first, "shared", false).await;
    let second = spawn_on(tempfile::tempdir().unwrap(), first.database_url.clone()).await;
    assert_eq!(whoami(&second, &cookie).await.as_deref(), Some("shared"));
    let r = call(&second, "logout", &[], Some(&cookie)).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        whoami(&first, &cookie).await,
        None,
        "signed out on one, signed out on both"
    );
    second.stop().await;
    first.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_sessions_are_purged() {
    let app = spawn(Backend::Sqlite).await;
    let a = activated_user(&app, "old", false).await;
    let _b =
        session_cookie(&call(&app, "login", &[("login", "old"), ("password", PW)], None).await)
            .unwrap();
    assert_eq!(
        auth::purge_expired(&app.services).await.unwrap(),
        0,
        "live sessions stay"
    );
    app.clock.advance(31 * 60);
    assert_eq!(auth::purge_expired(&app.services).await.unwrap(), 2);
    assert_eq!(whoami(&app, &a).await, None);
    app.stop().await;
}

/// The zone a user chooses: a name not in the IANA database is refused and changes nothing;
/// a real one is remembered, set in the browser (`tz` + `tz_set`), given again at every
/// sign-in, and pages render in it (`<html data-tz>`, offsets in the times).
async fn a_chosen_time_zone(backend: Backend) {
    let app = crate::helpers::spawn_backend_with(
        backend,
        &[("CERTPORTAL_TIME_ZONE", "Europe/Berlin".into())],
    )
    .await;
    let token = activated_user(&app, "sakura", false).await;
    let cookie = format!("certportal={token}");
    let set_cookies = |r: &reqwest::Response| -> Vec<String> {
        r.headers()
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or_default().to_string())
            .collect()
    };
    let page = |c: String| {
        let base = app.base.clone();
        async move {
            client()
                .get(format!("{base}/account"))
                .header(COOKIE, c)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    // Without a choice and without the script's cookie: the portal's zone.
    assert!(page(cookie.clone())
        .await
        .contains(r#"data-tz="Europe/Berlin""#));
    for bad in [
        "Mars/Olympus_Mons",
        "../../etc/passwd",
        "Asia/Tokyo; tz_set=1",
    ] {
        let r = call(&app, "set_time_zone", &[("zone", bad)], Some(&cookie)).await;
        assert_eq!(r.status(), 400, "{bad}");
        assert!(
            set_cookies(&r).iter().all(|c| !c.starts_with("tz")),
            "{bad}"
        );
        assert!(r.text().await.unwrap().contains("invalid_time_zone"));
    }
    let mut c = app.services.conn().await.unwrap();
    let id = app::ssr::db::user_by_login(&mut c, "sakura")
        .await
        .unwrap()
        .unwrap()
        .id;
    assert_eq!(
        app::ssr::db::user_time_zone(&mut c, &id).await.unwrap(),
        None
    );
    // Signed out, nothing is remembered.
    let r = call(&app, "set_time_zone", &[("zone", "Asia/Tokyo")], None).await;
    assert_eq!(r.status(), 401);

    let r = call(
        &app,
        "set_time_zone",
        &[("zone", "Asia/Tokyo")],
        Some(&cookie),
    )
    .await;
    assert_eq!(r.status(), 200);
    let sc = set_cookies(&r);
    assert!(sc.contains(&"tz=Asia/Tokyo".to_string()), "{sc:?}");
    assert!(sc.contains(&"tz_set=1".to_string()), "{sc:?}");
    assert_eq!(
        app::ssr::db::user_time_zone(&mut c, &id)
            .await
            .unwrap()
            .as_deref(),
        Some("Asia/Tokyo")
    );
    drop(c);
    // A new browser: the sign-in hands the choice over, and pages render in it.
    let r = call(
        &app,
        "login",
        &[("login", "sakura"), ("password", PW)],
        None,
    )
    .await;
    let sc = set_cookies(&r);
    assert!(sc.contains(&"tz=Asia/Tokyo".to_string()), "{sc:?}");
    let fresh = session_cookie(&r).unwrap();
    let html = page(format!("certportal={fresh}; tz=Asia/Tokyo; tz_set=1")).await;
    assert!(html.contains(r#"data-tz="Asia/Tokyo""#));
    assert!(html.contains("(UTC+9)"), "times carry the offset");
    // A cookie naming no zone falls back to the portal's.
    let html = page(format!("certportal={fresh}; tz=Nowhere/Atlantis")).await;
    assert!(html.contains(r#"data-tz="Europe/Berlin""#));
    // Automatic again, with the browser's zone from the page script: not pinned.
    let r = call(
        &app,
        "set_time_zone",
        &[("zone", ""), ("browser", "America/New_York")],
        Some(&format!("certportal={fresh}")),
    )
    .await;
    assert_eq!(r.status(), 200);
    let sc = set_cookies(&r);
    assert!(sc.contains(&"tz=America/New_York".to_string()), "{sc:?}");
    assert!(sc.contains(&"tz_set=".to_string()), "pin removed: {sc:?}");
    let mut c = app.services.conn().await.unwrap();
    assert_eq!(
        app::ssr::db::user_time_zone(&mut c, &id).await.unwrap(),
        None
    );
}
crate::both!(chosen_time_zone, a_chosen_time_zone);
