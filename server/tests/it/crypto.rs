//! Certificates, bundles, CRLs and the CA key checked with independent tools: `openssl`
//! (x509, verify with -crl_check, pkcs12, pkcs8, crl) and Java's `keytool`.

use crate::helpers::{ok, real_now, run, spawn_at, Backend, TestApp, PASSPHRASE};
use app::domain::lifecycle::RevocationReason;
use app::domain::policy::P12Form;
use app::ssr::certs::{self, NewEnrollment};

const PIN: &str = "K7MQ2XRD";

/// The current CA certificate as `/ca.pem` serves it, written to `ca.pem`, and the CA key's
/// backup file in the data directory.
async fn ca_files(app: &TestApp) -> (std::path::PathBuf, std::path::PathBuf) {
    let ca_pem = reqwest::get(format!("{}/ca.pem", app.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let ca_file = app.path("ca.pem");
    std::fs::write(&ca_file, &ca_pem).unwrap();
    let key_file = std::fs::read_dir(app.cfg.data_dir.join("ca"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with(".key.pem"))
        .unwrap();
    (ca_file, key_file)
}

fn path_str(p: &std::path::Path) -> String {
    p.display().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificates_bundles_and_crls_pass_openssl_and_keytool() {
    // openssl checks CRL dates against the real clock.
    let app = spawn_at(Backend::Sqlite, real_now()).await;
    let admin = app.add_user("admin", true).await;
    let user = app.add_user("taro", false).await;
    let actor = app.actor(&admin);

    // The CA certificate as served, and its key file on disk: encrypted, mode 0600.
    let (ca_file, key_file) = ca_files(&app).await;
    let ca_text = ok(
        "openssl",
        &["x509", "-in", &path_str(&ca_file), "-noout", "-text"],
    );
    assert!(ca_text.contains("CA:TRUE"), "{ca_text}");
    assert!(
        ca_text.contains("prime256v1") || ca_text.contains("P-256"),
        "{ca_text}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "CA key file mode");
    }
    let key_text = std::fs::read_to_string(&key_file).unwrap();
    assert!(key_text.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
    let k = path_str(&key_file);
    ok(
        "openssl",
        &[
            "pkcs8",
            "-in",
            &k,
            "-passin",
            &format!("pass:{PASSPHRASE}"),
            "-out",
            "/dev/null",
        ],
    );
    let (wrong, _) = run(
        "openssl",
        &[
            "pkcs8",
            "-in",
            &k,
            "-passin",
            "pass:not the passphrase",
            "-out",
            "/dev/null",
        ],
    );
    assert!(!wrong, "the CA key must not open without the passphrase");

    for form in [P12Form::Legacy, P12Form::Modern] {
        let e = certs::create_enrollment(
            &app.services,
            &actor,
            &NewEnrollment {
                user_id: user.id.clone(),
                device_label: app::domain::validate::DeviceLabel::parse(&format!("{form:?}"))
                    .unwrap(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let got = certs::pick_up(&app.services, &actor, &e.id, PIN, Some(form))
            .await
            .unwrap();
        let tag = format!("{form:?}").to_lowercase();
        let p12 = app.path(&format!("{tag}.p12"));
        std::fs::write(&p12, &got.p12).unwrap();
        let p12s = path_str(&p12);

        // openssl reads the bundle with the PIN, and only with it.
        let info = ok(
            "openssl",
            &[
                "pkcs12",
                "-in",
                &p12s,
                "-passin",
                &format!("pass:{PIN}"),
                "-info",
                "-noout",
            ],
        );
        match form {
            P12Form::Legacy => {
                assert!(info.contains("MAC: sha1"), "{info}");
                assert!(info.contains("pbeWithSHA1And3-KeyTripleDES-CBC"), "{info}");
            }
            P12Form::Modern => {
                assert!(info.contains("MAC: sha256"), "{info}");
                assert!(info.contains("AES-256-CBC"), "{info}");
                assert!(!info.contains("TripleDES"), "{info}");
            }
        }
        let (bad, _) = run(
            "openssl",
            &[
                "pkcs12",
                "-in",
                &p12s,
                "-passin",
                "pass:WRONGPIN",
                "-info",
                "-noout",
            ],
        );
        assert!(!bad, "a wrong PIN must not open the bundle");
        let (empty, _) = run(
            "openssl",
            &[
                "pkcs12", "-in", &p12s, "-passin", "pass:", "-info", "-noout",
            ],
        );
        assert!(!empty, "an empty password must not open the bundle");

        // The leaf certificate carries what SPEC.md asks for.
        let leaf = app.path(&format!("{tag}.crt"));
        ok(
            "openssl",
            &[
                "pkcs12",
                "-in",
                &p12s,
                "-passin",
                &format!("pass:{PIN}"),
                "-clcerts",
                "-nokeys",
                "-out",
                &path_str(&leaf),
            ],
        );
        let text = ok(
            "openssl",
            &["x509", "-in", &path_str(&leaf), "-noout", "-text"],
        );
        assert!(text.contains("TLS Web Client Authentication"), "{text}");
        assert!(!text.contains("TLS Web Server Authentication"), "{text}");
        assert!(text.contains("email:taro@example.com"), "{text}");
        assert!(
            text.contains("UPN") && text.contains("taro@corp.example"),
            "{text}"
        );
        assert!(
            text.contains("CN = taro Display") || text.contains("CN=taro Display"),
            "{text}"
        );
        assert!(
            text.contains(&format!(
                "{}/crl/{}.crl",
                app.services.public_url, got.certificate.ca_id
            )),
            "{text}"
        );
        assert!(text.contains("CA:FALSE"), "{text}");
        let serial = ok(
            "openssl",
            &["x509", "-in", &path_str(&leaf), "-noout", "-serial"],
        );
        let hexpart = serial.trim().trim_start_matches("serial=");
        assert!(
            hexpart.len() >= 16,
            "serial has at least 64 bits: {hexpart}"
        );
        assert_eq!(hexpart.to_uppercase(), got.certificate.serial_hex);
        let fp = ok(
            "openssl",
            &[
                "x509",
                "-in",
                &path_str(&leaf),
                "-noout",
                "-fingerprint",
                "-sha256",
            ],
        );
        assert!(fp.contains(&got.certificate.fingerprint_sha256), "{fp}");
        let verify = ok(
            "openssl",
            &["verify", "-CAfile", &path_str(&ca_file), &path_str(&leaf)],
        );
        assert!(verify.contains(": OK"), "{verify}");

        // The key in the bundle matches the certificate.
        let key_out = app.path(&format!("{tag}.key"));
        ok(
            "openssl",
            &[
                "pkcs12",
                "-in",
                &p12s,
                "-passin",
                &format!("pass:{PIN}"),
                "-nocerts",
                "-nodes",
                "-out",
                &path_str(&key_out),
            ],
        );
        let pub_from_key = ok("openssl", &["pkey", "-in", &path_str(&key_out), "-pubout"]);
        let pub_from_cert = ok(
            "openssl",
            &["x509", "-in", &path_str(&leaf), "-noout", "-pubkey"],
        );
        assert_eq!(pub_from_key.trim(), pub_from_cert.trim());

        // Java reads it too.
        let ks = ok(
            "keytool",
            &[
                "-list",
                "-storetype",
                "PKCS12",
                "-keystore",
                &p12s,
                "-storepass",
                PIN,
            ],
        );
        assert!(ks.contains("PrivateKeyEntry"), "{ks}");
        assert!(ks.contains("1 entry"), "{ks}");

        if form == P12Form::Modern {
            // Revoke it: the CRL served over HTTP now lists it and openssl refuses it.
            let before = ok(
                "openssl",
                &[
                    "verify",
                    "-crl_check",
                    "-CAfile",
                    &path_str(&ca_file),
                    "-CRLfile",
                    &path_str(&{
                        let p = app.path("crl-before.pem");
                        let pem = reqwest::get(format!("{}/crl/current.pem", app.base))
                            .await
                            .unwrap()
                            .text()
                            .await
                            .unwrap();
                        std::fs::write(&p, pem).unwrap();
                        p
                    }),
                    &path_str(&leaf),
                ],
            );
            assert!(before.contains(": OK"), "{before}");
            certs::revoke_certificate(
                &app.services,
                &actor,
                &got.certificate.id,
                RevocationReason::KeyCompromise,
            )
            .await
            .unwrap();
            let der = reqwest::get(format!("{}/crl/{}.crl", app.base, got.certificate.ca_id))
                .await
                .unwrap();
            assert_eq!(der.headers()["content-type"], "application/pkix-crl");
            let crl_der = app.path("crl.der");
            std::fs::write(&crl_der, der.bytes().await.unwrap()).unwrap();
            let crl_pem = app.path("crl.pem");
            let crl_text = ok(
                "openssl",
                &[
                    "crl",
                    "-inform",
                    "DER",
                    "-in",
                    &path_str(&crl_der),
                    "-CAfile",
                    &path_str(&ca_file),
                    "-noout",
                    "-text",
                    "-verify",
                ],
            );
            assert!(
                crl_text.contains("verify OK") || crl_text.contains("verify ok"),
                "{crl_text}"
            );
            assert!(crl_text.contains(&got.certificate.serial_hex), "{crl_text}");
            assert!(crl_text.contains("Key Compromise"), "{crl_text}");
            assert!(crl_text.contains("Next Update"), "{crl_text}");
            ok(
                "openssl",
                &[
                    "crl",
                    "-inform",
                    "DER",
                    "-in",
                    &path_str(&crl_der),
                    "-out",
                    &path_str(&crl_pem),
                ],
            );
            let (still_ok, out) = run(
                "openssl",
                &[
                    "verify",
                    "-crl_check",
                    "-CAfile",
                    &path_str(&ca_file),
                    "-CRLfile",
                    &path_str(&crl_pem),
                    &path_str(&leaf),
                ],
            );
            assert!(
                !still_ok,
                "a revoked certificate must fail verification:\n{out}"
            );
            assert!(out.contains("certificate revoked"), "{out}");
        }
    }
    app.stop().await;
}

/// The portal CA carries the clientAuth EKU: even a certificate its key signed for a TLS
/// server is refused for that purpose by openssl, while client certificates verify.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ca_vouches_for_client_certificates_only() {
    let app = spawn_at(Backend::Sqlite, real_now()).await;
    let (ca_file, key_file) = ca_files(&app).await;
    let text = ok(
        "openssl",
        &["x509", "-in", &path_str(&ca_file), "-noout", "-text"],
    );
    assert!(text.contains("TLS Web Client Authentication"), "{text}");
    let p = |n: &str| path_str(&app.path(n));
    for (name, eku, purpose, accepted) in [
        ("server", "serverAuth", "sslserver", false),
        ("client", "clientAuth", "sslclient", true),
    ] {
        ok(
            "openssl",
            &[
                "req",
                "-new",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                &p(&format!("{name}.key")),
                "-subj",
                &format!("/CN={name}.example"),
                "-out",
                &p(&format!("{name}.csr")),
            ],
        );
        std::fs::write(
            app.path(&format!("{name}.ext")),
            format!("extendedKeyUsage={eku}\nsubjectAltName=DNS:{name}.example\n"),
        )
        .unwrap();
        ok(
            "openssl",
            &[
                "x509",
                "-req",
                "-in",
                &p(&format!("{name}.csr")),
                "-CA",
                &p("ca.pem"),
                "-CAkey",
                &path_str(&key_file),
                "-passin",
                &format!("pass:{PASSPHRASE}"),
                "-days",
                "1",
                "-extfile",
                &p(&format!("{name}.ext")),
                "-out",
                &p(&format!("{name}.pem")),
            ],
        );
        let (verified, out) = run(
            "openssl",
            &[
                "verify",
                "-purpose",
                purpose,
                "-CAfile",
                &p("ca.pem"),
                &p(&format!("{name}.pem")),
            ],
        );
        assert_eq!(verified, accepted, "{name}: {out}");
        if !accepted {
            assert!(out.contains("certificate purpose"), "{out}");
        }
    }
    app.stop().await;
}
