//! The error vocabulary as users meet it: codes on the wire, the catalogue's text in the
//! reader's language after a no-JavaScript form post, and the same rules in the CLI.

use crate::admin::audit_count_all;
use crate::helpers::{activated_user, certportal, client, form_post, spawn, Backend, PW};

async fn page(base: &str, path: &str, cookie: &str, lang: &str) -> String {
    let r = client()
        .get(format!("{base}{path}"))
        .header("cookie", cookie)
        .header("accept-language", lang)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{path}");
    r.text().await.unwrap()
}

fn location(r: &reqwest::Response) -> String {
    r.headers()["location"].to_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_javascript_forms_come_back_with_the_error_in_the_readers_language() {
    let app = spawn(Backend::Sqlite).await;
    let admin = format!("certportal={}", activated_user(&app, "root", true).await);
    let base = app.base.clone();
    let new_user = |login: &'static str| {
        [
            ("login", login),
            ("display_name", "Taken Name"),
            ("email", "taken@example.com"),
        ]
    };

    // A taken login, without JavaScript: back to the directory with the code, and the page
    // says so in Japanese (it used to land on the start page with no message).
    let r = form_post(&app, "admin_create_user", &new_user("taken"), Some(&admin)).await;
    assert!(r.status().is_redirection(), "{}", r.status());
    let r = form_post(&app, "admin_create_user", &new_user("taken"), Some(&admin)).await;
    assert!(r.status().is_redirection(), "{}", r.status());
    let to = location(&r);
    assert_eq!(to, "/admin/users?form=create&error=login_taken#create-user");
    let html = page(
        &base,
        "/admin/users?form=create&error=login_taken",
        &admin,
        "ja",
    )
    .await;
    assert!(
        html.contains("そのログイン名は既に使われています。"),
        "{html}"
    );
    assert!(html.contains(r#"data-code="login_taken""#), "{html}");
    assert!(
        !html.contains("already taken"),
        "English in the Japanese page"
    );
    let html = page(&base, "/admin/users?error=login_taken", &admin, "en").await;
    assert!(html.contains("That login name is already taken."), "{html}");

    // Success without JavaScript: the activation link reaches the next page through a
    // short-lived cookie of this browser, never through the URL.
    let r = form_post(&app, "admin_create_user", &new_user("fresh"), Some(&admin)).await;
    assert!(r.status().is_redirection(), "{}", r.status());
    assert_eq!(location(&r), "/admin/users?created=1#create-user");
    let created = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("certportal-created="))
        .map(|v| v.split(';').next().unwrap().to_string())
        .expect("the link cookie");
    assert!(created.contains("/activate/"), "{created}");
    let html = page(
        &base,
        "/admin/users?created=1",
        &format!("{admin}; {created}"),
        "en",
    )
    .await;
    assert!(html.contains(r#"data-testid="activation-link""#), "{html}");
    assert!(html.contains(created.trim_start_matches("certportal-created=")));

    // A CA name that is too long: refused before anything changes, and the page names the
    // CA name (it used to say "At least 12 characters.").
    let long = "N".repeat(65);
    let r = form_post(
        &app,
        "admin_rotate_ca",
        &[("confirm", "yes"), ("password", PW), ("name", &long)],
        Some(&admin),
    )
    .await;
    assert!(r.status().is_redirection(), "{}", r.status());
    assert_eq!(location(&r), "/admin/ca?error=invalid_ca_name");
    assert_eq!(audit_count_all(&app, "ca.rotate").await, 0);
    let html = page(&base, "/admin/ca?error=invalid_ca_name", &admin, "ja").await;
    assert!(
        html.contains("CA名: 制御文字を含まない64文字以内"),
        "{html}"
    );
    let html = page(&base, "/admin/ca?error=invalid_ca_name", &admin, "en").await;
    assert!(html.contains("CA name: at most 64 characters"), "{html}");
    assert!(!html.contains("12 characters"));

    // An unknown code in the URL shows the generic text, not nothing.
    let html = page(&base, "/admin/ca?error=made_up", &admin, "en").await;
    assert!(html.contains(r#"data-code="internal""#), "{html}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_applies_the_same_rules_as_the_web() {
    let app = spawn(Backend::Sqlite).await;
    let env = app.env();
    let long = "N".repeat(65);
    let (code, _, err) = certportal(&env, &["ca", "rotate", "--name", &long]);
    assert_ne!(code, 0);
    assert!(err.contains("CA name: at most 64 characters"), "{err}");
    assert_eq!(audit_count_all(&app, "ca.rotate").await, 0);

    app.add_user("cli-user", false).await;
    let (code, _, err) = certportal(
        &env,
        &["link", "create", "--user", "cli-user", "--device", &long],
    );
    assert_ne!(code, 0);
    assert!(err.contains("Device name: at most 64 characters"), "{err}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_without_javascript_never_follows_next_off_the_site() {
    let app = spawn(Backend::Sqlite).await;
    activated_user(&app, "nina", false).await;
    for (next, to) in [
        ("/account", "/account"),
        ("/\t/example.org", "/certificates"),
        ("//example.org", "/certificates"),
        ("https://example.org/", "/certificates"),
        ("/\\example.org", "/certificates"),
    ] {
        let r = form_post(
            &app,
            "login",
            &[("login", "nina"), ("password", PW), ("next", next)],
            None,
        )
        .await;
        assert!(r.status().is_redirection(), "{next:?}: {}", r.status());
        assert_eq!(location(&r), to, "{next:?}");
    }
    app.stop().await;
}
