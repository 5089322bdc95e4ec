//! The pickup that a photographed QR code cannot steal (SPEC rule 5, issue 11): the phone
//! proves the PIN to the server before anything is released, and Apple devices make their own
//! key through the profile's SCEP payload (RFC 8894). The device is played by an independent
//! SCEP client, micromdm's `scepclient` (Debian's `scep` package), fed with the URL and the
//! challenge taken from the profile exactly as an iPhone takes them.

use crate::both;
use crate::helpers::{activated_user, call, client, ok, Backend, TestApp};
use crate::pickup::{
    assert_refused, certificates_of, download_with, json, request, show_link, token_of, unlock,
    ANDROID, IPHONE,
};
use app::domain::lifecycle::State;
use app::ssr::db;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn p(path: &Path) -> String {
    path.display().to_string()
}

async fn link_row(app: &TestApp, token: &str) -> db::LinkRow {
    let mut c = app.services.conn().await.unwrap();
    db::link_rows::link_by_hash(&mut c, &app::ssr::ids::token_hash(token))
        .await
        .unwrap()
        .unwrap()
}

async fn audit_actions(app: &TestApp) -> Vec<(String, String)> {
    let mut c = app.services.conn().await.unwrap();
    let rows = sqlx::query("SELECT action, result FROM audit ORDER BY id")
        .fetch_all(&mut *c)
        .await
        .unwrap();
    use sqlx::Row;
    rows.iter()
        .map(|r| (r.get::<String, _>(0), r.get::<String, _>(1)))
        .collect()
}

/// The SCEP payload of a profile, read with Python's plistlib: the payload types, the
/// profile's ConsentText and RemovalDate (as a Unix time), and the SCEP payload's content.
fn read_profile(app: &TestApp, bytes: &[u8], tag: &str) -> Value {
    let file = app.path(&format!("{tag}.mobileconfig"));
    std::fs::write(&file, bytes).unwrap();
    let script = r#"
import json, plistlib, sys, calendar
with open(sys.argv[1], 'rb') as f:
    pl = plistlib.load(f)
out = {'types': [p['PayloadType'] for p in pl['PayloadContent']],
       'consent': pl.get('ConsentText'),
       'identifier': pl['PayloadIdentifier'],
       'removal': calendar.timegm(pl['RemovalDate'].timetuple())}
for p in pl['PayloadContent']:
    if p['PayloadType'] == 'com.apple.security.scep':
        out['scep'] = p['PayloadContent']
print(json.dumps(out))
"#;
    let out = ok("python3", &["-c", script, &p(&file)]);
    serde_json::from_str(out.trim()).unwrap()
}

/// The SHA-256 fingerprint of the RA certificate in `GetCACert`, found with openssl (the
/// client is told which of the two certificates to encrypt to, as `-ca-fingerprint`).
async fn ra_fingerprint(app: &TestApp, dir: &Path) -> String {
    let r = client()
        .get(format!("{}/scep?operation=GetCACert", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-type"], "application/x-x509-ca-ra-cert");
    std::fs::write(dir.join("cacert.p7"), r.bytes().await.unwrap()).unwrap();
    let pems = ok(
        "openssl",
        &[
            "pkcs7",
            "-inform",
            "DER",
            "-in",
            &p(&dir.join("cacert.p7")),
            "-print_certs",
        ],
    );
    let mut found = None;
    let mut n = 0;
    for block in pems.split("-----END CERTIFICATE-----") {
        let Some(start) = block.find("-----BEGIN CERTIFICATE-----") else {
            continue;
        };
        n += 1;
        let file = dir.join(format!("cacert-{n}.pem"));
        std::fs::write(
            &file,
            format!("{}-----END CERTIFICATE-----\n", &block[start..]),
        )
        .unwrap();
        let info = ok(
            "openssl",
            &[
                "x509",
                "-in",
                &p(&file),
                "-noout",
                "-subject",
                "-fingerprint",
                "-sha256",
                "-ext",
                "keyUsage",
            ],
        );
        if info.contains("certportal SCEP RA") {
            assert!(info.contains("Key Encipherment"), "{info}");
            found = info
                .lines()
                .find_map(|l| l.split_once("Fingerprint=").map(|(_, f)| f.to_string()));
        }
    }
    assert_eq!(n, 2, "the CA and the RA");
    found.expect("an RA certificate")
}

/// Runs `scepclient` in its own directory: it makes an RSA key of `bits`, sends a PKCSReq
/// with `challenge`, and writes the certificate it gets. Returns (success, output, dir).
async fn scepclient(
    app: &TestApp,
    tag: &str,
    challenge: &str,
    fingerprint: &str,
    bits: u32,
) -> (bool, String, PathBuf) {
    let dir = app.dir.path().join(format!("scep-{tag}"));
    std::fs::create_dir_all(&dir).unwrap();
    let args = vec![
        "-server-url".to_string(),
        format!("{}/scep", app.base),
        "-challenge".into(),
        challenge.into(),
        "-private-key".into(),
        p(&dir.join("key.pem")),
        "-certificate".into(),
        p(&dir.join("cert.pem")),
        "-ca-fingerprint".into(),
        fingerprint.into(),
        "-keySize".into(),
        bits.to_string(),
        // What the device asks for; the portal signs what the enrollment says.
        "-cn".into(),
        "asked-for-by-the-device".into(),
    ];
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("scepclient")
            .args(&args)
            .output()
            .expect("scepclient (Debian package scep) is installed by .ci/test")
    })
    .await
    .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let success = out.status.success() && dir.join("cert.pem").exists();
    (success, text, dir)
}

/// Unlocks a link with its PIN and downloads the iPhone's profile: (grant, profile).
async fn profile_of(app: &TestApp, token: &str, pin: &str, tag: &str) -> (String, Value) {
    let (_, grant) = unlock(app, token, pin).await;
    let grant = grant.expect("PIN accepted");
    let r = download_with(app, token, Some(&grant), "mobileconfig", IPHONE).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-type"],
        "application/x-apple-aspen-config"
    );
    let bytes = r.bytes().await.unwrap();
    (grant, read_profile(app, &bytes, tag))
}

/// A user whose certificate a device enrolled through SCEP (PIN, profile, `scepclient`):
/// (session, entry, certificate PEM path, key PEM path).
pub(crate) async fn scep_enrolled(
    app: &TestApp,
    login: &str,
) -> (String, String, PathBuf, PathBuf) {
    let user = activated_user(app, login, false).await;
    let entry = request(app, &user, "iPhone").await;
    let (url, pin, _, _) = show_link(app, &user, &entry).await;
    let (_, profile) = profile_of(app, &token_of(&url), &pin, login).await;
    let challenge = profile["scep"]["Challenge"].as_str().unwrap().to_string();
    let dir = app.dir.path().join(format!("ra-{login}"));
    std::fs::create_dir_all(&dir).unwrap();
    let fp = ra_fingerprint(app, &dir).await;
    let (good, out, d) = scepclient(app, login, &challenge, &fp, 2048).await;
    assert!(good, "{out}");
    (user, entry, d.join("cert.pem"), d.join("key.pem"))
}

async fn link_status(app: &TestApp, user: &str, link_cookie: &str, entry: &str) -> Value {
    let both = format!("certportal={user}; {link_cookie}");
    json(
        call(
            app,
            "current_renewal_link",
            &[("entry", entry)],
            Some(&both),
        )
        .await,
    )
    .await["status"]
        .clone()
}

async fn scep_enrollment(backend: Backend) {
    // Real clock: openssl checks validity against its own clock.
    let app = crate::helpers::spawn_at(backend, crate::helpers::real_now()).await;
    let sora = activated_user(&app, "sora", false).await;
    let entry = request(&app, &sora, "iPhone").await;
    let (url, pin, _, link_cookie) = show_link(&app, &sora, &entry).await;
    let token = token_of(&url);

    let caps = client()
        .get(format!("{}/scep?operation=GetCACaps", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for cap in ["POSTPKIOperation", "SHA-256", "AES", "SCEPStandard"] {
        assert!(caps.lines().any(|l| l == cap), "{cap} in {caps}");
    }

    // The profile: the CA and a SCEP payload with the challenge; a device-made RSA-2048 key
    // that cannot be exported; consent text in English and Japanese; removed at the end.
    let (grant, profile) = profile_of(&app, &token, &pin, "first").await;
    assert_eq!(
        profile["types"],
        serde_json::json!(["com.apple.security.root", "com.apple.security.scep"])
    );
    let scep = &profile["scep"];
    assert_eq!(
        scep["URL"],
        format!("{}/scep", app.services.public_url.trim_end_matches('/'))
    );
    assert_eq!(scep["Keysize"], 2048);
    assert_eq!(scep["Key Type"], "RSA");
    assert_eq!(scep["KeyIsExtractable"], false);
    assert_eq!(scep["SubjectAltName"]["rfc822Name"], "sora@example.com");
    let challenge = scep["Challenge"].as_str().unwrap().to_string();
    assert!(challenge.len() >= 40, "{challenge}");
    assert!(profile["consent"]["ja"]
        .as_str()
        .unwrap()
        .contains("証明書"));
    assert!(profile["consent"]["en"]
        .as_str()
        .unwrap()
        .contains("client certificate"));
    let year = 365 * 86_400;
    let removal = profile["removal"].as_i64().unwrap();
    assert!(
        (removal - (app.clock_now() + year)).abs() < 3600,
        "{removal}"
    );
    // Nothing is signed until the device enrolls; the link stays open; the desktop sees it.
    assert!(certificates_of(&app, "sora").await.is_empty());
    let st = link_status(&app, &sora, &link_cookie, &entry).await;
    assert!(
        st["profile_at"].is_i64() && st["picked_at"].is_null(),
        "{st}"
    );
    // An abandoned install costs nothing: the same grant gives the same challenge again.
    let again = download_with(&app, &token, Some(&grant), "mobileconfig", IPHONE).await;
    let again = read_profile(&app, &again.bytes().await.unwrap(), "again");
    assert_eq!(again["scep"]["Challenge"], challenge.as_str());

    let dir = app.dir.path().join("ra");
    std::fs::create_dir_all(&dir).unwrap();
    let fp = ra_fingerprint(&app, &dir).await;

    // A key weaker than the policy allows is refused and changes nothing.
    let (good, out, _) = scepclient(&app, "weak", &challenge, &fp, 1024).await;
    assert!(!good && out.contains("badRequest"), "{out}");
    assert!(certificates_of(&app, "sora").await.is_empty());
    assert!(link_row(&app, &token).await.used_at.is_none());

    // Two devices with one challenge at once: exactly one certificate.
    let (a, b) = tokio::join!(
        scepclient(&app, "a", &challenge, &fp, 2048),
        scepclient(&app, "b", &challenge, &fp, 2048)
    );
    assert!(a.0 ^ b.0, "exactly one enrolls:\n{}\n{}", a.1, b.1);
    let (_, loser_out, _) = if a.0 { &b } else { &a };
    assert!(loser_out.contains("badRequest"), "{loser_out}");
    let winner = if a.0 { &a.2 } else { &b.2 };
    let certs = certificates_of(&app, "sora").await;
    assert_eq!(certs.len(), 1);
    assert_eq!(certs[0].state, State::Issued);

    // The certificate chains to /ca.pem, is for client authentication, names the user (not
    // what the device asked for), and carries the device's own key.
    let ca = dir.join("ca.pem");
    let pem = client()
        .get(format!("{}/ca.pem", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    std::fs::write(&ca, pem).unwrap();
    let cert = winner.join("cert.pem");
    let verify = ok("openssl", &["verify", "-CAfile", &p(&ca), &p(&cert)]);
    assert!(verify.contains(": OK"), "{verify}");
    let text = ok("openssl", &["x509", "-in", &p(&cert), "-noout", "-text"]);
    assert!(text.contains("TLS Web Client Authentication"), "{text}");
    assert!(text.contains("email:sora@example.com"), "{text}");
    assert!(!text.contains("asked-for-by-the-device"), "{text}");
    let serial = ok("openssl", &["x509", "-in", &p(&cert), "-noout", "-serial"]);
    assert!(
        serial.trim().ends_with(&certs[0].serial_hex),
        "{serial} vs {}",
        certs[0].serial_hex
    );
    let cert_key = ok("openssl", &["x509", "-in", &p(&cert), "-noout", "-pubkey"]);
    let own_key = ok(
        "openssl",
        &["pkey", "-in", &p(&winner.join("key.pem")), "-pubout"],
    );
    assert_eq!(cert_key, own_key, "the device's own key");

    // A replayed challenge is refused; the desktop shows the enrollment live.
    let (good, out, _) = scepclient(&app, "replay", &challenge, &fp, 2048).await;
    assert!(!good && out.contains("badRequest"), "{out}");
    assert_eq!(certificates_of(&app, "sora").await.len(), 1);
    let st = link_status(&app, &sora, &link_cookie, &entry).await;
    assert_eq!(st["picked_format"], "scep", "{st}");
    assert!(st["picked_at"].is_i64());
    let audit = audit_actions(&app).await;
    assert!(
        audit.contains(&("scep.enroll".into(), "ok".into())),
        "{audit:?}"
    );
    assert!(
        audit.contains(&("scep.enroll".into(), "badRequest".into())),
        "{audit:?}"
    );

    // A renewal supersedes the old certificate only when the device enrolls.
    let (url2, pin2, _, _) = show_link(&app, &sora, &entry).await;
    let token2 = token_of(&url2);
    let (_, profile2) = profile_of(&app, &token2, &pin2, "renewal").await;
    assert_eq!(
        profile2["identifier"], profile["identifier"],
        "replaces the profile"
    );
    let challenge2 = profile2["scep"]["Challenge"].as_str().unwrap().to_string();
    assert_ne!(challenge2, challenge);
    let certs = certificates_of(&app, "sora").await;
    assert_eq!(certs.len(), 1);
    assert_eq!(
        certs[0].state,
        State::Issued,
        "still valid before the device enrolls"
    );
    let (good, out, _) = scepclient(&app, "renewal", &challenge2, &fp, 2048).await;
    assert!(good, "{out}");
    let certs = certificates_of(&app, "sora").await;
    assert_eq!(certs.len(), 2);
    let states: Vec<State> = certs.iter().map(|c| c.state).collect();
    assert!(
        states.contains(&State::Superseded) && states.contains(&State::Issued),
        "{states:?}"
    );

    // Garbage is refused without an answer to sign.
    let r = client()
        .post(format!("{}/scep?operation=PKIOperation", app.base))
        .body(b"not a pkcs7 message".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    app.stop().await;
}

both!(scep_enrolls_like_an_iphone, scep_enrollment);

async fn pin_check(backend: Backend) {
    let app = crate::helpers::spawn(backend).await;
    app.set_policy(|p| p.max_active_per_user = 10).await;
    let kai = activated_user(&app, "kai", false).await;
    let entry = request(&app, &kai, "Pixel").await;
    let (url, pin, _, link_cookie) = show_link(&app, &kai, &entry).await;
    let token = token_of(&url);

    // Opening the link (a person, a preview bot, a scanner) changes nothing.
    for ua in [
        ANDROID,
        "Slackbot-LinkExpanding 1.0",
        "Microsoft Office/16.0",
    ] {
        let r = client()
            .get(format!("{}/pickup/{token}", app.base))
            .header("user-agent", ua)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    let l = link_row(&app, &token).await;
    assert!(l.used_at.is_none() && l.unlocked_at.is_none() && l.pin_failures == 0);

    // Wrong PINs are counted and say how many attempts are left; the owner's right PIN
    // still works after four.
    let wrong = if pin.starts_with('2') {
        "33333333"
    } else {
        "22222222"
    };
    for left in (1..=4).rev() {
        let (r, grant) = unlock(&app, &token, wrong).await;
        assert!(grant.is_none());
        let loc = r.headers()["location"].to_str().unwrap().to_string();
        assert!(
            loc.ends_with(&format!("?error=pin_wrong&left={left}")),
            "{loc}"
        );
    }
    let st = link_status(&app, &kai, &link_cookie, &entry).await;
    assert_eq!(st["pin_failures"], 4);
    let (_, grant) = unlock(&app, &token, &format!(" {} ", pin.to_lowercase())).await;
    let grant = grant.expect("spaces and case do not matter");
    assert!(
        certificates_of(&app, "kai").await.is_empty(),
        "the PIN alone signs nothing"
    );

    // A grant belongs to its link.
    let entry_b = request(&app, &kai, "Tablet").await;
    let (url_b, pin_b, _, cookie_b) = show_link(&app, &kai, &entry_b).await;
    let token_b = token_of(&url_b);
    assert_refused(
        &download_with(&app, &token_b, Some(&grant), "p12", ANDROID).await,
        "pin_required",
    );

    // Two taps on one grant: one bundle, and the page then says "downloaded" kindly.
    let (x, y) = tokio::join!(
        download_with(&app, &token, Some(&grant), "p12", ANDROID),
        download_with(&app, &token, Some(&grant), "p12", ANDROID)
    );
    let oks = [&x, &y].iter().filter(|r| r.status() == 200).count();
    assert_eq!(oks, 1, "{} {}", x.status(), y.status());
    assert_eq!(certificates_of(&app, "kai").await.len(), 1);
    let page = client()
        .get(format!("{}/pickup/{token}", app.base))
        .header("cookie", &grant)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("data-testid=\"pickup-downloaded\""), "{page}");
    let st = link_status(&app, &kai, &link_cookie, &entry).await;
    assert_eq!(st["picked_format"], "p12");
    // Say that download broke off on the phone: the computer shows it was picked up and
    // offers the way forward, a renewal link; its pickup supersedes the lost certificate.
    let lost = certificates_of(&app, "kai").await[0].clone();
    let (url_r, _, _, _) = show_link(&app, &kai, &entry).await;
    let r = crate::pickup::download(&app, &token_of(&url_r), "p12", ANDROID).await;
    assert_eq!(r.status(), 200);
    let certs = certificates_of(&app, "kai").await;
    assert_eq!(certs.len(), 2);
    let old = certs.iter().find(|c| c.id == lost.id).unwrap();
    assert_eq!(old.state, State::Superseded, "the lost one is replaced");
    assert!(certs.iter().any(|c| c.state == State::Issued));

    // Five wrong PINs lock the link: audited, shown on the desktop, the right PIN no longer
    // helps, and nothing was signed.
    for _ in 0..4 {
        unlock(&app, &token_b, wrong).await;
    }
    let (r, _) = unlock(&app, &token_b, wrong).await;
    assert_refused(&r, "link_locked");
    let (r, grant) = unlock(&app, &token_b, &pin_b).await;
    assert!(grant.is_none());
    assert_refused(&r, "link_locked");
    let st = link_status(&app, &kai, &cookie_b, &entry_b).await;
    assert_eq!(st["problem"], "link_locked", "{st}");
    assert_eq!(certificates_of(&app, "kai").await.len(), 2);
    let audit = audit_actions(&app).await;
    assert_eq!(
        audit.iter().filter(|(a, _)| a == "link.pin_failed").count(),
        8
    );
    assert_eq!(audit.iter().filter(|(a, _)| a == "link.locked").count(), 1);

    // A grant ends: after ten minutes the PIN is needed again.
    let (url_c, pin_c, _, _) = show_link(&app, &kai, &request(&app, &kai, "Watch").await).await;
    let token_c = token_of(&url_c);
    let (_, grant_c) = unlock(&app, &token_c, &pin_c).await;
    app.clock.advance(app::ssr::links::GRANT_SECS + 1);
    assert_refused(
        &download_with(&app, &token_c, grant_c.as_deref(), "p12", ANDROID).await,
        "pin_required",
    );
    // The background task forgets grants a day after they ended, and only those.
    let grants = || async {
        let mut c = app.services.conn().await.unwrap();
        use sqlx::Row;
        sqlx::query("SELECT COUNT(*) AS n FROM pickup_grants")
            .fetch_one(&mut *c)
            .await
            .unwrap()
            .get::<i64, _>("n")
    };
    let before = grants().await;
    assert!(before >= 3, "{before}");
    server::background_tick(&app.services).await;
    assert_eq!(grants().await, before);
    app.clock.advance(86_400);
    server::background_tick(&app.services).await;
    assert_eq!(grants().await, 0);
    app.stop().await;
}

both!(the_pin_is_proven_before_anything_is_released, pin_check);

/// Wrong PINs are also throttled per client address, across links: whoever guesses on many
/// links from one address is stopped, even on a link they have the right PIN for.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_pins_are_throttled_per_address() {
    let app = crate::helpers::spawn(Backend::Sqlite).await;
    app.set_policy(|p| p.max_active_per_user = 20).await;
    let mia = activated_user(&app, "mia", false).await;
    let mut throttled_at = None;
    let mut attempts = 0;
    'links: for i in 0..8 {
        let entry = request(&app, &mia, &format!("device {i}")).await;
        let (url, pin, _, _) = show_link(&app, &mia, &entry).await;
        let token = token_of(&url);
        let wrong = if pin.starts_with('2') {
            "33333333"
        } else {
            "22222222"
        };
        for _ in 0..5 {
            attempts += 1;
            let (r, _) = unlock(&app, &token, wrong).await;
            let loc = r.headers()["location"].to_str().unwrap().to_string();
            if loc.contains("error=throttled") {
                throttled_at = Some(attempts);
                // Even the right PIN waits now.
                let (r, grant) = unlock(&app, &token, &pin).await;
                assert!(grant.is_none());
                assert_refused(&r, "throttled");
                break 'links;
            }
        }
    }
    let at = throttled_at.expect("throttled");
    assert!(
        at > 30 && at <= 32,
        "throttled after the address's 30 free failures: {at}"
    );
    app.stop().await;
}

/// With a signing certificate and key configured (ECDSA P-256 or RSA, PKCS#8, made here with
/// openssl), every profile is a CMS SignedData that `openssl cms -verify` accepts against that
/// certificate, and whose content is the profile; a changed byte fails the check. A key that
/// does not belong to the certificate stops start-up, naming the setting.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profiles_are_signed_when_a_signer_is_configured() {
    use server::config::{PROFILE_CERT_SETTING, PROFILE_KEY_SETTING};
    let keys = tempfile::tempdir().unwrap();
    let k = |name: &str| keys.path().join(name);
    for kind in ["ec", "rsa"] {
        let newkey: &[&str] = if kind == "ec" {
            &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]
        } else {
            &["-newkey", "rsa:2048"]
        };
        let (cert, key) = (k(&format!("{kind}.crt")), k(&format!("{kind}.key")));
        let mut args = vec!["req", "-x509", "-nodes"];
        args.extend(newkey);
        let (cert_s, key_s) = (p(&cert), p(&key));
        args.extend([
            "-keyout",
            &key_s,
            "-out",
            &cert_s,
            "-days",
            "2",
            "-subj",
            "/CN=portal.example",
        ]);
        ok("openssl", &args);
        let app = crate::helpers::spawn_with(&[
            (PROFILE_CERT_SETTING, cert_s.clone()),
            (PROFILE_KEY_SETTING, key_s.clone()),
        ])
        .await;
        let user = activated_user(&app, "vera", false).await;
        let entry = request(&app, &user, "iPhone").await;
        let (url, pin, _, _) = show_link(&app, &user, &entry).await;
        let token = token_of(&url);
        let (_, grant) = unlock(&app, &token, &pin).await;
        let r = download_with(&app, &token, grant.as_deref(), "mobileconfig", IPHONE).await;
        assert_eq!(r.status(), 200);
        let signed = r.bytes().await.unwrap().to_vec();
        assert!(!signed.starts_with(b"<?xml"), "a signed profile is DER");
        let file = app.path(&format!("{kind}.mobileconfig"));
        std::fs::write(&file, &signed).unwrap();
        let content = app.path(&format!("{kind}.xml"));
        let verify = || {
            crate::helpers::run(
                "openssl",
                &[
                    "cms",
                    "-verify",
                    "-inform",
                    "DER",
                    "-in",
                    &p(&file),
                    "-CAfile",
                    &cert_s,
                    "-purpose",
                    "any",
                    "-out",
                    &p(&content),
                ],
            )
        };
        let (good, out) = verify();
        assert!(good && out.contains("Verification successful"), "{out}");
        let profile = read_profile(&app, &std::fs::read(&content).unwrap(), kind);
        assert_eq!(
            profile["types"],
            serde_json::json!(["com.apple.security.root", "com.apple.security.scep"])
        );
        // A changed byte in the signed content fails the check.
        let mut tampered = signed.clone();
        let at = signed.windows(9).position(|w| w == b"Challenge").unwrap();
        tampered[at] ^= 0x20;
        std::fs::write(&file, &tampered).unwrap();
        let (good, out) = verify();
        assert!(!good, "{out}");
        app.stop().await;
    }
    let mismatched = server::config::profile_signer(&(k("ec.crt"), k("rsa.key"))).unwrap_err();
    assert_eq!(mismatched.setting, PROFILE_KEY_SETTING);
    assert!(
        mismatched.reason.contains("does not belong"),
        "{mismatched:?}"
    );
    let missing = server::config::profile_signer(&(k("none.crt"), k("rsa.key"))).unwrap_err();
    assert_eq!(missing.setting, PROFILE_CERT_SETTING);
}
