//! The admin console's server functions: every one refuses plain users and anonymous callers
//! (enumerated from the server-function registry, so a new one cannot be forgotten), and the
//! revocation view reports what the CRL and OCSP really publish.

use crate::both;
use crate::helpers::{activated_user, call, spawn, Backend, TestApp};
use crate::pickup::{download, json, request, show_link, token_of, ANDROID};
use serde_json::Value;
use std::collections::BTreeMap;

/// Arguments that make each admin function do real work when an admin calls it; a plain user
/// must be refused before any of it happens.
fn admin_calls() -> BTreeMap<&'static str, Vec<(&'static str, &'static str)>> {
    BTreeMap::from([
        (
            "admin_create_user",
            vec![
                ("login", "mallory2"),
                ("display_name", "Mallory Two"),
                ("email", "m2@example.com"),
                ("is_admin", "on"),
            ],
        ),
        ("admin_list_users", vec![]),
        ("admin_revocation_status", vec![]),
    ])
}

async fn non_admins_are_refused(backend: Backend) {
    let app = spawn(backend).await;
    let user = activated_user(&app, "mallory", false).await;
    let registered: Vec<String> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path.trim_start_matches("/api/").to_string())
        .filter(|p| p.starts_with("admin_"))
        .collect();
    let known: Vec<String> = admin_calls().keys().map(|k| k.to_string()).collect();
    let mut sorted = registered.clone();
    sorted.sort();
    assert_eq!(
        sorted, known,
        "every admin server function needs an entry in admin_calls()"
    );
    for (name, args) in admin_calls() {
        let r = call(&app, name, &args, Some(&user)).await;
        assert_eq!(r.status(), 403, "{name} as a plain user");
        let r = call(&app, name, &args, None).await;
        assert_eq!(r.status(), 401, "{name} without a session");
    }
    // Nothing happened: no user was created.
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
