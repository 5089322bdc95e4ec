//! The `certportal` binary: configuration errors name the setting, administrative commands
//! work on the same database, and a schema it does not know stops it.

use crate::helpers::{certportal, spawn, Backend};

#[test]
fn bad_configuration_stops_with_the_setting_named() {
    let (code, _, err) = certportal(&[], &["serve"]);
    assert_eq!(code, 2);
    assert!(err.contains("CERTPORTAL_CA_PASSPHRASE"), "{err}");
    let env = vec![
        (
            "CERTPORTAL_CA_PASSPHRASE".to_string(),
            "long enough passphrase".to_string(),
        ),
        (
            "CERTPORTAL_LISTEN".to_string(),
            "not-an-address".to_string(),
        ),
    ];
    let (code, _, err) = certportal(&env, &["serve"]);
    assert_eq!(code, 2);
    assert!(err.contains("CERTPORTAL_LISTEN"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_commands_share_the_database() {
    let app = spawn(Backend::Sqlite).await;
    let env = app.env();
    let base = app.base.clone();
    let crl_out = app.path("exported.crl");
    app.services.db.close().await;
    let dir_keep = app.dir.path().to_path_buf();
    let (code, out, err) = certportal(&env, &["setup-link"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.trim().starts_with(&format!("{base}/setup/")), "{out}");

    let (code, out, err) = certportal(&env, &["ca", "show", "--json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v[0]["current"], true);
    assert!(v[0]["fingerprint_sha256"].as_str().unwrap().len() == 95);

    let (code, _, err) = certportal(&env, &["crl", "export", "--out", crl_out.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let text = crate::helpers::ok(
        "openssl",
        &[
            "crl",
            "-inform",
            "DER",
            "-in",
            crl_out.to_str().unwrap(),
            "-noout",
            "-text",
        ],
    );
    assert!(text.contains("Certificate Revocation List"), "{text}");

    // A database from a newer certportal: refuse to start, say why.
    let db_file = dir_keep.join("data/certportal.db");
    let url = format!("sqlite://{}?mode=rwc", db_file.display());
    let db = app::ssr::db::Db::connect(&url).await.unwrap();
    sqlx::query(
        "INSERT INTO schema_migrations (version, name, checksum) VALUES (99, 'future', 'x')",
    )
    .execute(db.pool())
    .await
    .unwrap();
    db.close().await;
    let (code, _, err) = certportal(&env, &["migrate"]);
    assert_ne!(code, 0);
    assert!(err.contains("newer than this binary"), "{err}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_commands_add_import_and_list() {
    let app = spawn(Backend::Sqlite).await;
    let env = app.env();
    let csv_bad = app.path("bad.csv");
    let csv_good = app.path("good.csv");
    std::fs::write(&csv_bad, "login,display_name,email,department\nok1,OK One,ok1@example.com,Sales\nbad login,Bad,bad@example.com,\n").unwrap();
    std::fs::write(&csv_good, "login,display_name,email,upn,department,admin\nyamada,\"山田, 太郎\",yamada@example.com,yamada@corp.example,営業部/東京,no\nsuzuki,Suzuki,suzuki@example.com,,,yes\n").unwrap();
    app.services.db.close().await;

    let (code, out, err) = certportal(
        &env,
        &[
            "user",
            "add",
            "--login",
            "admin",
            "--name",
            "The Admin",
            "--email",
            "admin@example.com",
            "--admin",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("/activate/"), "{out}");
    assert!(
        !out.to_lowercase().contains("password:"),
        "no password is ever printed"
    );
    let (code, _, err) = certportal(
        &env,
        &[
            "user",
            "add",
            "--login",
            "admin",
            "--name",
            "Dup",
            "--email",
            "d@example.com",
        ],
    );
    assert_ne!(code, 0);
    assert!(err.contains("already taken"), "{err}");
    let (code, _, err) = certportal(
        &env,
        &[
            "user",
            "add",
            "--login",
            "x",
            "--name",
            "X",
            "--email",
            "not-an-address",
        ],
    );
    assert_ne!(code, 0);
    assert!(err.contains("email"), "{err}");

    // One bad row: nothing imported, the line is named.
    let (code, _, err) = certportal(
        &env,
        &["user", "import", "--csv", csv_bad.to_str().unwrap()],
    );
    assert_ne!(code, 0);
    assert!(
        err.contains("line 3") && err.contains("nothing was imported"),
        "{err}"
    );
    let (code, out, err) = certportal(
        &env,
        &["user", "import", "--csv", csv_good.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().count(), 2);

    let (code, out, err) = certportal(&env, &["user", "list", "--json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let logins: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["login"].as_str().unwrap())
        .collect();
    assert_eq!(logins, vec!["admin", "suzuki", "yamada"]);
    let yamada = &v[2];
    assert_eq!(yamada["display_name"], "山田, 太郎");
    assert_eq!(yamada["upn"], "yamada@corp.example");
    assert_eq!(yamada["activated"], false);
    assert_eq!(v[1]["is_admin"], true);
    app.stop().await;
}
