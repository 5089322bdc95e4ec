//! The HTTP surface of a real server: health, CA and CRL downloads, server-rendered pages in
//! both languages, the no-JavaScript language switch, and security headers.

use crate::both;
use crate::helpers::{spawn, Backend};

async fn plain_routes(backend: Backend) {
    let app = spawn(backend).await;
    let http = reqwest::Client::new();
    let h = http
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(h.status(), 200);
    assert!(h.headers().contains_key("x-request-id"));
    assert_eq!(h.headers()["x-content-type-options"], "nosniff");
    assert!(h.text().await.unwrap().contains("ok"));

    let ca = http
        .get(format!("{}/ca.pem", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(ca.status(), 200);
    assert_eq!(ca.headers()["content-type"], "application/x-pem-file");
    let pem = ca.text().await.unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));

    let mut c = app.services.conn().await.unwrap();
    let id = app::ssr::db::current_ca_id(&mut c).await.unwrap().unwrap();
    drop(c);
    let by_id = http
        .get(format!("{}/ca/{id}.pem", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(by_id, pem);
    let der = http
        .get(format!("{}/ca/{id}.crt", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(der.headers()["content-type"], "application/pkix-cert");

    for (path, ctype) in [
        (format!("/crl/{id}.crl"), "application/pkix-crl"),
        ("/crl/current.crl".to_string(), "application/pkix-crl"),
        (format!("/crl/{id}.pem"), "application/x-pem-file"),
        ("/crl/current.pem".to_string(), "application/x-pem-file"),
    ] {
        let r = http
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(r.headers()["content-type"], ctype, "{path}");
    }
    let a = http
        .get(format!("{}/crl/current.crl", app.base))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let b = http
        .get(format!("{}/crl/{id}.crl", app.base))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(a, b, "`current` names the current CA");
    for missing in [
        "/crl/nope.crl",
        "/crl/current.txt",
        "/ca/nope.pem",
        "/no/such/page",
    ] {
        let r = http
            .get(format!("{}{missing}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "{missing}");
    }
    app.stop().await;
}
both!(plain_routes_serve_ca_and_crls, plain_routes);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_page_renders_on_the_server_in_both_languages() {
    let app = spawn(Backend::Sqlite).await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let en = http
        .get(format!("{}/", app.base))
        .header("accept-language", "en-US,en;q=0.9")
        .send()
        .await
        .unwrap();
    assert_eq!(en.status(), 200);
    let html = en.text().await.unwrap();
    assert!(html.contains("<html lang=\"en\""), "{html}");
    assert!(html.contains("Client certificates for your devices"));
    assert!(
        html.contains("certportal CA"),
        "the CA is rendered on the server"
    );
    assert!(
        html.contains("/pkg/certportal.js"),
        "hydration script is linked"
    );

    let ja = http
        .get(format!("{}/", app.base))
        .header("accept-language", "ja,en;q=0.5")
        .send()
        .await
        .unwrap();
    let html = ja.text().await.unwrap();
    assert!(html.contains("<html lang=\"ja\""));
    assert!(html.contains("端末のクライアント証明書を、ご自身で更新できます。"));

    // Without JavaScript the switch is a form post: the server sets the cookie and sends the
    // browser back; the next page is in the chosen language whatever the browser prefers.
    let post = http
        .post(format!("{}/api/set_language", app.base))
        .header("accept", "text/html")
        .header("referer", format!("{}/", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("lang=ja")
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), 302);
    let cookie = post.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.starts_with("lang=ja;"), "{cookie}");
    let again = http
        .get(format!("{}/", app.base))
        .header("accept-language", "en")
        .header("cookie", "lang=ja")
        .send()
        .await
        .unwrap();
    assert!(again.text().await.unwrap().contains("<html lang=\"ja\""));

    let bad = http
        .post(format!("{}/api/set_language", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("lang=fr")
        .send()
        .await
        .unwrap();
    assert!(!bad.status().is_success());
    assert!(bad.text().await.unwrap().contains("invalid_language"));
    app.stop().await;
}
