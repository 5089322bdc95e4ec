//! SCIM 2.0 provisioning against the real server on both databases: bearer tokens, users
//! created, found, changed and deleted by the directory, SCIM's error format, groups that carry
//! the administrator role, and the leaver path — a user the directory deactivates loses their
//! sessions, links and certificates (`openssl ocsp` answers `revoked`, reason
//! `affiliationChanged`, and the CRL lists it).

use crate::both;
use crate::helpers::{
    activated_user, call, client, commit_when_waiting, hold_new_department, ok, real_now, spawn_at,
    spawn_backend_with, spawn_backend_with_at, Backend, TestApp,
};
use crate::pickup::{request, show_link};
use app::ssr::audit::Actor;
use app::ssr::db;
use serde_json::{json, Value};

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// A token made as an administrator would.
async fn token(app: &TestApp) -> String {
    let (_, token) = app::ssr::scim::create_token(&app.services, &Actor::cli(), "tests")
        .await
        .unwrap();
    token
}

/// One SCIM request: (status, body as JSON, Content-Type).
async fn scim(
    app: &TestApp,
    token: Option<&str>,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value, String) {
    let mut r = client().request(method, format!("{}/scim/v2{path}", app.base));
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    if let Some(b) = body {
        r = r
            .header("content-type", "application/scim+json")
            .body(b.to_string());
    }
    let r = r.send().await.unwrap();
    let status = r.status().as_u16();
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let text = r.text().await.unwrap();
    let v = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
    };
    (status, v, ct)
}

fn assert_error(v: &Value, status: u16, scim_type: Option<&str>) {
    assert_eq!(v["schemas"], json!([ERROR]), "{v}");
    assert_eq!(v["status"], json!(status.to_string()), "{v}");
    assert_eq!(v["scimType"].as_str(), scim_type, "{v}");
}

fn user_body(login: &str, email: &str, department: &str) -> Value {
    json!({
        "schemas": [USER, ENTERPRISE],
        "externalId": format!("hr-{login}"),
        "userName": login,
        "name": {"givenName": "Alice", "familyName": "Liddell"},
        "displayName": "Alice Liddell",
        "emails": [{"value": email, "type": "work", "primary": true}],
        "active": true,
        ENTERPRISE: {"department": department}
    })
}

async fn provisioning(backend: Backend) {
    use reqwest::Method as M;
    let app = spawn_at(backend, real_now()).await;
    let token_text = token(&app).await;
    let t = Some(token_text.as_str());

    // No token, a wrong one: 401 in SCIM's format.
    for bad in [None, Some("scim_nope")] {
        let (status, v, ct) = scim(&app, bad, M::GET, "/Users", None).await;
        assert_eq!(status, 401);
        assert_eq!(ct, "application/scim+json");
        assert_error(&v, 401, None);
    }

    // Discovery.
    let (status, v, _) = scim(&app, t, M::GET, "/ServiceProviderConfig", None).await;
    assert_eq!((status, &v["patch"]["supported"]), (200, &json!(true)));
    let (_, v, _) = scim(&app, t, M::GET, "/ResourceTypes", None).await;
    assert_eq!(v["totalResults"], json!(2));
    let (status, v, _) = scim(&app, t, M::GET, &format!("/Schemas/{ENTERPRISE}"), None).await;
    assert_eq!(
        (status, v["attributes"][0]["name"].as_str()),
        (200, Some("department"))
    );

    // Create: 201 with Location; the department path lands in the tree.
    let r = client()
        .post(format!("{}/scim/v2/Users", app.base))
        .bearer_auth(&token_text)
        .header("content-type", "application/json")
        .body(user_body("Alice@Example.com", "alice@example.com", "Sales/Tokyo").to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let alice: Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    let id = alice["id"].as_str().unwrap().to_string();
    assert_eq!(location, format!("{}/scim/v2/Users/{id}", app.base));
    assert_eq!(
        alice["userName"],
        json!("alice@example.com"),
        "logins are lower-case"
    );
    assert_eq!(alice[ENTERPRISE]["department"], json!("Sales/Tokyo"));
    assert_eq!(alice["name"]["familyName"], json!("Liddell"));
    assert_eq!(alice["meta"]["location"], json!(location));
    {
        let mut c = app.services.conn().await.unwrap();
        let u = db::user_by_id(&mut c, &id).await.unwrap().unwrap();
        assert_eq!(
            (u.display_name.as_str(), u.email.as_str(), u.is_admin),
            ("Alice Liddell", "alice@example.com", false)
        );
        assert!(db::users::department_id(&mut c, "Sales/Tokyo")
            .await
            .unwrap()
            .is_some_and(|d| Some(d) == u.department_id));
    }

    // Bad input changes nothing and says what is wrong, in SCIM's format.
    let (status, v, _) = scim(
        &app,
        t,
        M::POST,
        "/Users",
        Some(user_body("alice@example.com", "a@example.com", "")),
    )
    .await;
    assert_eq!(status, 409);
    assert_error(&v, 409, Some("uniqueness"));
    let (status, v, _) = scim(
        &app,
        t,
        M::POST,
        "/Users",
        Some(user_body("bad name!", "b@example.com", "")),
    )
    .await;
    assert_eq!(status, 400);
    assert_error(&v, 400, Some("invalidValue"));
    assert!(v["detail"].as_str().unwrap().starts_with("login:"), "{v}");
    let (status, v, _) = scim(
        &app,
        t,
        M::POST,
        "/Users",
        Some(user_body("bob", "not-an-address", "")),
    )
    .await;
    assert_eq!(status, 400);
    assert!(v["detail"].as_str().unwrap().starts_with("email:"), "{v}");
    let r = client()
        .post(format!("{}/scim/v2/Users", app.base))
        .bearer_auth(&token_text)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let v: Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    assert_error(&v, 400, Some("invalidSyntax"));
    let (status, v, _) = scim(&app, t, M::GET, "/Users?filter=userName%20eq", None).await;
    assert_eq!(status, 400);
    assert_error(&v, 400, Some("invalidFilter"));
    let (status, v, _) = scim(&app, t, M::GET, "/Users/no-such-id", None).await;
    assert_eq!(status, 404);
    assert_error(&v, 404, None);

    // Found by userName (any case), externalId, or any other filter; paged.
    for f in [
        "userName%20eq%20%22ALICE@example.com%22",
        "externalId%20eq%20%22hr-Alice@Example.com%22",
        "name.familyName%20sw%20%22lid%22%20and%20active%20eq%20true",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department%20eq%20%22sales/tokyo%22",
    ] {
        let (status, v, _) = scim(&app, t, M::GET, &format!("/Users?filter={f}"), None).await;
        assert_eq!((status, &v["totalResults"]), (200, &json!(1)), "{f}: {v}");
        assert_eq!(v["Resources"][0]["id"], json!(id), "{f}");
    }
    let (_, v, _) = scim(
        &app,
        t,
        M::GET,
        "/Users?excludedAttributes=name,emails",
        None,
    )
    .await;
    assert!(v["Resources"][0].get("name").is_none() && v["Resources"][0]["id"] == json!(id));

    // A portal user with a certificate, a session and an open link: the leaver.
    let dir = app.dir.path().join("leaver");
    std::fs::create_dir_all(&dir).unwrap();
    let (olga, _) = crate::revocation::picked_up_pem(&app, "olga", &dir).await;
    let entry = request(&app, &olga, "phone").await;
    let (link, _, _, _) = show_link(&app, &olga, &entry).await;
    let (_, v, _) = scim(
        &app,
        t,
        M::GET,
        "/Users?filter=userName%20eq%20%22olga%22",
        None,
    )
    .await;
    let olga_id = v["Resources"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(v["Resources"][0]["active"], json!(true));
    let link_page = || async {
        let r = client().get(&link).send().await.unwrap();
        r.text().await.unwrap()
    };
    assert!(link_page().await.contains("data-testid=\"pin-form\""));

    // Entra ID deactivates: a capitalised op and a string boolean.
    let (status, v, _) = scim(
        &app,
        t,
        M::PATCH,
        &format!("/Users/{olga_id}"),
        Some(json!({"schemas": [PATCH], "Operations": [
            {"op": "Replace", "path": "active", "value": "False"}
        ]})),
    )
    .await;
    assert_eq!((status, &v["active"]), (200, &json!(false)), "{v}");
    let who = call(&app, "whoami", &[], Some(&olga))
        .await
        .text()
        .await
        .unwrap();
    assert!(!who.contains("\"olga\""), "the session ended: {who}");
    assert!(
        !link_page().await.contains("data-testid=\"pin-form\""),
        "the link is void"
    );
    let certs = crate::pickup::certificates_of(&app, "olga").await;
    assert_eq!(certs.len(), 1);
    assert_eq!(
        certs[0].revocation_reason.as_deref(),
        Some("affiliationChanged")
    );
    // An independent OCSP client and the CRL agree.
    let (crt, ca) = (
        dir.join("client.crt").display().to_string(),
        dir.join("ca.pem").display().to_string(),
    );
    let url = format!("{}/ocsp", app.base);
    let out = ok(
        "openssl",
        &[
            "ocsp", "-issuer", &ca, "-CAfile", &ca, "-url", &url, "-cert", &crt,
        ],
    );
    assert!(out.contains(&format!("{crt}: revoked")), "{out}");
    assert!(out.contains("Reason: affiliationChanged"), "{out}");
    let crl = client()
        .get(format!("{}/crl/current.pem", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    std::fs::write(dir.join("crl.pem"), crl).unwrap();
    let text = ok(
        "openssl",
        &[
            "crl",
            "-in",
            &dir.join("crl.pem").display().to_string(),
            "-noout",
            "-text",
        ],
    );
    assert!(
        text.to_uppercase()
            .contains(&certs[0].serial_hex.to_uppercase())
            && text.contains("Affiliation Changed"),
        "{text}"
    );

    // Deleted: gone for SCIM, the login free for a rehire; the row and history stay.
    let (status, _, _) = scim(&app, t, M::DELETE, &format!("/Users/{olga_id}"), None).await;
    assert_eq!(status, 204);
    let (status, v, _) = scim(&app, t, M::GET, &format!("/Users/{olga_id}"), None).await;
    assert_eq!(status, 404);
    assert_error(&v, 404, None);
    let (status, _, _) = scim(&app, t, M::DELETE, &format!("/Users/{olga_id}"), None).await;
    assert_eq!(status, 404, "deleted once");
    let (status, v, _) = scim(
        &app,
        t,
        M::POST,
        "/Users",
        Some(user_body("olga", "olga@example.com", "")),
    )
    .await;
    assert_eq!(status, 201, "{v}");
    assert_ne!(v["id"], json!(olga_id));
    let mut c = app.services.conn().await.unwrap();
    let old = db::user_by_id(&mut c, &olga_id).await.unwrap().unwrap();
    assert!(
        old.login.starts_with("olga~deleted-") && !old.active,
        "{old:?}"
    );
    let (history, _) = db::admin_rows::history(
        &mut c,
        &db::admin_rows::HistoryQuery {
            subject_user_id: Some(olga_id.clone()),
            limit: 100,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let actions: Vec<(&str, &str)> = history
        .iter()
        .map(|h| (h.action.as_str(), h.actor_label.as_str()))
        .collect();
    assert!(
        actions.contains(&("user.delete", "scim:tests")),
        "{actions:?}"
    );
    assert!(
        history.iter().any(|h| h.action == "user.update"
            && h.detail.contains("certificates_revoked=1")
            && h.detail.contains("via=scim")),
        "{actions:?}"
    );
    drop(c);
    app.stop().await;
}
both!(
    directory_provisions_and_a_leaver_loses_everything,
    provisioning
);

/// POSTs sent at once; `answers` waits for them.
fn post_at_once(app: &TestApp, token: &str, bodies: Vec<Value>) -> tokio::task::JoinSet<Answer> {
    let mut set = tokio::task::JoinSet::new();
    for (i, body) in bodies.into_iter().enumerate() {
        let r = client()
            .post(format!("{}/scim/v2/Users", app.base))
            .bearer_auth(token)
            .header("content-type", "application/scim+json")
            .body(body.to_string());
        set.spawn(async move {
            let r = r.send().await.unwrap();
            let status = r.status().as_u16();
            let v: Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
            (i, status, v)
        });
    }
    set
}

type Answer = (usize, u16, Value);

/// The answers, (status, body), in the order sent.
async fn answers(set: tokio::task::JoinSet<Answer>) -> Vec<(u16, Value)> {
    let mut out = set.join_all().await;
    out.sort_by_key(|(i, _, _)| *i);
    out.into_iter().map(|(_, s, v)| (s, v)).collect()
}

/// A directory provisions in parallel. The same userName posted eight times at once: one
/// user, seven `409 uniqueness`; eight new users of one new department at once: eight users,
/// one department. On PostgreSQL the test makes the race certain: it holds the first
/// department of the path uncommitted until all eight requests wait on its key, each having
/// checked that the login is free (before the fix they answered 500: the department's insert,
/// then the user's, met the row another transaction had committed meanwhile).
async fn parallel_creates(backend: Backend) {
    // As many connections as writers: a request holds one connection at a time, so eight
    // writers all get inside their transactions at once (the lock's holder and its watcher
    // are on the test's own connections).
    let app = spawn_backend_with_at(
        backend,
        &[("CERTPORTAL_DATABASE_MAX_CONNECTIONS", "8".into())],
        real_now(),
    )
    .await;
    assert_eq!(app.services.db.max_connections(), 8);
    let t = token(&app).await;
    // The token's use is recorded on its first request: done here, not by the eight.
    assert_eq!(
        scim(&app, Some(&t), reqwest::Method::GET, "/Users", None)
            .await
            .0,
        200
    );

    let held = hold_new_department(&app, backend, "Twins").await;
    let same = (0..8)
        .map(|_| user_body("twin@example.com", "twin@example.com", "Twins/East"))
        .collect();
    let sent = post_at_once(&app, &t, same);
    commit_when_waiting(held, 8).await;
    let got = answers(sent).await;
    let created = got.iter().filter(|(s, _)| *s == 201).count();
    assert_eq!(created, 1, "{got:?}");
    for (status, v) in got.iter().filter(|(s, _)| *s != 201) {
        assert_eq!(*status, 409, "{v}");
        assert_error(v, 409, Some("uniqueness"));
        assert_eq!(v["detail"], json!("userName twin@example.com is taken"));
    }

    let many = (0..8)
        .map(|i| {
            let login = format!("new{i}@example.com");
            user_body(&login, &login, "Newcomers/Spring")
        })
        .collect();
    let got = answers(post_at_once(&app, &t, many)).await;
    assert!(got.iter().all(|(s, _)| *s == 201), "{got:?}");
    assert!(got
        .iter()
        .all(|(_, v)| v[ENTERPRISE]["department"] == json!("Newcomers/Spring")));

    let mut c = app.services.conn().await.unwrap();
    for (sql, want) in [
        (
            "SELECT COUNT(*) AS n FROM users WHERE login = 'twin@example.com'",
            1,
        ),
        ("SELECT COUNT(*) AS n FROM users WHERE login LIKE 'new%'", 8),
        (
            "SELECT COUNT(*) AS n FROM departments WHERE path LIKE 'Twins%'",
            2,
        ),
        (
            "SELECT COUNT(*) AS n FROM departments WHERE path LIKE 'Newcomers%'",
            2,
        ),
    ] {
        let row = sqlx::query(sql).fetch_one(&mut *c).await.unwrap();
        assert_eq!(sqlx::Row::get::<i64, _>(&row, "n"), want, "{sql}");
    }
    drop(c);
    app.stop().await;
}
both!(parallel_creates_give_one_user_per_login, parallel_creates);

async fn groups_and_tokens(backend: Backend) {
    use reqwest::Method as M;
    let app = spawn_backend_with(
        backend,
        &[(
            "CERTPORTAL_SCIM_ADMIN_GROUPS",
            "Portal Admins, Security".into(),
        )],
    )
    .await;
    // An administrator made in the portal stays one whatever the groups say.
    activated_user(&app, "root", true).await;
    let t = token(&app).await;
    let tt = Some(t.as_str());
    let (_, v, _) = scim(
        &app,
        tt,
        M::POST,
        "/Users",
        Some(user_body("ken", "ken@example.com", "")),
    )
    .await;
    let ken = v["id"].as_str().unwrap().to_string();
    let is_admin = |id: String| {
        let s = app.services.clone();
        async move {
            let mut c = s.conn().await.unwrap();
            db::user_by_id(&mut c, &id).await.unwrap().unwrap().is_admin
        }
    };

    let (status, g, _) = scim(
        &app,
        tt,
        M::POST,
        "/Groups",
        Some(json!({"schemas": [GROUP], "displayName": "portal admins",
                    "members": [{"value": ken}]})),
    )
    .await;
    assert_eq!(status, 201, "{g}");
    let gid = g["id"].as_str().unwrap().to_string();
    assert!(
        is_admin(ken.clone()).await,
        "a member of an admin group (any case) is one"
    );
    let (_, v, _) = scim(&app, tt, M::GET, &format!("/Users/{ken}"), None).await;
    assert_eq!(v["groups"][0]["display"], json!("portal admins"));

    // Members: unknown ids refused, nothing changed; removed by filter: no longer admin.
    let (status, v, _) = scim(
        &app,
        tt,
        M::PATCH,
        &format!("/Groups/{gid}"),
        Some(json!({"schemas": [PATCH], "Operations": [
            {"op": "add", "path": "members", "value": [{"value": "nobody"}]}
        ]})),
    )
    .await;
    assert_eq!(status, 400);
    assert_error(&v, 400, Some("invalidValue"));
    let (status, v, _) = scim(
        &app,
        tt,
        M::PATCH,
        &format!("/Groups/{gid}"),
        Some(json!({"schemas": [PATCH], "Operations": [
            {"op": "remove", "path": format!("members[value eq \"{ken}\"]")}
        ]})),
    )
    .await;
    assert_eq!((status, &v["members"]), (200, &json!([])), "{v}");
    assert!(!is_admin(ken.clone()).await);
    let (status, _, _) = scim(
        &app,
        tt,
        M::POST,
        "/Groups",
        Some(json!({"schemas": [GROUP], "displayName": "Portal Admins"})),
    )
    .await;
    assert_eq!(status, 409, "group names are unique without case");

    // The token list shows the use; a revoked token is refused from the next request on.
    let tokens = app::ssr::scim::list_tokens(&app.services, &Actor::cli())
        .await
        .unwrap();
    assert_eq!(tokens.len(), 1);
    assert!(tokens[0].last_used_at.is_some());
    app::ssr::scim::revoke_token(&app.services, &Actor::cli(), &tokens[0].id)
        .await
        .unwrap();
    let (status, v, _) = scim(&app, tt, M::GET, "/Users", None).await;
    assert_eq!(status, 401);
    assert_error(&v, 401, None);
    app.stop().await;
}
both!(
    groups_carry_the_admin_role_and_tokens_can_be_revoked,
    groups_and_tokens
);

/// The scim2-tester compliance checks (run by scim2-cli's `scim2 test`; installed by `.ci/test`
/// into `end2end/.scim-venv`): discovery, errors, create, read with attributes, `.search`,
/// replace, delete and PATCH add/remove/replace of every attribute the schemas advertise.
/// Every check must pass (the CLI exits non-zero on any other result).
async fn scim2_tester(backend: Backend) {
    let app = spawn_at(backend, real_now()).await;
    let t = token(&app).await;
    let scim2 = std::env::var("CERTPORTAL_TEST_SCIM2").unwrap_or_else(|_| {
        format!(
            "{}/../end2end/.scim-venv/bin/scim2",
            env!("CARGO_MANIFEST_DIR")
        )
    });
    assert!(
        std::path::Path::new(&scim2).exists(),
        "{scim2} is missing: run the suite with .ci/test (it installs scim2-tester)"
    );
    let out = crate::helpers::blocking(|| {
        std::process::Command::new(&scim2)
            .args(["--url", &format!("{}/scim/v2", app.base), "test"])
            // The token through the environment, not the command line.
            .env("SCIM_CLI_HEADERS", format!("Authorization: Bearer {t}"))
            .output()
            .unwrap()
    });
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    let results: Vec<&str> = text.lines().filter(|l| !l.starts_with(' ')).collect();
    let passed = results.iter().filter(|l| l.starts_with("SUCCESS")).count();
    assert!(out.status.success(), "scim2 test failed:\n{text}");
    assert!(passed >= 70, "{passed} checks passed:\n{text}");
    assert!(
        results
            .iter()
            .all(|l| l.starts_with("SUCCESS") || l.starts_with("Performing")),
        "{text}"
    );
    app.stop().await;
}
both!(scim2_tester_passes, scim2_tester);
