//! User self-service through the real HTTP API: request, "Show renewal URL" (QR decoded back
//! with rqrr), the phone's downloads checked by independent tools (Python's plistlib for the
//! profile, openssl and keytool for the PKCS#12), one-time use, concurrent redemptions over
//! two instances, renewal with the old certificate on the CRL, authorization, the helpdesk
//! CLI, "I lost my device" and the pickup deadline.

use crate::both;
use crate::helpers::{
    activated_user, call, certportal, client, ok, run, spawn, spawn_on, Backend, TestApp,
};
use app::domain::lifecycle::State;
use app::domain::policy::{DistributionMode, Policy};
use app::ssr::db;
use serde_json::Value;

pub(crate) const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1";
const IPHONE_CHROME: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1";
pub(crate) const ANDROID: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36";
const WINDOWS: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0";

pub(crate) async fn json(r: reqwest::Response) -> Value {
    let status = r.status();
    let text = r.text().await.unwrap();
    assert!(status.is_success(), "{status}: {text}");
    serde_json::from_str(&text).unwrap()
}

/// The error code of a refused server function call.
async fn refused(r: reqwest::Response) -> String {
    let status = r.status();
    let text = r.text().await.unwrap();
    assert!(
        !status.is_success(),
        "expected a refusal, got {status}: {text}"
    );
    let v: Value = serde_json::from_str(&text).unwrap_or(Value::String(text.clone()));
    match &v {
        Value::Object(m) if m.contains_key("code") => m["code"].as_str().unwrap().to_string(),
        Value::String(s) => s.to_lowercase(),
        other => other.to_string().to_lowercase(),
    }
}

pub(crate) async fn request(app: &TestApp, cookie: &str, device: &str) -> String {
    let v = json(
        call(
            app,
            "request_certificate",
            &[("device_label", device)],
            Some(cookie),
        )
        .await,
    )
    .await;
    v.as_str().unwrap().to_string()
}

/// "Show renewal URL": returns (url, pin, qr svg, link cookie).
pub(crate) async fn show_link(
    app: &TestApp,
    cookie: &str,
    entry: &str,
) -> (String, String, String, String) {
    let r = call(app, "show_renewal_link", &[("entry", entry)], Some(cookie)).await;
    let set: Vec<String> = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    let link_cookie = set
        .iter()
        .find(|c| c.starts_with("certportal-link="))
        .expect("the link is remembered in this browser");
    assert!(
        link_cookie.contains("HttpOnly") && link_cookie.contains("SameSite=Strict"),
        "{link_cookie}"
    );
    let link_cookie = link_cookie.split(';').next().unwrap().to_string();
    let v = json(r).await;
    let l = &v["Link"];
    (
        l["url"].as_str().unwrap().to_string(),
        l["pin"].as_str().unwrap().to_string(),
        l["qr_svg"].as_str().unwrap().to_string(),
        link_cookie,
    )
}

pub(crate) fn token_of(url: &str) -> String {
    url.rsplit('/').next().unwrap().to_string()
}

/// Types `pin` into the landing page's PIN form as a phone would. Returns the redirect and,
/// when the PIN was accepted, the grant cookie (`name=value`).
pub(crate) async fn unlock(
    app: &TestApp,
    token: &str,
    pin: &str,
) -> (reqwest::Response, Option<String>) {
    let r = client()
        .post(format!("{}/pickup/{token}/unlock", app.base))
        .form(&[("pin", pin)])
        .send()
        .await
        .unwrap();
    let grant = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("certportal-grant="))
        .map(|c| {
            assert!(
                c.contains("HttpOnly") && c.contains("SameSite=Strict"),
                "{c}"
            );
            c.split(';').next().unwrap().to_string()
        });
    (r, grant)
}

/// POSTs the install step with a grant cookie.
pub(crate) async fn download_with(
    app: &TestApp,
    token: &str,
    grant: Option<&str>,
    format: &str,
    ua: &str,
) -> reqwest::Response {
    let mut req = client()
        .post(format!("{}/pickup/{token}/download", app.base))
        .header("user-agent", ua)
        .form(&[("format", format)]);
    if let Some(g) = grant {
        req = req.header("cookie", g);
    }
    req.send().await.unwrap()
}

/// Picks a link up as a phone would: the PIN the desktop shows (the portal's own derivation,
/// what the user reads off the screen), then the install step. A refused PIN step returns its
/// redirect.
pub(crate) async fn download(
    app: &TestApp,
    token: &str,
    format: &str,
    ua: &str,
) -> reqwest::Response {
    let pin = app.services.pin_for_token(token).unwrap();
    let (r, grant) = unlock(app, token, &pin).await;
    match grant {
        Some(g) => download_with(app, token, Some(&g), format, ua).await,
        None => r,
    }
}

/// Asserts a refused step: a redirect back to the landing page naming the problem.
pub(crate) fn assert_refused(r: &reqwest::Response, code: &str) {
    assert_eq!(r.status(), 303);
    let loc = r.headers()["location"].to_str().unwrap();
    assert!(
        loc.contains(&format!("?error={code}")),
        "{loc} should say {code}"
    );
}

pub(crate) async fn certificates_of(app: &TestApp, login: &str) -> Vec<db::CertificateRow> {
    let mut c = app.services.conn().await.unwrap();
    let u = db::user_by_login(&mut c, login).await.unwrap().unwrap();
    db::certificates_for_user(&mut c, &u.id).await.unwrap()
}

fn decode_qr(svg: &str) -> String {
    let (px, img) = app::ssr::qr::rasterize(svg, 4).unwrap();
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(px, px, |x, y| img[y * px + x]);
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code");
    grids[0].decode().unwrap().1
}

fn p(path: &std::path::Path) -> String {
    path.display().to_string()
}

/// Checks a PKCS#12 with openssl (opens with the PIN only, chains to /ca.pem) and keytool.
async fn check_p12(app: &TestApp, bytes: &[u8], pin: &str, tag: &str) -> String {
    let file = app.path(&format!("{tag}.p12"));
    std::fs::write(&file, bytes).unwrap();
    let info = ok(
        "openssl",
        &[
            "pkcs12",
            "-in",
            &p(&file),
            "-passin",
            &format!("pass:{pin}"),
            "-info",
            "-noout",
        ],
    );
    assert!(
        info.contains("MAC: sha1") && info.contains("pbeWithSHA1And3-KeyTripleDES-CBC"),
        "legacy form: {info}"
    );
    let (wrong, _) = run(
        "openssl",
        &[
            "pkcs12",
            "-in",
            &p(&file),
            "-passin",
            "pass:AAAAAAAA",
            "-info",
            "-noout",
        ],
    );
    assert!(!wrong, "only the PIN opens the bundle");
    let leaf = app.path(&format!("{tag}.crt"));
    ok(
        "openssl",
        &[
            "pkcs12",
            "-in",
            &p(&file),
            "-passin",
            &format!("pass:{pin}"),
            "-clcerts",
            "-nokeys",
            "-out",
            &p(&leaf),
        ],
    );
    let ca = app.path("ca.pem");
    let pem = client()
        .get(format!("{}/ca.pem", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    std::fs::write(&ca, pem).unwrap();
    let verify = ok(
        "openssl",
        &[
            "verify",
            "-attime",
            &(app.clock_now() + 60).to_string(),
            "-CAfile",
            &p(&ca),
            &p(&leaf),
        ],
    );
    assert!(verify.contains(": OK"), "{verify}");
    let ks = ok(
        "keytool",
        &[
            "-list",
            "-storetype",
            "PKCS12",
            "-keystore",
            &p(&file),
            "-storepass",
            pin,
        ],
    );
    assert!(
        ks.contains("PrivateKeyEntry") && ks.contains("1 entry"),
        "{ks}"
    );
    ok("openssl", &["x509", "-in", &p(&leaf), "-noout", "-serial"])
        .trim()
        .trim_start_matches("serial=")
        .to_string()
}

/// Parses a profile with Python's plistlib and returns (summary JSON, p12 bytes, CA DER).
fn parse_profile(app: &TestApp, bytes: &[u8], tag: &str) -> (Value, Vec<u8>, Vec<u8>) {
    let file = app.path(&format!("{tag}.mobileconfig"));
    std::fs::write(&file, bytes).unwrap();
    let p12 = app.path(&format!("{tag}-profile.p12"));
    let ca = app.path(&format!("{tag}-profile-ca.der"));
    let script = r#"
import json, plistlib, sys
with open(sys.argv[1], 'rb') as f:
    pl = plistlib.load(f)
out = {k: pl[k] for k in ('PayloadType', 'PayloadVersion', 'PayloadIdentifier', 'PayloadUUID', 'PayloadDisplayName') if k in pl}
out['payloads'] = []
for p in pl['PayloadContent']:
    d = {k: v for k, v in p.items() if k != 'PayloadContent'}
    out['payloads'].append(d)
    if p['PayloadType'] == 'com.apple.security.pkcs12':
        open(sys.argv[2], 'wb').write(p['PayloadContent'])
    if p['PayloadType'] == 'com.apple.security.root':
        open(sys.argv[3], 'wb').write(p['PayloadContent'])
print(json.dumps(out))
"#;
    let out = ok("python3", &["-c", script, &p(&file), &p(&p12), &p(&ca)]);
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    (v, std::fs::read(p12).unwrap(), std::fs::read(ca).unwrap())
}

impl TestApp {
    pub(crate) fn clock_now(&self) -> i64 {
        use app::ssr::clock::Clock;
        self.clock.now()
    }

    pub(crate) async fn set_policy(&self, change: impl FnOnce(&mut Policy)) {
        let mut c = self.services.conn().await.unwrap();
        let mut p = self.services.policy(&mut c).await.unwrap();
        change(&mut p);
        db::put_setting(&mut c, "policy", &serde_json::to_string(&p).unwrap())
            .await
            .unwrap();
    }
}

async fn self_service(backend: Backend) {
    // Real clock: openssl checks validity against its own clock.
    let app = crate::helpers::spawn_at(backend, crate::helpers::real_now()).await;
    let hana = activated_user(&app, "hana", false).await;
    let entry = request(&app, &hana, "iPhone").await;

    // The list shows it ready, with the device label.
    let list = json(
        call(
            &app,
            "my_certificates",
            &[("show_all", "false")],
            Some(&hana),
        )
        .await,
    )
    .await;
    assert_eq!(list["entries"][0]["state"], "ready");
    assert_eq!(list["entries"][0]["device_label"], "iPhone");

    // "Show renewal URL": the QR code decodes to the link, the PIN fits rule 5.
    let (url1, pin1, svg1, _) = show_link(&app, &hana, &entry).await;
    assert_eq!(decode_qr(&svg1), url1);
    assert!(
        url1.starts_with(&format!("{}/pickup/", app.services.public_url)),
        "{url1}"
    );
    assert!(app::domain::pin::looks_like_pin(&pin1), "{pin1}");
    // A new link voids the first; its PIN differs.
    let (url, pin, _, link_cookie) = show_link(&app, &hana, &entry).await;
    assert_ne!(url, url1);
    assert_ne!(pin, pin1);
    assert_refused(
        &download(&app, &token_of(&url1), "p12", ANDROID).await,
        "link_voided",
    );
    assert!(
        certificates_of(&app, "hana").await.is_empty(),
        "a refused link changes nothing"
    );

    // Only the browser that made the link sees it again (its HttpOnly cookie).
    let both = format!("certportal={hana}; {link_cookie}");
    let again = json(
        call(
            &app,
            "current_renewal_link",
            &[("entry", &entry)],
            Some(&both),
        )
        .await,
    )
    .await;
    assert_eq!(again["pin"], pin.as_str());
    assert_eq!(again["url"], url.as_str());
    let without = json(
        call(
            &app,
            "current_renewal_link",
            &[("entry", &entry)],
            Some(&hana),
        )
        .await,
    )
    .await;
    assert!(without.is_null());

    // The landing page asks for the PIN first and changes nothing; after the PIN it offers
    // the right thing per platform (still changing nothing).
    let token = token_of(&url);
    let page = |ua: &'static str, grant: Option<String>| {
        let app = &app;
        let token = token.clone();
        async move {
            let mut req = client()
                .get(format!("{}/pickup/{token}", app.base))
                .header("user-agent", ua);
            if let Some(g) = grant {
                req = req.header("cookie", g);
            }
            req.send().await.unwrap().text().await.unwrap()
        }
    };
    let locked = page(ANDROID, None).await;
    assert!(
        locked.contains("autocomplete=\"one-time-code\"")
            && locked.contains(&format!("action=\"/pickup/{token}/unlock\"")),
        "{locked}"
    );
    assert!(
        !locked.contains("name=\"format\""),
        "no installer before the PIN"
    );
    let (_, grant) = unlock(&app, &token, &pin.to_lowercase()).await;
    let grant = grant.expect("the PIN is accepted in any case");
    for (ua, want) in [
        (IPHONE, "value=\"mobileconfig\""),
        (ANDROID, "value=\"p12\""),
        (WINDOWS, "value=\"pfx\""),
        (IPHONE_CHROME, "data-testid=\"open-in-safari\""),
    ] {
        let html = page(ua, Some(grant.clone())).await;
        assert!(html.contains(want), "{ua}: {want}");
        assert!(
            !html.contains(&pin),
            "the PIN never reaches the phone's page"
        );
    }
    assert!(certificates_of(&app, "hana").await.is_empty());

    // A HEAD request (link checkers, download managers) does not redeem the link.
    let head = client()
        .head(format!("{}/pickup/{token}/download/p12", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 405);
    // Nor does a GET of the old download address, nor the install step without a grant.
    assert_refused(
        &client()
            .get(format!("{}/pickup/{token}/download/p12", app.base))
            .send()
            .await
            .unwrap(),
        "pin_required",
    );
    assert_refused(
        &download_with(&app, &token, None, "p12", ANDROID).await,
        "pin_required",
    );
    assert!(certificates_of(&app, "hana").await.is_empty());

    // iPhone Safari gets a profile with Apple's required keys and no Password; with the
    // PKCS#12 setting, the identity is a PKCS#12 made here (the SCEP profile is in scep.rs).
    app.set_policy(|p| p.apple_profile = app::domain::policy::AppleProfile::Pkcs12)
        .await;
    let r = download_with(&app, &token, Some(&grant), "mobileconfig", IPHONE).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-type"],
        "application/x-apple-aspen-config"
    );
    assert_eq!(r.headers()["cache-control"], "no-store");
    let bytes = r.bytes().await.unwrap();
    assert!(!String::from_utf8_lossy(&bytes).contains("<key>Password</key>"));
    let (profile, p12, ca_der) = parse_profile(&app, &bytes, "first");
    assert_eq!(profile["PayloadType"], "Configuration");
    assert_eq!(profile["PayloadVersion"], 1);
    let types: Vec<&str> = profile["payloads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["PayloadType"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        ["com.apple.security.root", "com.apple.security.pkcs12"]
    );
    for payload in profile["payloads"].as_array().unwrap() {
        for key in [
            "PayloadIdentifier",
            "PayloadUUID",
            "PayloadVersion",
            "PayloadDisplayName",
        ] {
            assert!(payload.get(key).is_some(), "{key} in {payload}");
        }
        assert!(
            payload.get("Password").is_none(),
            "no Password: the device asks for the PIN"
        );
    }
    let ca_pem = client()
        .get(format!("{}/ca.pem", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        ca_der,
        app::ssr::ca::der_of_pem(&ca_pem).unwrap(),
        "the profile carries the CA"
    );
    let serial1 = check_p12(&app, &p12, &pin, "first").await;

    // A second use is refused and changes nothing.
    assert_refused(
        &download(&app, &token, "mobileconfig", IPHONE).await,
        "link_used",
    );
    assert_refused(
        &download(&app, &"0".repeat(64), "p12", ANDROID).await,
        "link_unknown",
    );
    assert_eq!(certificates_of(&app, "hana").await.len(), 1);

    // Renewal from the issued certificate: a .p12 for Android; the old one is superseded and
    // on the CRL.
    // Two clicks (or two tabs) make one renewal, not two: the second link is for the same
    // renewal entry and voids the first.
    let (dup, _, _, dup_cookie) = show_link(&app, &hana, &entry).await;
    let (url2, pin2, _, cookie2) = show_link(&app, &hana, &entry).await;
    let entry_of = |c: &str| {
        c.split_once('=')
            .unwrap()
            .1
            .split('.')
            .next()
            .unwrap()
            .to_string()
    };
    assert_eq!(entry_of(&dup_cookie), entry_of(&cookie2));
    assert_ne!(entry_of(&cookie2), entry, "the renewal is its own entry");
    assert_refused(
        &download(&app, &token_of(&dup), "p12", ANDROID).await,
        "link_voided",
    );
    let r = download(&app, &token_of(&url2), "p12", ANDROID).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/x-pkcs12");
    assert!(r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("certportal-hana.p12"));
    let serial2 = check_p12(&app, &r.bytes().await.unwrap(), &pin2, "renewed").await;
    assert_ne!(serial1, serial2);
    let certs = certificates_of(&app, "hana").await;
    let old = certs.iter().find(|c| c.serial_hex == serial1).unwrap();
    assert_eq!(old.state, State::Superseded);
    assert_eq!(old.revocation_reason.as_deref(), Some("superseded"));
    let crl = app.path("current.crl");
    let der = client()
        .get(format!("{}/crl/current.crl", app.base))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    std::fs::write(&crl, der).unwrap();
    let text = ok(
        "openssl",
        &["crl", "-inform", "DER", "-in", &p(&crl), "-noout", "-text"],
    );
    assert!(text.contains(&serial1), "old serial on the CRL:\n{text}");
    assert!(text.contains("Superseded"), "{text}");
    assert!(!text.contains(&serial2));

    // A second renewal installed as a profile replaces the first profile: same identifier.
    let renewed_entry = json(
        call(
            &app,
            "my_certificates",
            &[("show_all", "false")],
            Some(&hana),
        )
        .await,
    )
    .await["entries"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (url3, _, _, _) = show_link(&app, &hana, &renewed_entry).await;
    let bytes = download(&app, &token_of(&url3), "mobileconfig", IPHONE)
        .await
        .bytes()
        .await
        .unwrap();
    let (profile3, _, _) = parse_profile(&app, &bytes, "third");
    assert_eq!(profile3["PayloadIdentifier"], profile["PayloadIdentifier"]);
    assert_ne!(profile3["PayloadUUID"], profile["PayloadUUID"]);

    // "Show all" reveals the superseded ones.
    let shown = json(
        call(
            &app,
            "my_certificates",
            &[("show_all", "false")],
            Some(&hana),
        )
        .await,
    )
    .await;
    assert_eq!(shown["entries"].as_array().unwrap().len(), 1);
    assert_eq!(shown["hidden"], 2);
    let all = json(
        call(
            &app,
            "my_certificates",
            &[("show_all", "true")],
            Some(&hana),
        )
        .await,
    )
    .await;
    assert_eq!(all["entries"].as_array().unwrap().len(), 3);

    // Another user can neither make nor see hana's links, nor revoke her certificate.
    let ken = activated_user(&app, "ken", false).await;
    assert_eq!(
        refused(
            call(
                &app,
                "show_renewal_link",
                &[("entry", &renewed_entry)],
                Some(&ken)
            )
            .await
        )
        .await,
        "forbidden"
    );
    let ken_with_link = format!("certportal={ken}; {link_cookie}");
    let seen = call(
        &app,
        "current_renewal_link",
        &[("entry", &entry)],
        Some(&ken_with_link),
    )
    .await;
    assert!(seen.status().is_client_error() || json(seen).await.is_null());
    assert_eq!(
        refused(
            call(
                &app,
                "revoke_entry",
                &[("entry", &renewed_entry), ("reason", "keyCompromise")],
                Some(&ken)
            )
            .await
        )
        .await,
        "forbidden"
    );
    assert_eq!(
        refused(
            call(
                &app,
                "show_renewal_link",
                &[("entry", &renewed_entry)],
                None
            )
            .await
        )
        .await,
        "not_signed_in"
    );
    // An administrator using the self-service functions acts as a user too: never on
    // someone else's entries (admin actions go through the console and its confirmation).
    let boss = activated_user(&app, "boss", true).await;
    assert_eq!(
        refused(
            call(
                &app,
                "revoke_entry",
                &[("entry", &renewed_entry), ("reason", "keyCompromise")],
                Some(&boss)
            )
            .await
        )
        .await,
        "forbidden"
    );
    assert_eq!(
        refused(
            call(
                &app,
                "show_renewal_link",
                &[("entry", &renewed_entry)],
                Some(&boss)
            )
            .await
        )
        .await,
        "forbidden"
    );

    // Every step is in the history.
    let actions = app.audit_actions().await;
    for a in [
        "enrollment.create",
        "link.create",
        "link.redeem",
        "certificate.issue",
        "certificate.supersede",
    ] {
        assert!(actions.iter().any(|x| x == a), "{a} in {actions:?}");
    }
    app.stop().await;
}
both!(self_service_request_link_install_renew, self_service);

async fn concurrent(backend: Backend) {
    let first = spawn(backend).await;
    let dir = tempfile::tempdir().unwrap();
    let second = spawn_on(dir, first.database_url.clone()).await;
    let user = activated_user(&first, "race", false).await;
    let entry = request(&first, &user, "phone").await;
    let (url, pin, _, _) = show_link(&first, &user, &entry).await;
    let token = token_of(&url);
    // Twenty phones that all know the PIN, each with its own grant, download at once.
    let mut phones = Vec::new();
    for i in 0..20 {
        let app = if i % 2 == 0 { &first } else { &second };
        let (_, grant) = unlock(app, &token, &pin).await;
        phones.push((app.base.clone(), grant.unwrap()));
    }
    let mut tasks = Vec::new();
    for (base, grant) in phones {
        let token = token.clone();
        tasks.push(tokio::spawn(async move {
            client()
                .post(format!("{base}/pickup/{token}/download"))
                .header("user-agent", ANDROID)
                .header("cookie", grant)
                .form(&[("format", "p12")])
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    let mut codes = Vec::new();
    for t in tasks {
        codes.push(t.await.unwrap());
    }
    assert_eq!(codes.iter().filter(|c| **c == 200).count(), 1, "{codes:?}");
    assert_eq!(codes.iter().filter(|c| **c == 303).count(), 19, "{codes:?}");
    assert_eq!(certificates_of(&first, "race").await.len(), 1);
    second.stop().await;
    first.stop().await;
}
both!(
    twenty_phones_on_two_instances_get_one_certificate,
    concurrent
);

async fn concurrent_renewals(backend: Backend) {
    let first = spawn(backend).await;
    let second = spawn_on(tempfile::tempdir().unwrap(), first.database_url.clone()).await;
    let user = activated_user(&first, "twice", false).await;
    let entry = request(&first, &user, "phone").await;
    let (url, _, _, _) = show_link(&first, &user, &entry).await;
    assert_eq!(
        download(&first, &token_of(&url), "p12", ANDROID)
            .await
            .status(),
        200
    );
    // Ten "Show renewal URL" clicks at once, on two instances: one renewal enrollment.
    let mut tasks = Vec::new();
    for i in 0..10 {
        let base = if i % 2 == 0 {
            first.base.clone()
        } else {
            second.base.clone()
        };
        let (user, entry) = (user.clone(), entry.clone());
        tasks.push(tokio::spawn(async move {
            client()
                .post(format!("{base}/api/show_renewal_link"))
                .header("content-type", "application/x-www-form-urlencoded")
                .header("cookie", format!("certportal={user}"))
                .body(format!("entry={entry}"))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), 200);
    }
    let mut c = first.services.conn().await.unwrap();
    let u = db::user_by_login(&mut c, "twice").await.unwrap().unwrap();
    let open = db::open_enrollments_for_user(&mut c, &u.id).await.unwrap();
    assert_eq!(open.len(), 1, "{open:?}");
    assert!(open[0].renews_certificate_id.is_some());
    drop(c);
    second.stop().await;
    first.stop().await;
}
both!(
    concurrent_renewal_requests_make_one_renewal,
    concurrent_renewals
);

async fn rules(backend: Backend) {
    let app = spawn(backend).await;
    let aki = activated_user(&app, "aki", false).await;
    // Bad input changes nothing.
    let long = "x".repeat(65);
    assert_eq!(
        refused(
            call(
                &app,
                "request_certificate",
                &[("device_label", &long)],
                Some(&aki)
            )
            .await
        )
        .await,
        "invalid_device_label"
    );
    let e1 = request(&app, &aki, "one").await;
    let _e2 = request(&app, &aki, "two").await;
    // max_active_per_user (2) counts open enrollments too.
    assert_eq!(
        refused(
            call(
                &app,
                "request_certificate",
                &[("device_label", "three")],
                Some(&aki)
            )
            .await
        )
        .await,
        "quota_exceeded"
    );

    // Pick one up, then forbid reissue: "Show renewal URL" says why and creates nothing.
    let (url, _, _, _) = show_link(&app, &aki, &e1).await;
    assert_eq!(
        download(&app, &token_of(&url), "p12", ANDROID)
            .await
            .status(),
        200
    );
    let before = db_counts(&app).await;
    {
        let mut c = app.services.conn().await.unwrap();
        sqlx::query("UPDATE users SET reissue_allowed = 0 WHERE login = 'aki'")
            .execute(&mut *c)
            .await
            .unwrap();
    }
    assert_eq!(
        refused(call(&app, "show_renewal_link", &[("entry", &e1)], Some(&aki)).await).await,
        "reissue_not_allowed"
    );
    // Nor is there a detour through a new request (then revoking the old one).
    assert_eq!(
        refused(
            call(
                &app,
                "request_certificate",
                &[("device_label", "detour")],
                Some(&aki)
            )
            .await
        )
        .await,
        "reissue_not_allowed"
    );
    assert_eq!(db_counts(&app).await, before);
    {
        let mut c = app.services.conn().await.unwrap();
        sqlx::query("UPDATE users SET reissue_allowed = NULL WHERE login = 'aki'")
            .execute(&mut *c)
            .await
            .unwrap();
    }

    // Approval mode: a new request waits, and gets no link.
    app.set_policy(|p| {
        p.distribution_mode = DistributionMode::Approval;
        p.max_active_per_user = 5;
    })
    .await;
    let pending = request(&app, &aki, "tablet").await;
    let list = json(
        call(
            &app,
            "my_certificates",
            &[("show_all", "false")],
            Some(&aki),
        )
        .await,
    )
    .await;
    let row = list["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == pending.as_str())
        .unwrap()
        .clone();
    assert_eq!(row["state"], "pending");
    assert!(list["approval_mode"].as_bool().unwrap());
    assert!(refused(
        call(
            &app,
            "show_renewal_link",
            &[("entry", &pending)],
            Some(&aki)
        )
        .await
    )
    .await
    .starts_with("lifecycle_"));
    // Withdrawing it is final.
    json(
        call(
            &app,
            "revoke_entry",
            &[("entry", &pending), ("reason", "cessationOfOperation")],
            Some(&aki),
        )
        .await,
    )
    .await;
    assert!(refused(
        call(
            &app,
            "revoke_entry",
            &[("entry", &pending), ("reason", "cessationOfOperation")],
            Some(&aki)
        )
        .await
    )
    .await
    .starts_with("lifecycle_"));
    // An unknown reason is refused.
    assert_eq!(
        refused(
            call(
                &app,
                "revoke_entry",
                &[("entry", &e1), ("reason", "certificateHold")],
                Some(&aki)
            )
            .await
        )
        .await,
        "invalid_reason"
    );
    app.stop().await;
}
both!(request_quota_reissue_flag_and_approval_mode, rules);

async fn db_counts(app: &TestApp) -> (i64, i64, i64) {
    let mut c = app.services.conn().await.unwrap();
    let mut out = Vec::new();
    for t in ["enrollments", "certificates", "links"] {
        let row: (i64,) = sqlx::query_as(&format!("SELECT COUNT(*) AS n FROM {t}"))
            .fetch_one(&mut *c)
            .await
            .unwrap();
        out.push(row.0);
    }
    (out[0], out[1], out[2])
}

async fn lost(backend: Backend) {
    let app = spawn(backend).await;
    let mio = activated_user(&app, "mio", false).await;
    let mut serials = Vec::new();
    for device in ["phone", "laptop"] {
        let e = request(&app, &mio, device).await;
        let (url, _, _, _) = show_link(&app, &mio, &e).await;
        assert_eq!(
            download(&app, &token_of(&url), "p12", ANDROID)
                .await
                .status(),
            200
        );
        serials.push(e);
    }
    // An open renewal link, not yet used.
    let (open_url, _, _, _) = show_link(&app, &mio, &serials[0]).await;

    // Without the confirmation nothing happens.
    assert_eq!(
        refused(call(&app, "report_lost_device", &[], Some(&mio)).await).await,
        "confirmation_required"
    );
    assert!(certificates_of(&app, "mio")
        .await
        .iter()
        .all(|c| c.state == State::Issued));

    let n = json(
        call(
            &app,
            "report_lost_device",
            &[("confirm", "yes")],
            Some(&mio),
        )
        .await,
    )
    .await;
    assert_eq!(n, 2);
    let certs = certificates_of(&app, "mio").await;
    assert!(certs
        .iter()
        .all(|c| c.state == State::Revoked
            && c.revocation_reason.as_deref() == Some("keyCompromise")));
    assert_refused(
        &download(&app, &token_of(&open_url), "p12", ANDROID).await,
        "link_voided",
    );
    // Signed out everywhere, and a new password is due.
    let who = json(call(&app, "whoami", &[], Some(&mio)).await).await;
    assert!(who.is_null());
    let mut c = app.services.conn().await.unwrap();
    let u = db::user_by_login(&mut c, "mio").await.unwrap().unwrap();
    assert!(u.must_change_password);
    drop(c);
    // Signing in again with the old password only allows changing it.
    let again = call(
        &app,
        "login",
        &[("login", "mio"), ("password", crate::helpers::PW)],
        None,
    )
    .await;
    let session = crate::helpers::session_cookie(&again).unwrap();
    assert_eq!(
        refused(
            call(
                &app,
                "my_certificates",
                &[("show_all", "false")],
                Some(&session)
            )
            .await
        )
        .await,
        "password_change_required"
    );
    assert_eq!(
        refused(
            call(
                &app,
                "request_certificate",
                &[("device_label", "new")],
                Some(&session)
            )
            .await
        )
        .await,
        "password_change_required"
    );
    assert!(app
        .audit_actions()
        .await
        .iter()
        .any(|a| a == "user.lost_device"));
    app.stop().await;
}
both!(lost_device_revokes_voids_and_signs_out, lost);

async fn deadline(backend: Backend) {
    let app = spawn(backend).await;
    let rin = activated_user(&app, "rin", false).await;
    let e = request(&app, &rin, "phone").await;
    let (url, _, _, _) = show_link(&app, &rin, &e).await;
    app.clock.advance(7 * 86_400 - 1);
    assert_eq!(server::background_tick(&app.services).await.lapsed, 0);
    app.clock.advance(1);
    assert_eq!(server::background_tick(&app.services).await.lapsed, 1);
    assert_eq!(
        server::background_tick(&app.services).await.lapsed,
        0,
        "once only"
    );
    let mut c = app.services.conn().await.unwrap();
    let row = db::enrollment_by_id(&mut c, &e).await.unwrap().unwrap();
    assert_eq!(row.state, State::Lapsed);
    drop(c);
    // The link is gone with it; nothing can be picked up any more.
    assert_eq!(
        download(&app, &token_of(&url), "p12", ANDROID)
            .await
            .status(),
        303
    );
    assert!(certificates_of(&app, "rin").await.is_empty());
    assert!(app
        .audit_actions()
        .await
        .iter()
        .any(|a| a == "enrollment.lapse"));
    app.stop().await;
}
both!(ready_enrollments_lapse_by_the_background_task, deadline);

async fn helpdesk(backend: Backend) {
    let app = crate::helpers::spawn_at(backend, crate::helpers::real_now()).await;
    let _ = activated_user(&app, "sora", false).await;
    let env = app.env();
    let (code, out, err) = certportal(
        &env,
        &[
            "link", "create", "--user", "sora", "--device", "iPad", "--json",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    let (url, pin) = (v["url"].as_str().unwrap(), v["pin"].as_str().unwrap());
    let r = download(&app, &token_of(url), "p12", WINDOWS).await;
    assert_eq!(r.status(), 200);
    let serial = check_p12(&app, &r.bytes().await.unwrap(), pin, "helpdesk").await;

    // --renew SERIAL makes a renewal link for that certificate.
    let (code, out, err) = certportal(
        &env,
        &["link", "create", "--user", "sora", "--renew", &serial],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("/pickup/") && out.contains("PIN"), "{out}");
    let mut c = app.services.conn().await.unwrap();
    let u = db::user_by_login(&mut c, "sora").await.unwrap().unwrap();
    let open = db::open_enrollments_for_user(&mut c, &u.id).await.unwrap();
    assert_eq!(open.len(), 1);
    assert!(open[0].renews_certificate_id.is_some() && open[0].admin_created);
    drop(c);

    // Bad input: an unknown user or another user's serial is refused and changes nothing.
    let before = db_counts(&app).await;
    let (code, _, err) = certportal(&env, &["link", "create", "--user", "nobody"]);
    assert_ne!(code, 0);
    assert!(err.contains("user not found"), "{err}");
    let _ = activated_user(&app, "other", false).await;
    let (code, _, err) = certportal(
        &env,
        &["link", "create", "--user", "other", "--renew", &serial],
    );
    assert_ne!(code, 0);
    assert!(err.contains("certificate not found"), "{err}");
    assert_eq!(db_counts(&app).await, before);
    app.stop().await;
}
both!(helpdesk_cli_prints_the_same_link_and_pin, helpdesk);
