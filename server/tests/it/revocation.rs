//! Revocation that takes effect: CRLs are re-signed before they run out, and a real TLS server
//! (Debian's nginx with `ssl_verify_client on` and the portal's CA and CRL) accepts a freshly
//! picked-up certificate, refuses it once it is revoked through the portal and nginx reloads
//! the new CRL, and refuses a certificate from a foreign CA.

use crate::both;
use crate::helpers::{
    activated_user, call, client, ok, real_now, spawn, spawn_at, Backend, TestApp,
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

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
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
    let out = Command::new("curl").args(&args).output().unwrap();
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

    // A certificate picked up through the portal.
    let user = activated_user(&app, "nina", false).await;
    let entry = request(&app, &user, "laptop").await;
    let (url, pin, _, _) = show_link(&app, &user, &entry).await;
    let r = download(&app, &token_of(&url), "p12", ANDROID).await;
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
    run_in(&dir, "openssl", &args);
    let mut args = vec!["req"];
    args.extend(ec);
    args.extend([
        "-keyout",
        "intruder.key",
        "-out",
        "intruder.csr",
        "-subj",
        "/CN=nina Display/UID=nina",
    ]);
    run_in(&dir, "openssl", &args);
    run_in(
        &dir,
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

    let port = free_port();
    let conf = format!(
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
}}
"#,
        dir = p(&dir)
    );
    std::fs::write(f("nginx.conf"), conf).unwrap();
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
    let mut nginx = Command::new(nginx_bin())
        .args(nginx_args(&[]))
        .spawn()
        .unwrap();
    let valid = (f("client.crt"), f("client.key"));
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
    std::fs::write(f("crl.pem"), fetch("/crl/current.pem").await).unwrap();
    let reload = Command::new(nginx_bin())
        .args(nginx_args(&["-s", "reload"]))
        .output()
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

    let _ = Command::new(nginx_bin())
        .args(nginx_args(&["-s", "stop"]))
        .output();
    let _ = nginx.wait();
    app.stop().await;
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
    let out = Command::new(cmd)
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{cmd} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
