//! The `certportal` binary: configuration errors name the setting, administrative commands
//! work on the same database, and a schema it does not know stops it.

use crate::helpers::{spawn, Backend};
use std::process::Command;

fn certportal(env: &[(String, String)], args: &[&str]) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_certportal"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

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
