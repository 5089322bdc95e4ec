//! Revocation that takes effect: CRLs are re-signed before they run out, and a real TLS server
//! (Debian's nginx with `ssl_verify_client on` and the portal's CA and CRL) accepts a freshly
//! picked-up certificate, refuses it once it is revoked through the portal and nginx reloads
//! the new CRL, and refuses a certificate from a foreign CA.

use crate::both;
use crate::helpers::{
    activated_user, blocking, call, client, free_port, listening, ok, real_now, spawn, spawn_at,
    Backend, Reaped, TestApp,
};
use crate::pickup::{download, json, request, show_link, token_of, ANDROID};
use app::ssr::db;
use std::path::Path;
use std::process::Command;
use x509_parser::prelude::FromDer;

async fn current_ca(app: &TestApp) -> db::CaRow {
    let mut c = app.services.conn().await.unwrap();
    let id = db::current_ca_id(&mut c).await.unwrap().unwrap();
    db::ca_by_id(&mut c, &id).await.unwrap().unwrap()
}

async fn crl_refresh(backend: Backend) {
    let app = spawn(backend).await;
    let first = current_ca(&app).await;
    let next = first.crl_next_update.unwrap();
    let now = || {
        use app::ssr::clock::Clock;
        app.clock.now()
    };
    assert_eq!(next, now() + 7 * 86_400);
    assert_eq!(
        server::background_tick(&app.services).await.crls_refreshed,
        0
    );
    // Re-signed once half of the 7 days is left, not before.
    app.clock.advance(next - now() - 7 * 86_400 / 2 - 1);
    assert_eq!(
        server::background_tick(&app.services).await.crls_refreshed,
        0
    );
    app.clock.advance(1);
    assert_eq!(
        server::background_tick(&app.services).await.crls_refreshed,
        1
    );
    assert_eq!(
        server::background_tick(&app.services).await.crls_refreshed,
        0
    );
    let second = current_ca(&app).await;
    assert!(
        second.crl_number > first.crl_number,
        "CRL numbers only grow"
    );
    assert_eq!(second.crl_next_update, Some(now() + 7 * 86_400));
    // The stored CRL itself says so.
    let der = second.crl_der.unwrap();
    let (_, crl) = x509_parser::revocation_list::CertificateRevocationList::from_der(&der).unwrap();
    assert_eq!(crl.next_update().unwrap().timestamp(), now() + 7 * 86_400);
    assert_eq!(crl.last_update().timestamp(), now());
    app.stop().await;
}
both!(crls_are_resigned_before_they_run_out, crl_refresh);

fn p(path: &Path) -> String {
    path.display().to_string()
}

/// The HTTP status curl gets from nginx with an optional client certificate ("000" when the
/// connection fails).
fn curl(port: u16, server_ca: &Path, client: Option<(&Path, &Path)>) -> String {
    let url = format!("https://localhost:{port}/");
    let mut args = vec![
        "-s".to_string(),
        "-o".into(),
        "/dev/null".into(),
        "-w".into(),
        "%{http_code}".into(),
        "--cacert".into(),
        p(server_ca),
    ];
    if let Some((cert, key)) = client {
        args.extend(["--cert".into(), p(cert), "--key".into(), p(key)]);
    }
    args.push(url);
    let out = blocking(|| Command::new("curl").args(&args).output()).unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Polls (bounded) until `f` returns `want`; nginx applies a reload asynchronously.
async fn eventually(want: &str, f: impl Fn() -> String) -> String {
    let mut last = String::new();
    for _ in 0..100 {
        last = f();
        if last == want {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    last
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nginx_honours_the_crl() {
    // Real clock: nginx checks validity and the CRL's nextUpdate against its own clock.
    let app = spawn_at(Backend::Sqlite, real_now()).await;
    let dir = app.dir.path().join("nginx");
    std::fs::create_dir_all(&dir).unwrap();
    let f = |name: &str| dir.join(name);

    let (user, entry) = picked_up_pem(&app, "nina", &dir).await;
    // A second user's iPhone enrolled through SCEP with its own key.
    let (sam, sam_entry, sam_crt, sam_key) = crate::scep::scep_enrolled(&app, "sam").await;
    let fetch = |path: &'static str| {
        let base = app.base.clone();
        async move {
            client()
                .get(format!("{base}{path}"))
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap()
        }
    };
    std::fs::write(f("ca.pem"), fetch("/ca.pem").await).unwrap();
    std::fs::write(f("crl.pem"), fetch("/crl/current.pem").await).unwrap();

    // nginx's own server certificate, and a foreign CA with a client certificate.
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    let mut args = vec!["req", "-x509"];
    args.extend(ec);
    args.extend([
        "-keyout",
        "srv.key",
        "-out",
        "srv.crt",
        "-days",
        "2",
        "-subj",
        "/CN=localhost",
        "-addext",
        "subjectAltName=DNS:localhost",
    ]);
    run_in(&dir, "openssl", &args);
    foreign_client(&dir, "/CN=nina Display/UID=nina");

    let conf = |port: u16, ocsp_port: u16| {
        format!(
            r#"daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log info;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {dir}/tmp_body;
    proxy_temp_path {dir}/tmp_proxy;
    fastcgi_temp_path {dir}/tmp_fastcgi;
    uwsgi_temp_path {dir}/tmp_uwsgi;
    scgi_temp_path {dir}/tmp_scgi;
    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate {dir}/srv.crt;
        ssl_certificate_key {dir}/srv.key;
        ssl_client_certificate {dir}/ca.pem;
        ssl_crl {dir}/crl.pem;
        ssl_verify_client on;
        location / {{ return 200 "hello $ssl_client_s_dn\n"; }}
    }}
    # The same without a CRL: every handshake asks the portal's OCSP responder.
    server {{
        listen 127.0.0.1:{ocsp_port} ssl;
        ssl_certificate {dir}/srv.crt;
        ssl_certificate_key {dir}/srv.key;
        ssl_client_certificate {dir}/ca.pem;
        ssl_verify_client on;
        ssl_ocsp on;
        ssl_ocsp_responder {responder};
        location / {{ return 200 "hello $ssl_client_s_dn\n"; }}
    }}
}}
"#,
            dir = p(&dir),
            responder = app.base.replace("localhost", "127.0.0.1") + "/ocsp",
        )
    };
    let nginx_args = |extra: &[&str]| {
        let mut v = vec![
            "-c".to_string(),
            p(&f("nginx.conf")),
            "-p".into(),
            p(&dir),
            "-e".into(),
            p(&f("error.log")),
        ];
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    // Ports picked by the kernel are free when picked, but on a busy machine another process
    // can take one before nginx binds it: then nginx exits, and it starts again on new ports.
    let (mut nginx, port, ocsp_port) = 'start: {
        for _ in 0..5 {
            let (port, ocsp_port) = (free_port(), free_port());
            std::fs::write(f("nginx.conf"), conf(port, ocsp_port)).unwrap();
            // nginx logs to error.log; its own output stays off the test run's.
            let mut nginx = Reaped(
                Command::new(nginx_bin())
                    .args(nginx_args(&[]))
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null())
                    .spawn()
                    .unwrap(),
            );
            if listening(&mut nginx, &[port, ocsp_port]).await {
                break 'start (nginx, port, ocsp_port);
            }
        }
        panic!(
            "nginx did not start:\n{}",
            std::fs::read_to_string(f("error.log")).unwrap_or_default()
        );
    };
    let valid = (f("client.crt"), f("client.key"));
    let device = (sam_crt, sam_key);
    let foreign = (f("intruder.crt"), f("intruder.key"));
    let srv = f("srv.crt");
    let with = |c: &(std::path::PathBuf, std::path::PathBuf)| curl(port, &srv, Some((&c.0, &c.1)));

    let status = eventually("200", || with(&valid)).await;
    let log = || std::fs::read_to_string(f("error.log")).unwrap_or_default();
    assert_eq!(
        status,
        "200",
        "the picked-up certificate is accepted\n{}",
        log()
    );
    assert_eq!(curl(port, &srv, None), "400", "no certificate: refused");
    assert_eq!(
        with(&foreign),
        "400",
        "a foreign CA's certificate is refused"
    );
    let via_ocsp =
        |c: &(std::path::PathBuf, std::path::PathBuf)| curl(ocsp_port, &srv, Some((&c.0, &c.1)));
    assert_eq!(via_ocsp(&valid), "200", "OCSP says good\n{}", log());
    assert_eq!(
        with(&device),
        "200",
        "the SCEP-enrolled certificate is accepted"
    );
    assert_eq!(via_ocsp(&device), "200");
    assert_eq!(via_ocsp(&foreign), "400");

    // Revoke it through the portal; the CRL it serves now lists it; nginx reloads it.
    json(
        call(
            &app,
            "revoke_entry",
            &[("entry", &entry), ("reason", "keyCompromise")],
            Some(&user),
        )
        .await,
    )
    .await;
    json(
        call(
            &app,
            "revoke_entry",
            &[("entry", &sam_entry), ("reason", "keyCompromise")],
            Some(&sam),
        )
        .await,
    )
    .await;
    assert_eq!(
        via_ocsp(&device),
        "400",
        "OCSP refuses the device's certificate"
    );
    // OCSP takes effect at once, without a reload; the CRL server still has the old CRL.
    assert_eq!(
        via_ocsp(&valid),
        "400",
        "OCSP refuses the revoked certificate at once\n{}",
        log()
    );
    assert_eq!(with(&valid), "200", "the old CRL does not know yet");
    std::fs::write(f("crl.pem"), fetch("/crl/current.pem").await).unwrap();
    let reload = blocking(|| {
        Command::new(nginx_bin())
            .args(nginx_args(&["-s", "reload"]))
            .output()
    })
    .unwrap();
    assert!(
        reload.status.success(),
        "{}",
        String::from_utf8_lossy(&reload.stderr)
    );
    let status = eventually("400", || with(&valid)).await;
    assert_eq!(
        status,
        "400",
        "the revoked certificate is refused after the reload\n{}",
        log()
    );
    assert!(log().contains("certificate revoked"), "{}", log());
    assert_eq!(with(&foreign), "400");
    // A reload is graceful: for a moment the old workers (with the old CRL) still accept
    // beside the new ones, so this waits (bounded) too instead of asking once.
    assert_eq!(
        eventually("400", || with(&device)).await,
        "400",
        "the revoked SCEP-enrolled certificate is refused"
    );

    let _ = blocking(|| {
        Command::new(nginx_bin())
            .args(nginx_args(&["-s", "stop"]))
            .output()
    });
    let _ = blocking(|| nginx.0.wait());
    app.stop().await;
}

/// A user whose certificate was picked up through the portal, written as `client.crt` and
/// `client.key` (PEM) into `dir`, with the portal's `ca.pem`: (session cookie, entry id).
pub(crate) async fn picked_up_pem(app: &TestApp, login: &str, dir: &Path) -> (String, String) {
    let f = |name: &str| dir.join(name);
    // A certificate picked up through the portal.
    let user = activated_user(app, login, false).await;
    let entry = request(app, &user, "laptop").await;
    let (url, pin, _, _) = show_link(app, &user, &entry).await;
    let r = download(app, &token_of(&url), "p12", ANDROID).await;
    assert_eq!(r.status(), 200);
    std::fs::write(f("client.p12"), r.bytes().await.unwrap()).unwrap();
    let pass = format!("pass:{pin}");
    ok(
        "openssl",
        &[
            "pkcs12",
            "-in",
            &p(&f("client.p12")),
            "-passin",
            &pass,
            "-clcerts",
            "-nokeys",
            "-out",
            &p(&f("client.crt")),
        ],
    );
    ok(
        "openssl",
        &[
            "pkcs12",
            "-in",
            &p(&f("client.p12")),
            "-passin",
            &pass,
            "-nocerts",
            "-nodes",
            "-out",
            &p(&f("client.key")),
        ],
    );
    let ca = client()
        .get(format!("{}/ca.pem", app.base))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    std::fs::write(f("ca.pem"), ca).unwrap();
    (user, entry)
}

/// Debian installs nginx in /usr/sbin, which is not on every user's PATH.
fn nginx_bin() -> &'static str {
    if Path::new("/usr/sbin/nginx").exists() {
        "/usr/sbin/nginx"
    } else {
        "nginx"
    }
}

fn run_in(dir: &Path, cmd: &str, args: &[&str]) {
    let out = blocking(|| Command::new(cmd).current_dir(dir).args(args).output()).unwrap();
    assert!(
        out.status.success(),
        "{cmd} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A client certificate for `subject` from a CA the portal does not know: `intruder.crt`/`.key`
/// in `dir` (and `foreign-ca.crt`).
fn foreign_client(dir: &Path, subject: &str) {
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    let mut args = vec!["req", "-x509"];
    args.extend(ec);
    args.extend([
        "-keyout",
        "foreign-ca.key",
        "-out",
        "foreign-ca.crt",
        "-days",
        "2",
        "-subj",
        "/CN=Foreign CA",
    ]);
    run_in(dir, "openssl", &args);
    let mut args = vec!["req"];
    args.extend(ec);
    args.extend([
        "-keyout",
        "intruder.key",
        "-out",
        "intruder.csr",
        "-subj",
        subject,
    ]);
    run_in(dir, "openssl", &args);
    run_in(
        dir,
        "openssl",
        &[
            "x509",
            "-req",
            "-in",
            "intruder.csr",
            "-CA",
            "foreign-ca.crt",
            "-CAkey",
            "foreign-ca.key",
            "-CAcreateserial",
            "-out",
            "intruder.crt",
            "-days",
            "1",
        ],
    );
}

/// `openssl ocsp` against the portal's responder: the certificate names it (AIA), a fresh
/// certificate is good, an unknown serial unknown, a revoked one revoked with its reason, every
/// answer verifies against the CA; GET works like POST; garbage gets `malformedRequest` and a
/// foreign issuer `unauthorized`.
async fn ocsp_with_openssl(backend: Backend) {
    // Real clock: openssl checks thisUpdate/nextUpdate against its own clock.
    let app = spawn_at(backend, real_now()).await;
    let dir = app.dir.path().join("ocsp");
    std::fs::create_dir_all(&dir).unwrap();
    let f = |name: &str| p(&dir.join(name));
    let (user, entry) = picked_up_pem(&app, "olga", &dir).await;
    let url = format!("{}/ocsp", app.base);
    let (crt, ca) = (f("client.crt"), f("ca.pem"));

    let aia = ok("openssl", &["x509", "-in", &crt, "-noout", "-ocsp_uri"]);
    assert_eq!(aia.trim(), url, "AIA names the responder");

    let ask = |extra: &[&str]| {
        let mut args = vec!["ocsp", "-issuer", &ca, "-CAfile", &ca, "-url", &url];
        args.extend(extra);
        ok("openssl", &args)
    };
    let out = ask(&["-cert", &crt]);
    assert!(out.contains("Response verify OK"), "{out}");
    assert!(out.contains(&format!("{crt}: good")), "{out}");
    let out = ask(&["-serial", "0x0123456789ABCDEF"]);
    assert!(out.contains("Response verify OK"), "{out}");
    assert!(out.contains("0x0123456789ABCDEF: unknown"), "{out}");

    // GET: /ocsp/<base64 of the DER request>, '/' and '+' percent-encoded.
    ok(
        "openssl",
        &[
            "ocsp",
            "-issuer",
            &ca,
            "-cert",
            &crt,
            "-no_nonce",
            "-reqout",
            &f("req.der"),
        ],
    );
    use base64::Engine;
    let b64 =
        base64::engine::general_purpose::STANDARD.encode(std::fs::read(f("req.der")).unwrap());
    let enc = b64
        .replace('/', "%2F")
        .replace('+', "%2B")
        .replace('=', "%3D");
    let r = client().get(format!("{url}/{enc}")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-type"].to_str().unwrap(),
        "application/ocsp-response"
    );
    std::fs::write(f("resp.der"), r.bytes().await.unwrap()).unwrap();
    let out = ok(
        "openssl",
        &[
            "ocsp",
            "-respin",
            &f("resp.der"),
            "-issuer",
            &ca,
            "-CAfile",
            &ca,
            "-cert",
            &crt,
            "-no_nonce",
        ],
    );
    assert!(out.contains("Response verify OK"), "{out}");
    assert!(out.contains(&format!("{crt}: good")), "{out}");

    // Revoked through the portal: the very next answer says so, with the reason.
    crate::pickup::json(
        call(
            &app,
            "revoke_entry",
            &[("entry", &entry), ("reason", "keyCompromise")],
            Some(&user),
        )
        .await,
    )
    .await;
    let out = ask(&["-cert", &crt]);
    assert!(out.contains("Response verify OK"), "{out}");
    assert!(out.contains(&format!("{crt}: revoked")), "{out}");
    assert!(out.contains("Reason: keyCompromise"), "{out}");

    // Malformed requests: an OCSP error (malformedRequest = 1), never a crash.
    for body in [&b"garbage"[..], b"", &[0x30, 0x82, 0xff, 0xff]] {
        let r = client()
            .post(&url)
            .header("content-type", "application/ocsp-request")
            .body(body.to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(
            &r.bytes().await.unwrap()[..],
            &[0x30, 0x03, 0x0a, 0x01, 0x01]
        );
    }
    let r = client()
        .get(format!("{url}/not*base64!"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        &r.bytes().await.unwrap()[..],
        &[0x30, 0x03, 0x0a, 0x01, 0x01]
    );

    // A certificate of a CA the portal does not know: unauthorized (6).
    foreign_client(&dir, "/CN=Intruder");
    let (_, out) = crate::helpers::run(
        "openssl",
        &[
            "ocsp",
            "-issuer",
            &f("foreign-ca.crt"),
            "-cert",
            &f("intruder.crt"),
            "-url",
            &url,
        ],
    );
    assert!(out.contains("unauthorized"), "{out}");

    let stats = app.services.ocsp_stats.snapshot();
    assert_eq!((stats.good, stats.revoked, stats.unknown), (2, 1, 1));
    assert_eq!((stats.malformed, stats.unauthorized), (4, 1));
    app.stop().await;
}
both!(ocsp_answers_openssl, ocsp_with_openssl);

/// A rustls server (`WebPkiClientVerifier` with the portal's CA and CRL) and curl: the
/// picked-up certificate is accepted; no certificate and a foreign CA's are refused; after
/// revoking in the portal and loading the new CRL, the same certificate is refused as revoked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rustls_honours_the_crl() {
    use rustls::pki_types::{CertificateDer, CertificateRevocationListDer, PrivateKeyDer};
    use rustls::server::WebPkiClientVerifier;
    use rustls::{RootCertStore, ServerConfig};
    use std::io::{Read, Write};
    use std::sync::{Arc, Mutex};

    let app = spawn_at(Backend::Sqlite, real_now()).await;
    let dir = app.dir.path().join("rustls");
    std::fs::create_dir_all(&dir).unwrap();
    let f = |name: &str| dir.join(name);
    let (user, entry) = picked_up_pem(&app, "rita", &dir).await;
    foreign_client(&dir, "/CN=Intruder");
    let ca_der = app::ssr::ca::der_of_pem(&std::fs::read_to_string(f("ca.pem")).unwrap()).unwrap();
    let crl = || {
        let base = app.base.clone();
        async move {
            client()
                .get(format!("{base}/crl/current.crl"))
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap()
                .to_vec()
        }
    };

    let srv = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    std::fs::write(f("srv.crt"), srv.cert.pem()).unwrap();
    let srv_cert = srv.cert.der().clone();
    let srv_key = srv.signing_key.serialize_der();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let make = |crl_der: Vec<u8>| -> Arc<ServerConfig> {
        let mut roots = RootCertStore::empty();
        roots.add(CertificateDer::from(ca_der.clone())).unwrap();
        let verifier =
            WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .with_crls([CertificateRevocationListDer::from(crl_der)])
                .build()
                .unwrap();
        Arc::new(
            ServerConfig::builder_with_provider(provider.clone())
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_client_cert_verifier(verifier)
                .with_single_cert(
                    vec![srv_cert.clone()],
                    PrivateKeyDer::Pkcs8(srv_key.clone().into()),
                )
                .unwrap(),
        )
    };
    let config = Arc::new(Mutex::new(make(crl().await)));
    let errors = Arc::new(Mutex::new(Vec::<String>::new()));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    {
        let (config, errors) = (config.clone(), errors.clone());
        std::thread::spawn(move || {
            for tcp in listener.incoming().flatten() {
                let cfg = config.lock().unwrap().clone();
                let served = (|| -> Result<(), String> {
                    tcp.set_read_timeout(Some(std::time::Duration::from_secs(5)))
                        .map_err(|e| e.to_string())?;
                    let conn = rustls::ServerConnection::new(cfg).map_err(|e| e.to_string())?;
                    let mut tls = rustls::StreamOwned::new(conn, tcp);
                    let mut req = Vec::new();
                    let mut buf = [0u8; 2048];
                    while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                        let n = tls.read(&mut buf).map_err(|e| e.to_string())?;
                        if n == 0 {
                            return Err("closed".into());
                        }
                        req.extend_from_slice(&buf[..n]);
                    }
                    tls.write_all(
                        b"HTTP/1.1 200 OK\r\ncontent-length: 3\r\nconnection: close\r\n\r\nok\n",
                    )
                    .map_err(|e| e.to_string())?;
                    tls.conn.send_close_notify();
                    tls.flush().map_err(|e| e.to_string())
                })();
                if let Err(e) = served {
                    errors.lock().unwrap().push(e);
                }
            }
        });
    }
    let srv_crt = f("srv.crt");
    let valid = (f("client.crt"), f("client.key"));
    let foreign = (f("intruder.crt"), f("intruder.key"));
    let errs = || errors.lock().unwrap().join("\n");
    // curl exits as soon as it reads the server's alert, which can be before the server
    // thread has written its error down: wait for that record (bounded), not for time.
    let recorded = |what: &'static str| {
        let errors = errors.clone();
        async move {
            for _ in 0..100 {
                if errors.lock().unwrap().iter().any(|e| e.contains(what)) {
                    return true;
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            false
        }
    };
    // A bounded retry: the server above is a single thread that a stray connection on a busy
    // machine can hold up; what is asserted is that the certificate is accepted at all.
    let accepted = eventually("200", || curl(port, &srv_crt, Some((&valid.0, &valid.1)))).await;
    assert_eq!(accepted, "200", "{}", errs());
    assert_eq!(curl(port, &srv_crt, None), "000", "no certificate: refused");
    assert_eq!(curl(port, &srv_crt, Some((&foreign.0, &foreign.1))), "000");
    assert!(recorded("invalid peer certificate").await, "{}", errs());

    crate::pickup::json(
        call(
            &app,
            "revoke_entry",
            &[("entry", &entry), ("reason", "keyCompromise")],
            Some(&user),
        )
        .await,
    )
    .await;
    *config.lock().unwrap() = make(crl().await);
    assert_eq!(curl(port, &srv_crt, Some((&valid.0, &valid.1))), "000");
    assert!(recorded("Revoked").await, "{}", errs());
    app.stop().await;
}
