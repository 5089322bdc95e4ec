//! Sign-in through a real OpenID provider (the OpenID-certified `oidc-provider`, run by
//! `end2end/support/oidc-provider.mjs` under node) on both databases: the authorization code
//! flow with PKCE from the portal's `/auth/oidc/start` through the provider's login form to the
//! callback; users created at first sign-in, their fields and role following the claims (the
//! admin group), audited; refusals that sign nobody in — a replayed state, a flow from another
//! browser, an ID token for another client (`aud`), an expired one, no account when users are
//! not created, a deactivated user; passwords off; rule 8 confirmed by a fresh provider sign-in.

use crate::both;
use crate::helpers::{
    activated_user, call, client, free_port, real_now, spawn_backend_with_at, Backend, Reaped,
    TestApp, PW,
};
use app::ssr::db;
use serde_json::{json, Value};
use std::collections::HashMap;

/// The provider, listening on loopback.
pub(crate) struct Provider {
    pub issuer: String,
    _child: Reaped,
}

impl Provider {
    pub(crate) async fn start() -> Provider {
        use std::io::{BufRead, BufReader};
        let script = format!(
            "{}/../end2end/support/oidc-provider.mjs",
            env!("CARGO_MANIFEST_DIR")
        );
        let modules = format!(
            "{}/../end2end/node_modules/oidc-provider",
            env!("CARGO_MANIFEST_DIR")
        );
        assert!(
            std::path::Path::new(&modules).exists(),
            "{modules} is missing: run the suite with .ci/test (it installs the end2end node modules)"
        );
        let port = free_port();
        let mut child = std::process::Command::new("node")
            .arg(&script)
            .arg(port.to_string())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("node runs the OpenID provider");
        let out = child.stdout.take().unwrap();
        let child = Reaped(child);
        // Bounded: the script prints its address once it accepts requests.
        let line = tokio::task::spawn_blocking(move || {
            let mut line = String::new();
            BufReader::new(out).read_line(&mut line).map(|_| line)
        });
        let line = tokio::time::timeout(std::time::Duration::from_secs(60), line)
            .await
            .expect("the provider starts within a minute")
            .unwrap()
            .unwrap();
        let issuer = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected provider output {line:?}"))
            .to_string();
        Provider {
            issuer,
            _child: child,
        }
    }

    /// Registers the portal's callback with both clients.
    async fn allow(&self, app: &TestApp) {
        for id in ["certportal", "other"] {
            let r = client()
                .post(format!("{}/__test/redirect-uris", self.issuer))
                .header("content-type", "application/json")
                .body(
                    json!({"client_id": id, "redirect_uris": [format!("{}/auth/oidc/callback", app.base)]})
                        .to_string(),
                )
                .send()
                .await
                .unwrap();
            assert!(r.status().is_success(), "{}", r.status());
        }
    }

    /// Changes the claims of the next ID token (re-signed with the provider's own key).
    async fn next_token(&self, patch: Value) {
        let r = client()
            .post(format!("{}/__test/next-id-token", self.issuer))
            .header("content-type", "application/json")
            .body(patch.to_string())
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.status());
    }
}

/// A portal using `provider`, with more settings.
async fn portal(backend: Backend, p: &Provider, extra: &[(&'static str, String)]) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("oidc-secret");
    std::fs::write(&secret, "certportal-test-secret\n").unwrap();
    let mut settings = vec![
        ("CERTPORTAL_OIDC_ISSUER", p.issuer.clone()),
        ("CERTPORTAL_OIDC_CLIENT_ID", "certportal".to_string()),
        (
            "CERTPORTAL_OIDC_CLIENT_SECRET_FILE",
            secret.display().to_string(),
        ),
        ("CERTPORTAL_OIDC_DISPLAY_NAME", "Example SSO".to_string()),
        (
            "CERTPORTAL_OIDC_SCOPES",
            "openid profile email groups".to_string(),
        ),
        ("CERTPORTAL_OIDC_ADMIN_GROUPS", "portal-admins".to_string()),
    ];
    settings.extend(extra.iter().cloned());
    // The provider stamps tokens with the real time; the portal checks them on its clock.
    let app = spawn_backend_with_at(backend, &settings, real_now()).await;
    // The secret is read at start.
    drop(dir);
    p.allow(&app).await;
    app
}

/// A browser: cookies per host (the portal on `localhost`, the provider on `127.0.0.1`).
#[derive(Default)]
struct Browser {
    jar: HashMap<String, HashMap<String, String>>,
}

impl Browser {
    fn host(url: &str) -> String {
        url.split("://")
            .nth(1)
            .and_then(|r| r.split('/').next())
            .and_then(|h| h.split(':').next())
            .unwrap_or_default()
            .to_string()
    }

    async fn send(
        &mut self,
        method: reqwest::Method,
        url: &str,
        form: Option<&[(&str, &str)]>,
    ) -> reqwest::Response {
        let host = Self::host(url);
        let cookies = self
            .jar
            .get(&host)
            .map(|c| {
                c.iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join("; ")
            })
            .unwrap_or_default();
        let mut req = client().request(method, url);
        if !cookies.is_empty() {
            req = req.header("cookie", cookies);
        }
        if let Some(f) = form {
            let body = f
                .iter()
                .map(|(k, v)| format!("{k}={}", crate::helpers::urlencode(v)))
                .collect::<Vec<_>>()
                .join("&");
            req = req
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body);
        }
        let r = req.send().await.unwrap();
        for v in r.headers().get_all("set-cookie") {
            let v = v.to_str().unwrap();
            let (kv, attrs) = v.split_once(';').unwrap_or((v, ""));
            let (k, val) = kv.split_once('=').unwrap();
            let gone = attrs.to_ascii_lowercase().contains("max-age=0") || val.is_empty();
            let jar = self.jar.entry(host.clone()).or_default();
            if gone {
                jar.remove(k.trim());
            } else {
                jar.insert(k.trim().to_string(), val.to_string());
            }
        }
        r
    }

    async fn get(&mut self, url: &str) -> reqwest::Response {
        self.send(reqwest::Method::GET, url, None).await
    }

    fn session(&self) -> Option<String> {
        self.jar.get("localhost")?.get("certportal").cloned()
    }
}

fn location(r: &reqwest::Response) -> String {
    assert_eq!(r.status(), 303, "expected a redirect");
    r.headers()["location"].to_str().unwrap().to_string()
}

/// Follows the provider's redirects and signs in on its login form as `login`; returns the
/// portal's callback URL the provider sends the browser to.
async fn at_provider(b: &mut Browser, p: &Provider, mut url: String, login: &str) -> String {
    for _ in 0..10 {
        if !url.starts_with(&p.issuer) {
            return url;
        }
        let r = b.get(&url).await;
        if r.status() == 303 || r.status() == 302 {
            let to = r.headers()["location"].to_str().unwrap().to_string();
            url = if to.starts_with('/') {
                format!("{}{to}", p.issuer)
            } else {
                to
            };
            continue;
        }
        let html = r.text().await.unwrap();
        let action = html
            .split("action=\"")
            .nth(1)
            .and_then(|a| a.split('"').next())
            .unwrap_or_else(|| panic!("no login form: {html}"))
            .to_string();
        let pw = format!("{login}-password");
        let r = b
            .send(
                reqwest::Method::POST,
                &format!("{}{action}", p.issuer),
                Some(&[("login", login), ("password", &pw)]),
            )
            .await;
        let to = location(&r);
        url = if to.starts_with('/') {
            format!("{}{to}", p.issuer)
        } else {
            to
        };
    }
    panic!("too many redirects at the provider");
}

/// "Sign in with Example SSO" as `login`: returns the portal's answer to the callback.
async fn sign_in(
    b: &mut Browser,
    app: &TestApp,
    p: &Provider,
    login: &str,
) -> (reqwest::Response, String) {
    let r = b
        .get(&format!("{}/auth/oidc/start?next=/certificates", app.base))
        .await;
    let to_provider = location(&r);
    assert!(to_provider.starts_with(&p.issuer), "{to_provider}");
    for must in [
        "code_challenge_method=S256",
        "state=",
        "nonce=",
        "scope=openid",
    ] {
        assert!(to_provider.contains(must), "{must} in {to_provider}");
    }
    let callback = at_provider(b, p, to_provider, login).await;
    assert!(
        callback.starts_with(&format!("{}/auth/oidc/callback?", app.base)),
        "{callback}"
    );
    (b.get(&callback).await, callback)
}

async fn whoami(app: &TestApp, session: &str) -> Value {
    serde_json::from_str(
        &call(app, "whoami", &[], Some(session))
            .await
            .text()
            .await
            .unwrap(),
    )
    .unwrap()
}

async fn user(app: &TestApp, login: &str) -> Option<db::UserRow> {
    let mut c = app.services.conn().await.unwrap();
    db::user_by_login(&mut c, login).await.unwrap()
}

async fn history_of(app: &TestApp, user_id: &str) -> Vec<(String, String)> {
    let mut c = app.services.conn().await.unwrap();
    let (rows, _) = db::admin_rows::history(
        &mut c,
        &db::admin_rows::HistoryQuery {
            subject_user_id: Some(user_id.to_string()),
            limit: 100,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    rows.into_iter().map(|h| (h.action, h.detail)).collect()
}

async fn single_sign_on(backend: Backend) {
    let p = Provider::start().await;
    let app = portal(backend, &p, &[]).await;

    // The sign-in page offers the provider by name.
    let opts = call(&app, "sign_in_options", &[], None)
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&opts).unwrap(),
        json!({"provider": "Example SSO", "passwords": true})
    );

    // First sign-in creates the user from the claims.
    let mut alice = Browser::default();
    let (r, _) = sign_in(&mut alice, &app, &p, "alice").await;
    assert_eq!(location(&r), "/certificates");
    let session = alice.session().expect("signed in");
    assert_eq!(whoami(&app, &session).await["login"], json!("alice"));
    let u = user(&app, "alice").await.unwrap();
    assert_eq!(
        (
            u.display_name.as_str(),
            u.email.as_str(),
            u.upn.as_deref(),
            u.is_admin
        ),
        (
            "Alice Anders",
            "alice@example.com",
            Some("alice@corp.example.com"),
            false
        ),
        "{u:?}"
    );
    let history = history_of(&app, &u.id).await;
    assert!(
        history
            .iter()
            .any(|(a, d)| a == "user.create" && d.contains("via=oidc")),
        "{history:?}"
    );
    assert!(
        history.iter().any(|(a, _)| a == "auth.login"),
        "{history:?}"
    );

    // The same callback again, with the flow's cookie as it was (a replayed state): the flow
    // was used up on the server, so it is refused and nobody is signed in.
    let mut first = Browser::default();
    let r = first.get(&format!("{}/auth/oidc/start", app.base)).await;
    let cb = at_provider(&mut first, &p, location(&r), "alice").await;
    let mut replay = Browser {
        jar: first.jar.clone(),
    };
    assert!(replay.jar["localhost"].contains_key("certportal-oidc"));
    assert_eq!(location(&first.get(&cb).await), "/certificates");
    assert!(first.session().is_some());
    let again = replay.get(&cb).await;
    assert!(location(&again).starts_with("/login?error=sso_refused"));
    assert!(replay.session().is_none());
    // A callback in a browser that did not begin the flow: refused.
    let mut other = Browser::default();
    let r = other.get(&format!("{}/auth/oidc/start", app.base)).await;
    let cb = at_provider(&mut other, &p, location(&r), "carol").await;
    let mut thief = Browser::default();
    assert!(location(&thief.get(&cb).await).starts_with("/login?error=sso_refused"));
    assert!(thief.session().is_none());

    // The admin group makes an administrator; leaving it takes the role away, audited (the
    // portal keeps another administrator: the last one is never taken away).
    activated_user(&app, "root", true).await;
    let mut bob = Browser::default();
    sign_in(&mut bob, &app, &p, "bob").await;
    assert!(user(&app, "bob").await.unwrap().is_admin);
    p.next_token(json!({"groups": ["staff"], "department": "Sales/Tokyo"}))
        .await;
    let mut bob2 = Browser::default();
    sign_in(&mut bob2, &app, &p, "bob").await;
    let b = user(&app, "bob").await.unwrap();
    assert!(!b.is_admin, "left the admin group");
    let history = history_of(&app, &b.id).await;
    assert!(
        history.iter().any(|(a, d)| a == "user.update"
            && d.contains("is_admin=false")
            && d.contains("department=Sales/Tokyo")),
        "{history:?}"
    );

    // An ID token for another client, an expired one: refused, nobody signed in.
    let now = real_now();
    for patch in [
        json!({"aud": "other"}),
        json!({"iat": now - 7200, "exp": now - 3600}),
    ] {
        p.next_token(patch.clone()).await;
        let mut b = Browser::default();
        let (r, _) = sign_in(&mut b, &app, &p, "alice").await;
        assert!(
            location(&r).starts_with("/login?error=sso_refused"),
            "{patch}"
        );
        assert!(b.session().is_none(), "{patch}");
    }

    // A deactivated user is refused.
    {
        let mut c = app.services.conn().await.unwrap();
        sqlx::query("UPDATE users SET active = 0 WHERE login = 'alice'")
            .execute(&mut *c)
            .await
            .unwrap();
    }
    let mut b = Browser::default();
    let (r, _) = sign_in(&mut b, &app, &p, "alice").await;
    assert!(location(&r).starts_with("/login?error=user_inactive"));
    assert!(b.session().is_none());
    assert!(
        whoami(&app, &session).await.is_null(),
        "no session of hers survives either way"
    );
    app.stop().await;
}
both!(sign_in_through_a_real_openid_provider, single_sign_on);

async fn matching_only_and_confirmation(backend: Backend) {
    let p = Provider::start().await;
    let app = portal(
        backend,
        &p,
        &[
            ("CERTPORTAL_OIDC_CREATE_USERS", "false".into()),
            ("CERTPORTAL_OIDC_LOCAL_PASSWORDS", "false".into()),
        ],
    )
    .await;
    // Nobody is created: carol has no account yet.
    let mut b = Browser::default();
    let (r, _) = sign_in(&mut b, &app, &p, "carol").await;
    assert!(location(&r).starts_with("/login?error=sso_no_account"));
    assert!(user(&app, "carol").await.is_none());

    // An account made by an administrator is matched by login and linked.
    activated_user(&app, "carol", false).await;
    // Passwords are off (the account was activated with one before the setting mattered).
    let r = call(&app, "login", &[("login", "carol"), ("password", PW)], None).await;
    assert!(r.text().await.unwrap().contains("password_sign_in_off"));
    let mut carol = Browser::default();
    let (r, _) = sign_in(&mut carol, &app, &p, "carol").await;
    assert_eq!(location(&r), "/certificates");
    let history = history_of(&app, &user(&app, "carol").await.unwrap().id).await;
    assert!(
        history
            .iter()
            .any(|(_, d)| d.contains("linked to the provider's subject")),
        "{history:?}"
    );

    // Rule 8 through the provider: bob (admin group) signs in; later his confirmation is
    // stale, so a dangerous action is refused until a fresh sign-in at the provider.
    activated_user(&app, "bob", false).await;
    let mut bob = Browser::default();
    sign_in(&mut bob, &app, &p, "bob").await;
    let session = bob.session().unwrap();
    assert_eq!(whoami(&app, &session).await["sso"], json!("Example SSO"));
    let stale = || async {
        let mut c = app.services.conn().await.unwrap();
        sqlx::query("UPDATE sessions SET reauth_at = reauth_at - 600")
            .execute(&mut *c)
            .await
            .unwrap();
    };
    stale().await;
    let name = [("name", "Entra ID")];
    let refused = call(&app, "admin_create_scim_token", &name, Some(&session)).await;
    assert!(refused.text().await.unwrap().contains("reauth_required"));
    // A provider answer with an old auth_time does not confirm.
    p.next_token(json!({"auth_time": real_now() - 3600})).await;
    let r = bob
        .get(&format!(
            "{}/auth/oidc/confirm?next=/admin/settings",
            app.base
        ))
        .await;
    let url = location(&r);
    assert!(
        url.contains("prompt=login") && url.contains("max_age=0"),
        "{url}"
    );
    let cb = at_provider(&mut bob, &p, url, "bob").await;
    assert!(location(&bob.get(&cb).await).starts_with("/login?error=sso_refused"));
    let still = call(&app, "admin_create_scim_token", &name, Some(&session)).await;
    assert!(still.text().await.unwrap().contains("reauth_required"));
    // A fresh one does.
    let r = bob
        .get(&format!(
            "{}/auth/oidc/confirm?next=/admin/settings",
            app.base
        ))
        .await;
    let cb = at_provider(&mut bob, &p, location(&r), "bob").await;
    assert_eq!(location(&bob.get(&cb).await), "/admin/settings");
    let ok = call(&app, "admin_create_scim_token", &name, Some(&session)).await;
    assert!(
        ok.text().await.unwrap().contains("scim_"),
        "confirmed by the provider"
    );
    // Someone else at the provider cannot confirm bob's session.
    stale().await;
    let r = bob
        .get(&format!(
            "{}/auth/oidc/confirm?next=/admin/settings",
            app.base
        ))
        .await;
    let cb = at_provider(&mut bob, &p, location(&r), "alice").await;
    assert!(location(&bob.get(&cb).await).starts_with("/login?error=sso_refused"));
    app.stop().await;
}
both!(
    existing_users_only_and_rule_8_through_the_provider,
    matching_only_and_confirmation
);
