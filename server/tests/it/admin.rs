//! The admin console's server functions: every one refuses plain users and anonymous callers
//! (enumerated from the server-function registry, so a new one cannot be forgotten), and the
//! revocation view reports what the CRL and OCSP really publish.

use crate::both;
use crate::helpers::{
    activated_user, call, commit_when_waiting, hold_new_department, spawn, Backend, TestApp,
};
use crate::pickup::{download, json, request, show_link, token_of, ANDROID};
use serde_json::Value;
use std::collections::BTreeMap;

/// Arguments that make each admin function do real work when an admin calls it (on the user
/// `target`); a plain user must be refused before any of it happens.
fn admin_calls(
    target: &str,
    entry: &str,
    pending: &str,
) -> BTreeMap<&'static str, Vec<(&'static str, String)>> {
    let t = target.to_string();
    BTreeMap::from([
        (
            "admin_create_user",
            vec![
                ("login", "mallory2".into()),
                ("display_name", "Mallory Two".into()),
                ("email", "m2@example.com".into()),
                ("is_admin", "on".into()),
            ],
        ),
        ("admin_list_users", vec![]),
        (
            "admin_activation_link",
            vec![("id", t.clone()), ("password", crate::helpers::PW.into())],
        ),
        ("admin_revocation_status", vec![]),
        ("admin_directory", vec![("q", "a".into())]),
        ("admin_users_by_id", vec![("users[]", t.clone())]),
        ("admin_pending", vec![]),
        (
            "admin_decide",
            vec![
                ("enrollment", pending.to_string()),
                ("decision", "approve".into()),
            ],
        ),
        ("admin_user", vec![("id", t.clone())]),
        (
            "admin_update_user",
            vec![
                ("id", t.clone()),
                ("reissue", "off".into()),
                ("role", "admin".into()),
            ],
        ),
        (
            "admin_lost_device",
            vec![
                ("id", t.clone()),
                ("confirm", "yes".into()),
                ("password", crate::helpers::PW.into()),
            ],
        ),
        (
            "admin_revoke_certificate",
            vec![
                ("entry", entry.to_string()),
                ("reason", "keyCompromise".into()),
                ("password", crate::helpers::PW.into()),
            ],
        ),
        ("admin_history", vec![("filter[user]", "victor".into())]),
        ("admin_settings", vec![]),
        ("admin_summary", vec![]),
        ("admin_set_digest", vec![("digest", "on".into())]),
        ("admin_created_link", vec![]),
        ("admin_scim", vec![]),
        (
            "admin_create_scim_token",
            vec![
                ("name", "mallory's".into()),
                ("password", crate::helpers::PW.into()),
            ],
        ),
        ("admin_revoke_scim_token", vec![("id", "x".into())]),
        (
            "admin_update_settings",
            vec![
                ("distribution_mode", "approval".into()),
                ("default_validity_days", "30".into()),
                ("max_validity_days", "60".into()),
                ("link_lifetime_minutes", "5".into()),
                ("pickup_deadline_days", "3".into()),
                ("max_active_per_user", "9".into()),
                ("p12_form", "modern".into()),
                ("key_algorithm", "ecdsa_p256".into()),
                ("crl_next_update_days", "3".into()),
            ],
        ),
        (
            "admin_rotate_ca",
            vec![
                ("confirm", "yes".into()),
                ("password", crate::helpers::PW.into()),
            ],
        ),
        (
            "admin_bulk_create",
            vec![("users[]", t.clone()), ("remove_existing", "on".into())],
        ),
        (
            "admin_bulk_revoke",
            vec![
                ("users[]", t),
                ("reason", "keyCompromise".into()),
                ("password", crate::helpers::PW.into()),
            ],
        ),
    ])
}

async fn non_admins_are_refused(backend: Backend) {
    let app = spawn(backend).await;
    let user = activated_user(&app, "mallory", false).await;
    // A victim with a picked-up certificate and an open enrollment.
    let victim = activated_user(&app, "victor", false).await;
    let entry = request(&app, &victim, "laptop").await;
    let (url, _, _, _) = show_link(&app, &victim, &entry).await;
    assert_eq!(
        download(&app, &token_of(&url), "p12", ANDROID)
            .await
            .status(),
        200
    );
    app.set_policy(|p| {
        p.distribution_mode = app::domain::policy::DistributionMode::Approval;
    })
    .await;
    let pending = request(&app, &victim, "phone").await;
    let victim_id = user_id(&app, "victor").await;
    let before = snapshot(&app).await;
    let policy_before = {
        let mut c = app.services.conn().await.unwrap();
        app::ssr::db::get_setting(&mut c, "policy").await.unwrap()
    };

    let registered: Vec<String> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path.trim_start_matches("/api/").to_string())
        .filter(|p| p.starts_with("admin_"))
        .collect();
    let calls = admin_calls(&victim_id, &entry, &pending);
    let known: Vec<String> = calls.keys().map(|k| k.to_string()).collect();
    let mut sorted = registered.clone();
    sorted.sort();
    assert_eq!(
        sorted, known,
        "every admin server function needs an entry in admin_calls()"
    );
    for (name, args) in &calls {
        let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = call(&app, name, &args, Some(&user)).await;
        assert_eq!(r.status(), 403, "{name} as a plain user");
        let r = call(&app, name, &args, None).await;
        assert_eq!(r.status(), 401, "{name} without a session");
    }
    // Nothing happened: no user created, no certificate or enrollment changed, no token made.
    assert_eq!(snapshot(&app).await, before);
    let tokens = app::ssr::scim::list_tokens(&app.services, &app::ssr::audit::Actor::cli())
        .await
        .unwrap();
    assert!(tokens.is_empty(), "{tokens:?}");
    let mut c = app.services.conn().await.unwrap();
    assert_eq!(
        app::ssr::db::get_setting(&mut c, "policy").await.unwrap(),
        policy_before
    );
    let victim_row = app::ssr::db::user_by_id(&mut c, &victim_id)
        .await
        .unwrap()
        .unwrap();
    assert!(!victim_row.is_admin && victim_row.active && victim_row.reissue_allowed.is_none());
    drop(c);
    // The plain routes too.
    for path in ["/admin/history.csv", "/admin/history.csv?user=victor"] {
        let r = crate::helpers::client()
            .get(format!("{}{path}", app.base))
            .header("cookie", format!("certportal={user}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{path}");
    }
    let mut c = app.services.conn().await.unwrap();
    assert!(app::ssr::db::user_by_login(&mut c, "mallory2")
        .await
        .unwrap()
        .is_none());
    drop(c);
    app.stop().await;
}
both!(
    every_admin_function_refuses_non_admins,
    non_admins_are_refused
);

pub(crate) async fn user_id(app: &TestApp, login: &str) -> String {
    let mut c = app.services.conn().await.unwrap();
    app::ssr::db::user_by_login(&mut c, login)
        .await
        .unwrap()
        .unwrap()
        .id
}

/// Every enrollment's, certificate's and user's certificate state.
pub(crate) async fn snapshot(app: &TestApp) -> Vec<String> {
    use sqlx::Row;
    let mut c = app.services.conn().await.unwrap();
    let mut out = Vec::new();
    for sql in [
        "SELECT id || ':' || state AS v FROM enrollments ORDER BY id",
        "SELECT id || ':' || state AS v FROM certificates ORDER BY id",
        "SELECT id || ':' || cert_summary AS v FROM users ORDER BY id",
        "SELECT id AS v FROM cas ORDER BY id",
        "SELECT id_hash AS v FROM sessions ORDER BY id_hash",
    ] {
        for r in sqlx::query(sql).fetch_all(&mut *c).await.unwrap() {
            out.push(r.get::<String, _>("v"));
        }
    }
    out
}

async fn status(app: &TestApp, admin: &str) -> Value {
    json(call(app, "admin_revocation_status", &[], Some(admin)).await).await
}

async fn revocation_view(backend: Backend) {
    let app = spawn(backend).await;
    let admin = activated_user(&app, "root", true).await;
    let user = activated_user(&app, "ulla", false).await;
    let v = status(&app, &admin).await;
    let ca = &v["cas"][0];
    assert_eq!(v["cas"].as_array().unwrap().len(), 1);
    assert_eq!(ca["current"], true);
    assert_eq!(ca["issued"], 0);
    assert_eq!(ca["crl_entries"], 0);
    assert_eq!(ca["ocsp_ready"], true);
    assert_eq!(v["ocsp"]["url"], format!("{}/ocsp", app.base));
    let number = ca["crl_number"].as_i64().unwrap();

    // Pick up a certificate, then revoke it: the CRL gets one entry and a new number.
    let entry = request(&app, &user, "phone").await;
    let (url, _, _, _) = show_link(&app, &user, &entry).await;
    assert_eq!(
        download(&app, &token_of(&url), "p12", ANDROID)
            .await
            .status(),
        200
    );
    assert_eq!(status(&app, &admin).await["cas"][0]["issued"], 1);
    json(
        call(
            &app,
            "revoke_entry",
            &[("entry", &entry), ("reason", "keyCompromise")],
            Some(&user),
        )
        .await,
    )
    .await;
    let v = status(&app, &admin).await;
    let ca = &v["cas"][0];
    assert_eq!(ca["issued"], 0);
    assert_eq!(ca["crl_entries"], 1);
    assert!(ca["crl_number"].as_i64().unwrap() > number);
    assert_eq!(
        ca["crl_this_update"].as_i64(),
        Some(app::ssr::clock::Clock::now(&app.clock))
    );
    app.stop().await;
}
both!(revocation_view_reports_the_published_crl, revocation_view);

/// A user with one picked-up certificate: (session cookie, user id).
pub(crate) async fn with_certificate(app: &TestApp, login: &str) -> (String, String) {
    let cookie = activated_user(app, login, false).await;
    let entry = request(app, &cookie, "laptop").await;
    let (url, _, _, _) = show_link(app, &cookie, &entry).await;
    assert_eq!(
        download(app, &token_of(&url), "p12", ANDROID)
            .await
            .status(),
        200
    );
    (cookie, user_id(app, login).await)
}

/// The rows that belong to one user (enrollments, certificates, summary, audit rows).
async fn rows_of(app: &TestApp, user: &str) -> Vec<String> {
    use sqlx::Row;
    let mut c = app.services.conn().await.unwrap();
    let mut out = Vec::new();
    for sql in [
        "SELECT id || ':' || state AS v FROM enrollments WHERE user_id = $1 ORDER BY id",
        "SELECT id || ':' || state AS v FROM certificates WHERE user_id = $1 ORDER BY id",
        "SELECT cert_summary AS v FROM users WHERE id = $1",
        "SELECT action || ':' || result AS v FROM audit WHERE subject_user_id = $1 ORDER BY id",
    ] {
        for r in sqlx::query(sql)
            .bind(user.to_string())
            .fetch_all(&mut *c)
            .await
            .unwrap()
        {
            out.push(r.get::<String, _>("v"));
        }
    }
    out
}

async fn states(app: &TestApp, user: &str, table: &str) -> Vec<String> {
    use sqlx::Row;
    let mut c = app.services.conn().await.unwrap();
    let sql = format!("SELECT state FROM {table} WHERE user_id = $1 ORDER BY created_at, id");
    sqlx::query(&sql)
        .bind(user.to_string())
        .fetch_all(&mut *c)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<String, _>("state"))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect()
}

// `states` is sorted and deduplicated: rows made in the same second have no order.

/// A failure injected in the middle of each bulk run leaves that user exactly as before and
/// the others done, with their audit rows.
async fn bulk_atomicity(backend: Backend) {
    use app::domain::lifecycle::RevocationReason;
    use app::ssr::admin;
    use app::ssr::audit::Actor;
    use app::ssr::faults::FailPoint;
    let app = spawn(backend).await;
    let s = &app.services;
    let mut ids = Vec::new();
    for login in ["amy", "ben", "cid"] {
        ids.push(with_certificate(&app, login).await.1);
    }
    // The second user's change fails after its first write.
    let mid = |point| s.faults.arm(point, Some(&ids[1]));

    // Bulk create with "remove existing".
    let before = rows_of(&app, &ids[1]).await;
    mid(FailPoint::AfterRemoveExisting);
    let out = admin::bulk_create(s, &Actor::cli(), &ids, None, true).await;
    assert!(out[0].result.is_ok() && out[2].result.is_ok());
    assert!(out[1].result.is_err());
    assert_eq!(out[1].login, "ben");
    assert_eq!(rows_of(&app, &ids[1]).await, before, "ben unchanged");
    for i in [0, 2] {
        assert_eq!(states(&app, &ids[i], "certificates").await, ["superseded"]);
        assert_eq!(
            states(&app, &ids[i], "enrollments").await,
            ["issued", "ready"]
        );
    }

    // Create & Download.
    let before = rows_of(&app, &ids[1]).await;
    mid(FailPoint::AfterIssue);
    let out = admin::bulk_create_and_download(s, &Actor::cli(), &ids, None, true).await;
    assert!(out[1].result.is_err());
    assert_eq!(rows_of(&app, &ids[1]).await, before, "ben unchanged");
    for i in [0, 2] {
        let h = out[i].result.as_ref().unwrap();
        assert_eq!(h.pin.len(), 8);
        assert_eq!(
            states(&app, &ids[i], "certificates").await,
            ["issued", "superseded"]
        );
    }

    // Bulk revoke.
    let before = rows_of(&app, &ids[1]).await;
    mid(FailPoint::AfterRevoke);
    let out =
        admin::bulk_revoke(s, &Actor::cli(), &ids, RevocationReason::AffiliationChanged).await;
    assert_eq!(*out[0].result.as_ref().unwrap(), 1);
    assert!(out[1].result.is_err());
    assert_eq!(rows_of(&app, &ids[1]).await, before, "ben unchanged");
    assert_eq!(
        states(&app, &ids[2], "certificates").await,
        ["revoked", "superseded"]
    );

    // Every change of the others has its audit rows (one per revoked certificate and per
    // enrollment created).
    for i in [0, 2] {
        // One request of their own + two by the admin.
        assert_eq!(audit_count(&app, &ids[i], "enrollment.create").await, 3);
        // "remove existing" of the bulk create (1) and the bulk revoke (1); Create &
        // Download's "remove existing" found only a ready enrollment, which it withdrew.
        assert_eq!(audit_count(&app, &ids[i], "certificate.revoke").await, 2);
        assert_eq!(audit_count(&app, &ids[i], "enrollment.withdraw").await, 1);
        assert_eq!(audit_count(&app, &ids[i], "certificate.issue").await, 2);
    }
    app.stop().await;
}
both!(bulk_runs_are_atomic_per_user, bulk_atomicity);

pub(crate) async fn audit_count(app: &TestApp, user: &str, action: &str) -> i64 {
    use sqlx::Row;
    let mut c = app.services.conn().await.unwrap();
    sqlx::query("SELECT COUNT(*) AS n FROM audit WHERE subject_user_id = $1 AND action = $2")
        .bind(user.to_string())
        .bind(action.to_string())
        .fetch_one(&mut *c)
        .await
        .unwrap()
        .get::<i64, _>("n")
}

/// Over HTTP: bulk create with an end date and "remove existing", the revocation guard
/// (no confirmation, wrong password: refused, nothing changed), bulk revoke with the password,
/// "Create & Download" as a ZIP whose bundles open with the PINs in `PINS.csv`.
async fn bulk_over_http(backend: Backend) {
    let app = spawn(backend).await;
    let admin = activated_user(&app, "root", true).await;
    let (_, dora) = with_certificate(&app, "dora").await;
    let (_, eli) = with_certificate(&app, "eli").await;
    let none = activated_user(&app, "fay", false).await;
    let _ = none;
    let fay = user_id(&app, "fay").await;

    // An end date in the past is refused and changes nothing.
    let before = snapshot(&app).await;
    let r = call(
        &app,
        "admin_bulk_create",
        &[("users[]", &dora), ("not_after", "2001-01-01")],
        Some(&admin),
    )
    .await;
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("not_after_in_past"));
    let r = call(
        &app,
        "admin_bulk_create",
        &[("not_after", "2030-01-01")],
        Some(&admin),
    )
    .await;
    assert!(r.text().await.unwrap().contains("nothing_selected"));
    assert_eq!(snapshot(&app).await, before);

    let v = json(
        call(
            &app,
            "admin_bulk_create",
            &[
                ("users[]", &dora),
                ("users[]", &fay),
                ("not_after", "2026-06-30"),
                ("remove_existing", "on"),
            ],
            Some(&admin),
        )
        .await,
    )
    .await;
    let rows = v.as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| r["error"].is_null()), "{v}");
    assert_eq!(states(&app, &dora, "certificates").await, ["superseded"]);
    assert_eq!(states(&app, &fay, "enrollments").await, ["ready"]);
    let e = {
        let mut c = app.services.conn().await.unwrap();
        app::ssr::db::enrollments_for_user(&mut c, &fay)
            .await
            .unwrap()
    };
    assert_eq!(e[0].requested_not_after, Some(1_782_863_999));

    // The confirmation guard: the admin's sign-in is more than 5 minutes old.
    app.clock.advance(6 * 60);
    let before = snapshot(&app).await;
    let r = call(
        &app,
        "admin_bulk_revoke",
        &[("users[]", &eli), ("reason", "keyCompromise")],
        Some(&admin),
    )
    .await;
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("reauth_required"));
    let r = call(
        &app,
        "admin_bulk_revoke",
        &[
            ("users[]", &eli),
            ("reason", "keyCompromise"),
            ("password", "not the password"),
        ],
        Some(&admin),
    )
    .await;
    assert_eq!(r.status(), 400);
    assert_eq!(snapshot(&app).await, before, "refused: nothing changed");
    let v = json(
        call(
            &app,
            "admin_bulk_revoke",
            &[
                ("users[]", &eli),
                ("users[]", &fay),
                ("reason", "keyCompromise"),
                ("password", crate::helpers::PW),
            ],
            Some(&admin),
        )
        .await,
    )
    .await;
    assert_eq!(v[0]["detail"], "1 revoked", "{v}");
    assert_eq!(v[1]["detail"], "0 revoked", "{v}");
    assert_eq!(states(&app, &eli, "certificates").await, ["revoked"]);

    // Create & Download: a ZIP with a bundle per user and the PINs.
    let post = |cookie: String, body: String| {
        let url = format!("{}/admin/create-download", app.base);
        async move {
            crate::helpers::client()
                .post(url)
                .header("content-type", "application/x-www-form-urlencoded")
                .header("cookie", format!("certportal={cookie}"))
                .body(body)
                .send()
                .await
                .unwrap()
        }
    };
    let body = format!("users%5B%5D={eli}&users%5B%5D={fay}&remove_existing=on");
    let user_cookie = activated_user(&app, "gus", false).await;
    let before = snapshot(&app).await;
    let r = post(user_cookie, body.clone()).await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/admin/users?error=forbidden");
    assert_eq!(snapshot(&app).await, before, "a plain user changes nothing");
    let r = post(admin.clone(), body).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/zip");
    let dir = app.dir.path().join("zip");
    std::fs::create_dir_all(&dir).unwrap();
    let zip = dir.join("b.zip");
    std::fs::write(&zip, r.bytes().await.unwrap()).unwrap();
    let out = crate::helpers::ok(
        "python3",
        &[
            "-c",
            "import sys,zipfile\nz=zipfile.ZipFile(sys.argv[1])\nassert z.testzip() is None\n\
             z.extractall(sys.argv[2])\nprint(sorted(z.namelist()))",
            &zip.display().to_string(),
            &dir.display().to_string(),
        ],
    );
    // The ZIP alone opens nothing: the PINs are a second download, after a confirmation.
    assert!(
        out.contains("['RESULTS.csv', 'eli.p12', 'fay.p12']"),
        "{out}"
    );
    let pins_of = |pw: Option<&'static str>| {
        let base = app.base.clone();
        let admin = admin.clone();
        async move {
            let mut form = vec![];
            if let Some(p) = pw {
                form.push(("password", p));
            }
            crate::helpers::client()
                .post(format!("{base}/admin/handover-pins.csv"))
                .header("cookie", format!("certportal={admin}"))
                .form(&form)
                .send()
                .await
                .unwrap()
        }
    };
    app.clock.advance(6 * 60);
    let r = pins_of(None).await;
    assert_eq!(r.status(), 303);
    assert!(r.headers()["location"]
        .to_str()
        .unwrap()
        .contains("reauth_required"));
    let r = pins_of(Some(crate::helpers::PW)).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
    let pins = r.text().await.unwrap();
    assert_eq!(pins.lines().count(), 3, "{pins}");
    for line in pins.lines().filter(|l| !l.starts_with("login,")) {
        let f: Vec<&str> = line.split(',').collect();
        let p12 = dir.join(format!("{}.p12", f[0]));
        let text = crate::helpers::ok(
            "openssl",
            &[
                "pkcs12",
                "-in",
                &p12.display().to_string(),
                "-passin",
                &format!("pass:{}", f[3]),
                "-nokeys",
                "-clcerts",
            ],
        );
        assert!(text.contains("BEGIN CERTIFICATE"), "{text}");
        assert!(
            text.contains(&format!("UID = {}", f[0])) || text.contains(&format!("UID={}", f[0])),
            "{text}"
        );
    }
    assert_eq!(states(&app, &fay, "certificates").await, ["issued"]);
    app.stop().await;
}
both!(bulk_actions_over_http, bulk_over_http);

/// An administrator's form sent twice at once (a double click) creates the user once; the other
/// submission is told the login is taken. On PostgreSQL both had checked the login free: the
/// second insert met the first one's row and was an internal error before.
async fn same_login_at_once(backend: Backend) {
    use app::ssr::audit::Actor;
    use app::ssr::auth::{create_user, AuthError, UserInput};
    let app = spawn(backend).await;
    let held = hold_new_department(&app, backend, "Twice").await;
    let input = UserInput {
        login: "dora".into(),
        display_name: "Dora Twice".into(),
        email: "dora@example.com".into(),
        department: Some("Twice/Clicked".into()),
        ..Default::default()
    };
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..2 {
        let (services, input) = (app.services.clone(), input.clone());
        set.spawn(async move { create_user(&services, &Actor::cli(), &input).await });
    }
    commit_when_waiting(held, 2).await;
    let results = set.join_all().await;
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    assert!(
        results
            .iter()
            .any(|r| matches!(r, Err(AuthError::LoginTaken))),
        "{results:?}"
    );
    let mut c = app.services.conn().await.unwrap();
    let dora = app::ssr::db::user_by_login(&mut c, "dora").await.unwrap();
    assert!(dora.is_some());
    drop(c);
    app.stop().await;
}
both!(a_double_submit_creates_one_user, same_login_at_once);

/// The directory: every status of seed 004's table (plus awaiting approval and ready), search
/// by login or name, a department with its sub-departments, paging.
async fn directory(backend: Backend) {
    use app::domain::policy::DistributionMode;
    use app::ssr::audit::Actor;
    use app::ssr::auth::{create_users, UserInput};
    let app = spawn(backend).await;
    let mut admin = activated_user(&app, "root", true).await;
    let mk = |login: &str, name: &str, dept: &str| UserInput {
        login: login.into(),
        display_name: name.into(),
        email: format!("{login}@example.com"),
        department: Some(dept.into()).filter(|d: &String| !d.is_empty()),
        ..Default::default()
    };
    create_users(
        &app.services,
        &Actor::cli(),
        &[
            mk("nora", "Nora None", "Sales/Tokyo"),
            mk("pia", "Pia Yamada", "Sales/Osaka"),
        ],
    )
    .await
    .map_err(|(_, e)| e)
    .unwrap();
    with_certificate(&app, "ivan").await;
    let (_, rob) = with_certificate(&app, "rob").await;
    let (_, sam) = with_certificate(&app, "sam").await;
    let rita = activated_user(&app, "rita", false).await;
    request(&app, &rita, "phone").await;
    // rob: revoked; sam: renewed (superseded by "remove existing", the new one not picked up).
    crate::pickup::json(
        call(
            &app,
            "admin_bulk_revoke",
            &[("users[]", &rob), ("reason", "keyCompromise")],
            Some(&admin),
        )
        .await,
    )
    .await;
    app::ssr::admin::bulk_create(
        &app.services,
        &Actor::cli(),
        std::slice::from_ref(&sam),
        None,
        true,
    )
    .await;
    app.clock.advance(8 * 86_400);
    server::background_tick(&app.services).await;
    // pia: awaiting approval.
    app.set_policy(|p| p.distribution_mode = DistributionMode::Approval)
        .await;
    let pia = {
        let mut c = app.services.conn().await.unwrap();
        app::ssr::db::user_by_login(&mut c, "pia")
            .await
            .unwrap()
            .unwrap()
    };
    app::ssr::certs::create_enrollment(
        &app.services,
        &Actor::user(&pia.id, "pia", false, None),
        &app::ssr::certs::NewEnrollment {
            user_id: pia.id.clone(),
            device_label: app::domain::validate::DeviceLabel::parse("x").unwrap(),
            ..Default::default()
        },
    )
    .await
    .unwrap();

    // Sessions end after the days the clock moved: sign in again.
    admin = crate::helpers::sign_in(&app, "root").await;
    let dir = |args: Vec<(&'static str, String)>| {
        let app = &app;
        let admin = admin.clone();
        async move {
            let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
            json(call(app, "admin_directory", &args, Some(&admin)).await).await
        }
    };
    let dir2 = |cookie: &String, args: Vec<(&'static str, String)>| {
        let app = &app;
        let cookie = cookie.clone();
        async move {
            let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
            json(call(app, "admin_directory", &args, Some(&cookie)).await).await
        }
    };
    let logins = |v: &Value| -> Vec<String> {
        v["users"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["login"].as_str().unwrap().to_string())
            .collect()
    };
    let all = dir(vec![]).await;
    assert_eq!(all["total"], 7);
    let status_of = |login: &str| {
        all["users"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["login"] == login)
            .unwrap()["status"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(status_of("nora"), "not_issued");
    assert_eq!(status_of("pia"), "awaiting_approval");
    assert_eq!(status_of("ivan"), "issued");
    assert_eq!(status_of("rob"), "revoked");
    assert_eq!(status_of("sam"), "renewed");
    assert_eq!(status_of("root"), "not_issued");
    // rita's request lapsed after 8 days: nothing usable, so "not issued".
    assert_eq!(status_of("rita"), "not_issued");
    for (status, want) in [
        ("issued", vec!["ivan"]),
        ("revoked", vec!["rob"]),
        ("renewed", vec!["sam"]),
        ("awaiting_approval", vec!["pia"]),
        ("not_issued", vec!["nora", "rita", "root"]),
        ("expired", vec![]),
        ("ready", vec![]),
    ] {
        let v = dir(vec![("status", status.into())]).await;
        assert_eq!(logins(&v), want, "{status}");
    }
    // Expiry shown for issued certificates only; a year later ivan's is expired.
    let field = |login: &str, f: &str| {
        all["users"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["login"] == login)
            .unwrap()[f]
            .clone()
    };
    assert!(field("ivan", "not_after").is_i64());
    assert!(field("sam", "not_after").is_i64());
    assert!(field("rob", "not_after").is_null());
    assert!(field("nora", "not_after").is_null());
    assert_eq!(field("nora", "department"), "Sales/Tokyo");
    app.clock.advance(366 * 86_400);
    let later = crate::helpers::sign_in(&app, "root").await;
    for (status, want) in [("expired", vec!["ivan"]), ("issued", vec![])] {
        let v =
            json(call(&app, "admin_directory", &[("status", status)], Some(&later)).await).await;
        assert_eq!(logins(&v), want, "{status}");
    }

    // Search: login or display name, case-insensitive, % is literal.
    assert_eq!(
        logins(&dir2(&later, vec![("q", "YAMA".into())]).await),
        ["pia"]
    );
    assert_eq!(
        logins(&dir2(&later, vec![("q", "ro".into())]).await),
        ["rob", "root"]
    );
    assert_eq!(
        logins(&dir2(&later, vec![("q", "%".into())]).await),
        Vec::<String>::new()
    );
    assert_eq!(
        logins(&dir2(&later, vec![("q", "pia yam".into())]).await),
        ["pia"]
    );
    if backend == Backend::Postgres {
        // The search reads the trigram indexes (told not to scan, as it would not with
        // 100,000 users: this table is tiny).
        use sqlx::Row;
        let mut c = app.services.conn().await.unwrap();
        sqlx::query("SET enable_seqscan = off")
            .execute(&mut *c)
            .await
            .unwrap();
        let plan: Vec<String> = sqlx::query(
            "EXPLAIN SELECT u.id FROM users u WHERE (LOWER(u.login) LIKE $1 ESCAPE '\\' \
             OR LOWER(u.display_name) LIKE $1 ESCAPE '\\')",
        )
        .bind("%yama%")
        .fetch_all(&mut *c)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<String, _>(0))
        .collect();
        sqlx::query("RESET enable_seqscan")
            .execute(&mut *c)
            .await
            .unwrap();
        let plan = plan.join("\n");
        assert!(
            plan.contains("users_login_trgm") && plan.contains("users_display_name_trgm"),
            "{plan}"
        );
        // A page is planned once per connection, not on every request (its bounds bound as
        // parameters made PostgreSQL plan it afresh each time: 190 µs of every page).
        let first = app::ssr::db::admin_rows::DirectoryQuery {
            limit: 50,
            ..Default::default()
        };
        for _ in 0..8 {
            app::ssr::db::admin_rows::directory(&mut c, &first, app.services.now())
                .await
                .unwrap();
        }
        // This connection's directory statements; the one run most is that page's.
        let (generic, custom): (i64, i64) = sqlx::query(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements \
             WHERE statement LIKE '%ORDER BY u.login LIMIT%' \
             ORDER BY generic_plans + custom_plans DESC LIMIT 1",
        )
        .fetch_one(&mut *c)
        .await
        .map(|r| (r.get(0), r.get(1)))
        .unwrap();
        assert!(
            generic >= 8 && custom == 0,
            "{generic} generic, {custom} custom plans"
        );
    }
    // Department subtree.
    let v = dir2(&later, vec![("department", "Sales".into())]).await;
    assert_eq!(logins(&v), ["nora", "pia"]);
    assert_eq!(
        v["departments"],
        serde_json::json!(["Sales", "Sales/Osaka", "Sales/Tokyo"])
    );
    assert_eq!(
        logins(&dir2(&later, vec![("department", "Sales/Osaka".into())]).await),
        ["pia"]
    );
    // Paging: 50 per page.
    let many: Vec<UserInput> = (0..60)
        .map(|i| mk(&format!("zz{i:02}"), &format!("Zed {i}"), ""))
        .collect();
    create_users(&app.services, &Actor::cli(), &many)
        .await
        .map_err(|(_, e)| e)
        .unwrap();
    let p0 = dir2(&later, vec![("q", "zz".into())]).await;
    let p1 = dir2(&later, vec![("q", "zz".into()), ("page", "1".into())]).await;
    assert_eq!(
        (p0["total"].as_i64(), p1["total"].as_i64()),
        (Some(60), Some(60))
    );
    assert_eq!(logins(&p0).len(), 50);
    assert_eq!(
        logins(&p1),
        (50..60).map(|i| format!("zz{i}")).collect::<Vec<_>>()
    );
    // A search found in many users is counted up to the thousand past the page's end, and
    // says so; a rare term among them is counted exactly (on PostgreSQL through the trigram
    // index, then sorted).
    {
        let mut tx = app.services.db.begin().await.unwrap();
        for chunk in (0..1_060).collect::<Vec<i32>>().chunks(265) {
            let values: Vec<String> = chunk
                .iter()
                .map(|i| {
                    format!(
                        "('cc{i:04}', 'cc{i:04}', 'Common Cc {i:04}', 'cc{i:04}@example.com', \
                         0, 1, 0, 0)"
                    )
                })
                .collect();
            sqlx::query(&format!(
                "INSERT INTO users (id, login, display_name, email, is_admin, active, \
                 created_at, updated_at) VALUES {}",
                values.join(", ")
            ))
            .execute(&mut *tx)
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();
    }
    let common = |page: i64| {
        dir2(
            &later,
            vec![("q", "COMMON".into()), ("page", page.to_string())],
        )
    };
    let cc = |from: usize, to: usize| (from..to).map(|i| format!("cc{i:04}")).collect::<Vec<_>>();
    let p0 = common(0).await;
    assert_eq!(
        (p0["total"].as_i64(), p0["more"].as_bool()),
        (Some(1000), Some(true))
    );
    assert_eq!(logins(&p0), cc(0, 50));
    let p18 = common(18).await;
    assert_eq!(
        (p18["total"].as_i64(), p18["more"].as_bool()),
        (Some(1000), Some(true))
    );
    let p19 = common(19).await;
    assert_eq!(
        (p19["total"].as_i64(), p19["more"].as_bool()),
        (Some(1060), Some(false))
    );
    assert_eq!(logins(&p19), cc(950, 1000));
    assert_eq!(logins(&common(21).await), cc(1050, 1060));
    let one = dir2(&later, vec![("q", "c 0421".into())]).await;
    assert_eq!(
        (one["total"].as_i64(), one["more"].as_bool()),
        (Some(1), Some(false))
    );
    assert_eq!(logins(&one), ["cc0421"]);
    // Everyone is still counted exactly (7 + 60 + 1,060).
    let all = dir2(&later, vec![]).await;
    assert_eq!(
        (all["total"].as_i64(), all["more"].as_bool()),
        (Some(1127), Some(false))
    );
    // Past the last page: no one listed, the same total (the page's own statement read it
    // above; an empty page reads it alone).
    let past = dir2(&later, vec![("page", "40".into())]).await;
    assert_eq!(
        (past["total"].as_i64(), logins(&past).len()),
        (Some(1127), 0)
    );
    // The page says how far it counted, and offers the next page.
    let html = crate::helpers::client()
        .get(format!("{}/admin/users?q=common", app.base))
        .header("cookie", format!("certportal={later}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("1–50 / 1000+"), "{html}");
    assert!(html.contains("page=1"), "a next page: {html}");

    let r = call(
        &app,
        "admin_directory",
        &[("status", "bogus")],
        Some(&later),
    )
    .await;
    assert_eq!(r.status(), 400);
    app.stop().await;
}
both!(directory_filters_and_pages, directory);

/// Rule 13 through the admin server function: the confirmation guard, a new current CA that
/// signs the next certificate and ships in its bundle, and the old CA still listed, on its
/// CRL and on OCSP for the certificate it signed, which can still be revoked.
async fn rotation(backend: Backend) {
    use app::ssr::ocsp::{self, CertAnswer, IssuerKey};
    let app = spawn(backend).await;
    let admin = activated_user(&app, "root", true).await;
    let (user, uid) = with_certificate(&app, "olaf").await;
    let old = status(&app, &admin).await["cas"][0].clone();
    let old_id = old["id"].as_str().unwrap().to_string();

    app.clock.advance(6 * 60);
    let before = snapshot(&app).await;
    let r = call(&app, "admin_rotate_ca", &[("confirm", "yes")], Some(&admin)).await;
    assert_eq!(r.status(), 403, "confirmation needed");
    let r = call(
        &app,
        "admin_rotate_ca",
        &[("password", crate::helpers::PW)],
        Some(&admin),
    )
    .await;
    assert_eq!(r.status(), 400, "the box must be ticked");
    assert_eq!(snapshot(&app).await, before);
    let new_id = json(
        call(
            &app,
            "admin_rotate_ca",
            &[("confirm", "yes"), ("password", crate::helpers::PW)],
            Some(&admin),
        )
        .await,
    )
    .await;
    let new_id = new_id.as_str().unwrap().to_string();
    assert_ne!(new_id, old_id);
    let v = status(&app, &admin).await;
    assert_eq!(v["cas"][0]["id"], new_id.as_str());
    assert_eq!(v["cas"][0]["current"], true);
    assert_eq!(v["cas"][1]["id"], old_id.as_str());
    assert!(v["cas"][1]["retired_at"].is_i64());
    assert_eq!(v["cas"][1]["issued"], 1);
    assert_eq!(audit_count_all(&app, "ca.rotate").await, 1);

    // /ca.pem is the new CA; the next certificate is signed by it.
    let ca_pem = crate::helpers::client()
        .get(format!("{}/ca.pem", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let new_row = {
        let mut c = app.services.conn().await.unwrap();
        app::ssr::db::ca_by_id(&mut c, &new_id)
            .await
            .unwrap()
            .unwrap()
    };
    assert_eq!(ca_pem, new_row.cert_pem);
    let entry = request(&app, &user, "tablet").await;
    let (url, _, _, _) = show_link(&app, &user, &entry).await;
    assert_eq!(
        download(&app, &token_of(&url), "p12", ANDROID)
            .await
            .status(),
        200
    );
    let certs = {
        let mut c = app.services.conn().await.unwrap();
        app::ssr::db::certificates_for_user(&mut c, &uid)
            .await
            .unwrap()
    };
    let old_cert = certs.iter().find(|c| c.ca_id == old_id).unwrap().clone();
    assert!(certs.iter().any(|c| c.ca_id == new_id));

    // The old CA's certificate: OCSP good, then revoked; the old CA's CRL lists it.
    let old_der = {
        let mut c = app.services.conn().await.unwrap();
        let row = app::ssr::db::ca_by_id(&mut c, &old_id)
            .await
            .unwrap()
            .unwrap();
        app::ssr::ca::der_of_pem(&row.cert_pem).unwrap()
    };
    let issuer = IssuerKey::from_cert(&old_id, &old_der).unwrap();
    let ask = || async {
        let req = ocsp::request_for(&issuer, &old_cert.serial_hex).unwrap();
        ocsp::first_status(
            &ocsp::respond(
                &app.services.authority,
                &app.services.ocsp_stats,
                &req,
                app.services.now(),
            )
            .await,
        )
    };
    assert_eq!(ask().await, Some(CertAnswer::Good));
    let crl_number = v["cas"][1]["crl_number"].as_i64().unwrap();
    let admin = crate::helpers::sign_in(&app, "root").await;
    json(
        call(
            &app,
            "admin_bulk_revoke",
            &[("users[]", &uid), ("reason", "keyCompromise")],
            Some(&admin),
        )
        .await,
    )
    .await;
    assert!(matches!(ask().await, Some(CertAnswer::Revoked { .. })));
    let v = status(&app, &admin).await;
    assert_eq!(v["cas"][1]["crl_entries"], 1);
    assert!(v["cas"][1]["crl_number"].as_i64().unwrap() > crl_number);
    assert_eq!(v["cas"][0]["crl_entries"], 1);
    app.stop().await;
}
both!(ca_rotation_keeps_the_old_ca_working, rotation);

pub(crate) async fn audit_count_all(app: &TestApp, action: &str) -> i64 {
    use sqlx::Row;
    let mut c = app.services.conn().await.unwrap();
    sqlx::query("SELECT COUNT(*) AS n FROM audit WHERE action = $1")
        .bind(action.to_string())
        .fetch_one(&mut *c)
        .await
        .unwrap()
        .get::<i64, _>("n")
}

/// Approvals (rule 7), the per-user page's changes (rule 3's flag, role, deactivation, the
/// last-admin guard), lost device and single revocation by an admin behind the confirmation
/// (rules 8, 9), the history search and CSV (rule 10), users' own history, and the settings
/// (checked, audited).
async fn console(backend: Backend) {
    use app::domain::policy::DistributionMode;
    let app = spawn(backend).await;
    let admin = activated_user(&app, "root", true).await;
    let (wes, wes_id) = with_certificate(&app, "wes").await;
    let (_, xia_id) = with_certificate(&app, "xia").await;

    // Approvals.
    app.set_policy(|p| {
        p.distribution_mode = DistributionMode::Approval;
        p.max_active_per_user = 5;
    })
    .await;
    let e1 = request(&app, &wes, "tablet").await;
    let e2 = request(&app, &wes, "watch").await;
    let queue = json(call(&app, "admin_pending", &[], Some(&admin)).await).await;
    assert_eq!(queue.as_array().unwrap().len(), 2);
    assert_eq!(queue[0]["login"], "wes");
    let before = snapshot(&app).await;
    let r = call(
        &app,
        "admin_decide",
        &[("enrollment", &e2), ("decision", "reject")],
        Some(&admin),
    )
    .await;
    assert_eq!(r.status(), 400, "a rejection needs a note");
    let r = call(
        &app,
        "admin_decide",
        &[("enrollment", &e2), ("decision", "maybe")],
        Some(&admin),
    )
    .await;
    assert_eq!(r.status(), 400);
    assert_eq!(snapshot(&app).await, before);
    let v = json(
        call(
            &app,
            "admin_decide",
            &[("enrollment", &e1), ("decision", "approve")],
            Some(&admin),
        )
        .await,
    )
    .await;
    assert_eq!(v, "ready");
    let v = json(
        call(
            &app,
            "admin_decide",
            &[
                ("enrollment", &e2),
                ("decision", "reject"),
                ("note", "one tablet is enough"),
            ],
            Some(&admin),
        )
        .await,
    )
    .await;
    assert_eq!(v, "rejected");
    let r = call(
        &app,
        "admin_decide",
        &[("enrollment", &e2), ("decision", "approve")],
        Some(&admin),
    )
    .await;
    assert_eq!(r.status(), 400, "rejected is final");
    assert_eq!(
        json(call(&app, "admin_pending", &[], Some(&admin)).await).await,
        serde_json::json!([])
    );
    assert_eq!(audit_count(&app, &wes_id, "enrollment.approve").await, 1);
    assert_eq!(audit_count(&app, &wes_id, "enrollment.reject").await, 1);
    let rows = rows_of(&app, &wes_id).await;
    assert!(rows.iter().any(|r| r.ends_with(":rejected")), "{rows:?}");

    // The per-user page and its changes.
    let v = json(call(&app, "admin_user", &[("id", &wes_id)], Some(&admin)).await).await;
    assert_eq!(v["user"]["login"], "wes");
    assert_eq!(v["entries"].as_array().unwrap().len(), 3);
    assert!(v["history"].as_array().unwrap().len() >= 4);
    let upd = |id: &str, reissue: &str, role: &str, active: bool| {
        let (id, reissue, role) = (id.to_string(), reissue.to_string(), role.to_string());
        let app = &app;
        let admin = admin.clone();
        async move {
            let mut args = vec![
                ("id", id.as_str()),
                ("reissue", reissue.as_str()),
                ("role", role.as_str()),
            ];
            if active {
                args.push(("active", "on"));
            }
            call(app, "admin_update_user", &args, Some(&admin)).await
        }
    };
    json(upd(&wes_id, "off", "user", true).await).await;
    // Rule 3: renewal now refused for wes.
    let list = json(call(&app, "my_certificates", &[("show_all", "true")], Some(&wes)).await).await;
    assert_eq!(list["reissue_allowed"], false);
    // The last active administrator cannot remove their own role or account.
    let root_id = user_id(&app, "root").await;
    let r = upd(&root_id, "default", "user", true).await;
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("\"last_admin\""));
    let r = upd(&root_id, "default", "admin", false).await;
    assert_eq!(r.status(), 400);
    // Deactivating xia ends her sessions; she cannot sign in.
    let xia = crate::helpers::sign_in(&app, "xia").await;
    json(upd(&xia_id, "default", "user", false).await).await;
    let r = call(&app, "my_certificates", &[("show_all", "true")], Some(&xia)).await;
    assert_eq!(r.status(), 401);
    let r = call(
        &app,
        "login",
        &[("login", "xia"), ("password", crate::helpers::PW)],
        None,
    )
    .await;
    assert!(!r.status().is_success());
    assert_eq!(audit_count(&app, &xia_id, "user.update").await, 1);
    json(upd(&xia_id, "default", "user", true).await).await;
    let r = upd(&xia_id, "maybe", "user", true).await;
    assert_eq!(r.status(), 400);

    // Lost device and single revocation by an admin need the confirmation.
    app.clock.advance(6 * 60);
    let admin = crate::helpers::sign_in(&app, "root").await;
    app.clock.advance(6 * 60);
    let before = snapshot(&app).await;
    let r = call(
        &app,
        "admin_lost_device",
        &[("id", &xia_id), ("confirm", "yes")],
        Some(&admin),
    )
    .await;
    assert_eq!(r.status(), 403);
    let r = call(
        &app,
        "admin_lost_device",
        &[("id", &xia_id), ("password", crate::helpers::PW)],
        Some(&admin),
    )
    .await;
    assert_eq!(r.status(), 400, "the box must be ticked");
    let entries = json(call(&app, "admin_user", &[("id", &wes_id)], Some(&admin)).await).await;
    let issued = entries["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["state"] == "issued")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = call(
        &app,
        "admin_revoke_certificate",
        &[("entry", &issued), ("reason", "keyCompromise")],
        Some(&admin),
    )
    .await;
    assert_eq!(r.status(), 403);
    assert_eq!(snapshot(&app).await, before, "refused: nothing changed");
    json(
        call(
            &app,
            "admin_lost_device",
            &[
                ("id", &xia_id),
                ("confirm", "yes"),
                ("password", crate::helpers::PW),
            ],
            Some(&admin),
        )
        .await,
    )
    .await;
    assert_eq!(states(&app, &xia_id, "certificates").await, ["revoked"]);
    // The confirmation lasts 5 minutes: no password needed now.
    json(
        call(
            &app,
            "admin_revoke_certificate",
            &[("entry", &issued), ("reason", "privilegeWithdrawn")],
            Some(&admin),
        )
        .await,
    )
    .await;
    assert_eq!(states(&app, &wes_id, "certificates").await, ["revoked"]);

    // History: by user, action prefix, actor, dates; CSV.
    let hist = |args: Vec<(&'static str, String)>| {
        let app = &app;
        let admin = admin.clone();
        async move {
            let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
            json(call(app, "admin_history", &args, Some(&admin)).await).await
        }
    };
    let v = hist(vec![
        ("filter[user]", "wes".into()),
        ("filter[action]", "certificate.".into()),
    ])
    .await;
    let actions: Vec<&str> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"certificate.revoke") && actions.contains(&"certificate.issue"),
        "{actions:?}"
    );
    assert!(actions.iter().all(|a| a.starts_with("certificate.")));
    let v = hist(vec![
        ("filter[actor]", "root".into()),
        ("filter[action]", "user.lost_device".into()),
    ])
    .await;
    assert_eq!(v["total"], 1);
    assert_eq!(v["items"][0]["subject"], "xia");
    let today = app::i18n::fmt_date(app::ssr::clock::Clock::now(&app.clock));
    let v = hist(vec![
        ("filter[from]", today.clone()),
        ("filter[to]", today.clone()),
        ("filter[user]", "xia".into()),
    ])
    .await;
    assert!(v["total"].as_i64().unwrap() >= 3);
    let v = hist(vec![("filter[to]", "2020-01-01".into())]).await;
    assert_eq!(v["total"], 0);
    let v = hist(vec![("filter[user]", "nobody".into())]).await;
    assert_eq!(v["total"], 0);
    let r = call(
        &app,
        "admin_history",
        &[("filter[from]", "yesterday")],
        Some(&admin),
    )
    .await;
    assert_eq!(r.status(), 400);
    let csv = crate::helpers::client()
        .get(format!(
            "{}/admin/history.csv?user=wes&action=enrollment.",
            app.base
        ))
        .header("cookie", format!("certportal={admin}"))
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), 200);
    assert!(csv.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let text = csv.text().await.unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("time,actor,user,action,result,detail,ip")
    );
    let body: Vec<&str> = lines.collect();
    assert!(
        body.iter()
            .any(|l| l.contains(",enrollment.reject,") && l.contains("one tablet is enough")),
        "{text}"
    );
    assert!(
        body.iter().all(|l| l.contains(",wes,enrollment.")),
        "{text}"
    );
    // Users see their own history only.
    let mine = json(call(&app, "my_history", &[], Some(&wes)).await).await;
    let mine = mine.as_array().unwrap();
    assert!(!mine.is_empty());
    assert!(mine.iter().all(|i| i["subject"] == "wes"));

    // Settings: checked and audited.
    let settings = |over: Vec<(&'static str, &'static str)>| {
        let mut args = vec![
            ("distribution_mode", "auto"),
            ("default_validity_days", "200"),
            ("max_validity_days", "400"),
            ("link_lifetime_minutes", "10"),
            ("pickup_deadline_days", "5"),
            ("max_active_per_user", "3"),
            ("p12_form", "modern"),
            ("key_algorithm", "ecdsa_p256"),
            ("reissue_allowed_default", "on"),
            ("crl_next_update_days", "2"),
            ("installer_link", "keymanager://install?url={url}"),
        ];
        for (k, v) in over {
            args.retain(|(a, _)| *a != k);
            args.push((k, v));
        }
        let app = &app;
        let admin = admin.clone();
        async move { call(app, "admin_update_settings", &args, Some(&admin)).await }
    };
    let before = json(call(&app, "admin_settings", &[], Some(&admin)).await).await;
    for (bad, field) in [
        (
            vec![("default_validity_days", "500")],
            "default_validity_days",
        ),
        (
            vec![("link_lifetime_minutes", "2000")],
            "link_lifetime_minutes",
        ),
        (vec![("max_active_per_user", "two")], "max_active_per_user"),
        (
            vec![("distribution_mode", "sometimes")],
            "distribution_mode",
        ),
        (
            vec![("installer_link", "javascript:alert(1)")],
            "installer_link",
        ),
        (vec![("key_algorithm", "dsa")], "key_algorithm"),
    ] {
        let r = settings(bad).await;
        assert_eq!(r.status(), 400);
        let text = r.text().await.unwrap();
        assert!(text.contains(field), "{field}: {text}");
    }
    assert_eq!(
        json(call(&app, "admin_settings", &[], Some(&admin)).await).await,
        before
    );
    let changed = json(settings(vec![]).await).await;
    assert!(changed.as_array().unwrap().len() >= 8, "{changed}");
    let v = json(call(&app, "admin_settings", &[], Some(&admin)).await).await;
    assert_eq!(v["policy"]["default_validity_days"], 200);
    assert_eq!(v["policy"]["p12_form"], "modern");
    assert_eq!(v["policy"]["distribution_mode"], "auto");
    assert_eq!(audit_count_all(&app, "settings.update").await, 1);
    // Saving the same values again changes nothing and records nothing.
    assert_eq!(json(settings(vec![]).await).await, serde_json::json!([]));
    assert_eq!(audit_count_all(&app, "settings.update").await, 1);
    // RSA-2048 for old clients: the next bundle holds an RSA key, signed by the P-256 CA.
    json(settings(vec![("key_algorithm", "rsa2048")]).await).await;
    let h = app::ssr::admin::create_and_download(
        &app.services,
        &app::ssr::audit::Actor::cli(),
        &wes_id,
        None,
        false,
        None,
    )
    .await
    .unwrap();
    let f = app.path("rsa.p12");
    std::fs::write(&f, &h.p12).unwrap();
    let pem = crate::helpers::ok(
        "openssl",
        &[
            "pkcs12",
            "-in",
            f.to_str().unwrap(),
            "-passin",
            &format!("pass:{}", h.pin),
            "-nokeys",
            "-clcerts",
        ],
    );
    let start = pem.find("-----BEGIN CERTIFICATE-----").unwrap();
    std::fs::write(app.path("rsa.crt"), &pem[start..]).unwrap();
    let text = crate::helpers::ok(
        "openssl",
        &[
            "x509",
            "-in",
            app.path("rsa.crt").to_str().unwrap(),
            "-noout",
            "-text",
        ],
    );
    assert!(
        text.contains("rsaEncryption") && text.contains("2048 bit"),
        "{text}"
    );
    assert!(text.contains("ecdsa-with-SHA256"), "{text}");
    app.stop().await;
}
both!(console_flows, console);

/// A bulk run with "remove existing" signs one CRL per batch, not one per certificate
/// (which made long runs quadratic), and that CRL lists every certificate it revoked.
async fn bulk_crl_once_per_batch(backend: Backend) {
    use app::ssr::admin;
    use app::ssr::audit::Actor;
    use x509_parser::prelude::FromDer;
    let app = spawn(backend).await;
    let s = &app.services;
    let mut ids = Vec::new();
    for login in ["dan", "eve", "fay", "gus"] {
        ids.push(with_certificate(&app, login).await.1);
    }
    let ca = |app: &TestApp| {
        let s = app.services.clone();
        async move {
            let mut c = s.conn().await.unwrap();
            let id = s.current_ca_id(&mut c).await.unwrap();
            app::ssr::db::ca_by_id(&mut c, &id).await.unwrap().unwrap()
        }
    };
    let before = ca(&app).await.crl_number;
    let out = admin::bulk_create(s, &Actor::cli(), &ids, None, true).await;
    assert!(out.iter().all(|o| o.result.is_ok()));
    let after = ca(&app).await;
    assert_eq!(after.crl_number, before + 1, "one CRL for the batch");
    let der = after.crl_der.unwrap();
    let (_, crl) = x509_parser::revocation_list::CertificateRevocationList::from_der(&der).unwrap();
    assert_eq!(
        crl.iter_revoked_certificates().count(),
        4,
        "every revoked certificate listed"
    );
}
crate::both!(bulk_crl_once_per_batch_runs, bulk_crl_once_per_batch);
