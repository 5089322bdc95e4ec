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

/// `cert create` (Create & Download to a file, PIN printed), `cert list`, `cert revoke`
/// (final, reasons checked) and `ca rotate` through the real binary, on the rules of the
/// portal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cert_and_ca_commands() {
    let app = spawn(Backend::Sqlite).await;
    let env = app.env();
    app.services.db.close().await;
    let run = |args: &[&str]| certportal(&env, args);
    let (code, _, err) = run(&[
        "user",
        "add",
        "--login",
        "kei",
        "--name",
        "Kei",
        "--email",
        "kei@example.com",
    ]);
    assert_eq!(code, 0, "{err}");
    let f1 = app.path("kei1.p12");
    let f1s = f1.to_str().unwrap();
    let (code, out, err) = run(&["cert", "create", "--user", "kei", "--download", f1s]);
    assert_eq!(code, 0, "{err}");
    let pin = out
        .lines()
        .find_map(|l| l.strip_prefix("PIN (hand it over separately from the file): "))
        .unwrap()
        .trim()
        .to_string();
    assert_eq!(pin.len(), 8);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&f1).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let text = crate::helpers::ok(
        "openssl",
        &[
            "pkcs12",
            "-in",
            f1s,
            "-passin",
            &format!("pass:{pin}"),
            "-nokeys",
            "-clcerts",
        ],
    );
    assert!(text.contains("BEGIN CERTIFICATE"), "{text}");

    // Refusals change nothing.
    type Run<'a> = &'a dyn Fn(&[&str]) -> (i32, String, String);
    let list = |run: Run| {
        let (code, out, err) = run(&["cert", "list", "--user", "kei", "--json"]);
        assert_eq!(code, 0, "{err}");
        serde_json::from_str::<serde_json::Value>(&out).unwrap()
    };
    let before = list(&run);
    let (code, _, err) = run(&["cert", "create", "--user", "kei", "--download", f1s]);
    assert_ne!(code, 0);
    assert!(err.contains("exists"), "{err}");
    let f2 = app.path("kei2.p12");
    let f2s = f2.to_str().unwrap();
    let (code, _, err) = run(&[
        "cert",
        "create",
        "--user",
        "kei",
        "--not-after",
        "2001-01-01",
        "--download",
        f2s,
    ]);
    assert_ne!(code, 0);
    assert!(err.contains("past"), "{err}");
    let (code, _, err) = run(&["cert", "create", "--user", "nobody", "--download", f2s]);
    assert_ne!(code, 0);
    assert!(err.contains("no user"), "{err}");
    assert_eq!(list(&run), before);
    assert!(!f2.exists());
    // Never through a symlink (even a dangling one: a check-then-open would follow it), and
    // a bundle that cannot be written leaves no certificate behind.
    let victim = app.path("victim");
    let link = app.path("link.p12");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    let (code, _, err) = run(&[
        "cert",
        "create",
        "--user",
        "kei",
        "--download",
        link.to_str().unwrap(),
    ]);
    assert_ne!(code, 0);
    assert!(err.contains("exists"), "{err}");
    assert!(!victim.exists(), "nothing written through the symlink");
    let nowhere = app.path("no/such/dir/x.p12");
    let (code, _, err) = run(&[
        "cert",
        "create",
        "--user",
        "kei",
        "--download",
        nowhere.to_str().unwrap(),
    ]);
    assert_ne!(code, 0);
    assert!(err.contains("cannot create"), "{err}");
    assert_eq!(list(&run), before, "no certificate without its file");

    // "Remove existing": the first one is superseded in the same transaction. (The binary
    // runs on the real clock.)
    let end = app::i18n::fmt_date(crate::helpers::real_now() + 400 * 86_400);
    let (code, _, err) = run(&[
        "cert",
        "create",
        "--user",
        "kei",
        "--remove-existing",
        "--not-after",
        &end,
        "--download",
        f2s,
    ]);
    assert_eq!(code, 0, "{err}");
    let v = list(&run);
    let states: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["issued", "superseded"], "{v}");
    assert_eq!(v[0]["not_after"], format!("{end}T23:59:59Z"));
    let serial = v[0]["serial"].as_str().unwrap().to_string();

    let (code, _, err) = run(&["cert", "revoke", "--serial", &serial, "--reason", "bogus"]);
    assert_ne!(code, 0);
    assert!(err.contains("unknown reason"), "{err}");
    let (code, _, err) = run(&[
        "cert",
        "revoke",
        "--serial",
        &serial,
        "--reason",
        "superseded",
    ]);
    assert_ne!(code, 0, "{err}");
    let (code, out, err) = run(&[
        "cert",
        "revoke",
        "--serial",
        &serial,
        "--reason",
        "keyCompromise",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("revoked"), "{out}");
    let (code, _, err) = run(&[
        "cert",
        "revoke",
        "--serial",
        &serial,
        "--reason",
        "unspecified",
    ]);
    assert_ne!(code, 0, "revoked is final");
    assert!(!err.is_empty());
    let v = list(&run);
    assert_eq!(v[0]["state"], "revoked");
    assert_eq!(v[0]["reason"], "keyCompromise");
    let (code, out, _) = run(&["cert", "list"]);
    assert_eq!(code, 0);
    assert!(out.contains(&serial) && out.contains("kei"), "{out}");

    // CA rotation: a new current CA; the next certificate is signed by it.
    let (_, out, _) = run(&["ca", "show", "--json"]);
    let old: serde_json::Value = serde_json::from_str(&out).unwrap();
    let (code, out, err) = run(&["ca", "rotate", "--name", "certportal CA 2"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("new current CA"), "{out}");
    let (_, out, _) = run(&["ca", "show", "--json"]);
    let cas: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(cas.as_array().unwrap().len(), 2);
    assert_eq!(cas[0]["current"], true);
    assert_eq!(cas[0]["subject"], "CN=certportal CA 2, O=certportal");
    assert_eq!(cas[1]["id"], old[0]["id"]);
    let f3 = app.path("kei3.p12");
    let (code, _, err) = run(&[
        "cert",
        "create",
        "--user",
        "kei",
        "--download",
        f3.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let v = list(&run);
    assert_eq!(v[0]["ca"], cas[0]["id"]);
    assert_eq!(v[1]["ca"], old[0]["id"]);
}
