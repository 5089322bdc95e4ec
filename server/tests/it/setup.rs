//! First run: the printed one-time link creates the first administrator, once.

use crate::helpers::urlencode;
use crate::helpers::{spawn, Backend};
use app::ssr::db;

fn form(token: &str, login: &str, password: &str) -> String {
    format!("token={token}&login={login}&display_name=First+Admin&email=admin%40example.com&password={password}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_link_creates_the_first_admin_once() {
    let app = spawn(Backend::Sqlite).await;
    let link = app
        .running
        .as_ref()
        .unwrap()
        .setup_link
        .clone()
        .expect("a setup link when no admin exists");
    assert!(link.starts_with(&format!("{}/setup/", app.base)), "{link}");
    let token = link.rsplit('/').next().unwrap().to_string();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    let page = http.get(&link).send().await.unwrap().text().await.unwrap();
    assert!(
        page.contains("name=\"password\""),
        "the form is rendered on the server"
    );

    // Bad input: a clear error, nothing created, the link still usable.
    let short = http
        .post(format!("{}/api/complete_setup", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&token, "admin", "short"))
        .send()
        .await
        .unwrap();
    assert!(!short.status().is_success());
    assert!(short.text().await.unwrap().contains("password_too_short"));

    // Without JavaScript a wrong token comes back as a redirect carrying the error code.
    let nojs = http
        .post(format!("{}/api/complete_setup", app.base))
        .header("accept", "text/html")
        .header("referer", &link)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form("not-the-token", "admin", "a good long password"))
        .send()
        .await
        .unwrap();
    assert_eq!(nojs.status(), 302);
    assert!(nojs.headers()["location"]
        .to_str()
        .unwrap()
        .contains("error=setup_link_invalid"));

    let ok = http
        .post(format!("{}/api/complete_setup", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&token, "Admin", "a good long password"))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.text().await.unwrap().trim_matches('"'), "admin");

    let mut c = app.services.conn().await.unwrap();
    let u = db::user_by_login(&mut c, "admin").await.unwrap().unwrap();
    assert!(u.is_admin);
    let hash: String =
        sqlx::query_scalar::<_, String>("SELECT password_hash FROM users WHERE login = 'admin'")
            .fetch_one(&mut *c)
            .await
            .unwrap();
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
    drop(c);
    assert!(app
        .audit_actions()
        .await
        .contains(&"setup.admin_created".to_string()));

    // The same link again, or any link now that an admin exists: refused.
    let again = http
        .post(format!("{}/api/complete_setup", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&token, "second", "a good long password"))
        .send()
        .await
        .unwrap();
    assert!(!again.status().is_success());
    assert!(matches!(
        app::ssr::setup::new_setup_link(&app.services, &app::ssr::audit::Actor::cli()).await,
        Err(app::ssr::setup::SetupError::AdminExists)
    ));
    let mut c = app.services.conn().await.unwrap();
    assert_eq!(db::count_admins(&mut c).await.unwrap(), 1);
    drop(c);
    // With an admin present, a restart prints no link.
    assert!(app::ssr::setup::setup_link_if_needed(&app.services)
        .await
        .unwrap()
        .is_none());
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_with_a_passkey_and_no_password() {
    use webauthn_authenticator_rs::{softpasskey::SoftPasskey, WebauthnAuthenticator};
    let app = spawn(Backend::Sqlite).await;
    let link = app.running.as_ref().unwrap().setup_link.clone().unwrap();
    let token = link.rsplit('/').next().unwrap().to_string();
    let http = reqwest::Client::new();
    let post = |name: &str, body: String| {
        http.post(format!("{}/api/{name}", app.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
    };
    // Bad fields are refused before any ceremony.
    let r = post(
        "setup_passkey_start",
        format!("token={token}&login=a+b&display_name=K&email=k%40example.com"),
    )
    .await
    .unwrap();
    assert!(r.text().await.unwrap().contains("invalid_login"));
    let r = post(
        "setup_passkey_start",
        format!("token={token}&login=keyadmin&display_name=Key+Admin&email=k%40example.com"),
    )
    .await
    .unwrap();
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
    // The software authenticator cannot keep discoverable credentials (see auth.rs).
    if let Some(sel) = options.public_key.authenticator_selection.as_mut() {
        sel.require_resident_key = false;
        sel.resident_key = None;
    }
    // Nothing exists until the ceremony finishes.
    let mut c = app.services.conn().await.unwrap();
    assert_eq!(db::count_admins(&mut c).await.unwrap(), 0);
    drop(c);
    let mut key = SoftPasskey::new(true);
    let cred = key
        .do_registration(url::Url::parse(&app.base).unwrap(), options)
        .unwrap();
    let body = format!(
        "ceremony={}&credential={}",
        start["ceremony"].as_str().unwrap(),
        urlencode(&serde_json::to_string(&cred).unwrap())
    );
    let r = post("setup_passkey_finish", body.clone()).await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .starts_with("certportal="),
        "signed in at once"
    );
    let mut c = app.services.conn().await.unwrap();
    let u = db::user_by_login(&mut c, "keyadmin")
        .await
        .unwrap()
        .unwrap();
    assert!(u.is_admin);
    assert_eq!(
        db::auth_rows::password_hash(&mut c, &u.id).await.unwrap(),
        None,
        "no password at all"
    );
    assert_eq!(
        db::auth_rows::passkeys_for_user(&mut c, &u.id)
            .await
            .unwrap()
            .len(),
        1
    );
    drop(c);
    // The ceremony and the link are spent.
    let again = post("setup_passkey_finish", body).await.unwrap();
    assert!(!again.status().is_success());
    assert!(!app::ssr::setup::setup_token_usable(&app.services, &token)
        .await
        .unwrap());
    app.stop().await;
}
