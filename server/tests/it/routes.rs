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
        html.contains("data-wasm=\"none\"") && !html.contains("/pkg/certportal.js"),
        "the start page is plain HTML: no WebAssembly"
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

/// Bytes on the wire: pages compressed (gzip here, read back with `gzip -d`) and asked for
/// again each time; the static files' precompressed siblings served as they are; a
/// `no-store` page (the phone's pickup page, which holds a secret beside text the request
/// chose) never compressed, and shipping no WebAssembly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compression_caching_and_the_pickup_page_without_webassembly() {
    let app = spawn(Backend::Sqlite).await;
    let http = crate::helpers::client();
    let pkg = app.dir.path().join("site").join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(
        pkg.join("certportal.css"),
        "body { margin: 0 }\n".repeat(100),
    )
    .unwrap();
    std::fs::write(
        pkg.join("certportal.css.br"),
        b"brotli bytes made at build time",
    )
    .unwrap();

    let home = http
        .get(format!("{}/", app.base))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(home.status(), 200);
    assert_eq!(home.headers()["content-encoding"], "gzip");
    assert_eq!(home.headers()["cache-control"], "no-cache");
    assert!(home.headers()["vary"]
        .to_str()
        .unwrap()
        .contains("accept-encoding"));
    let gz = home.bytes().await.unwrap();
    let file = app.dir.path().join("home.html.gz");
    std::fs::write(&file, &gz).unwrap();
    let html = crate::helpers::ok("gzip", &["-dc", file.to_str().unwrap()]);
    assert!(html.contains("data-wasm=\"none\""), "{html}");
    assert!(gz.len() * 2 < html.len(), "{} → {}", html.len(), gz.len());

    let css = http
        .get(format!("{}/pkg/certportal.css", app.base))
        .header("accept-encoding", "br, gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(css.status(), 200);
    assert_eq!(css.headers()["content-encoding"], "br");
    assert_eq!(
        css.bytes().await.unwrap().as_ref(),
        b"brotli bytes made at build time",
        "the precompressed file, not a second compression"
    );
    let plain = http
        .get(format!("{}/pkg/certportal.css", app.base))
        .send()
        .await
        .unwrap();
    assert!(plain.headers().get("content-encoding").is_none());
    assert!(plain
        .text()
        .await
        .unwrap()
        .starts_with("body { margin: 0 }"));

    let pickup = http
        .get(format!("{}/pickup/{}", app.base, "a".repeat(43)))
        .header("accept-encoding", "br, gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(pickup.status(), 200);
    assert!(pickup.headers()["cache-control"]
        .to_str()
        .unwrap()
        .contains("no-store"));
    assert!(
        pickup.headers().get("content-encoding").is_none(),
        "no-store is never compressed"
    );
    let html = pickup.text().await.unwrap();
    assert!(html.contains("data-wasm=\"none\""), "{html}");
    assert!(!html.contains("certportal.wasm") && !html.contains("/pkg/certportal.js"));
    assert!(html.contains("/pkg/certportal.css"), "still styled");
}

/// Cache headers of the static files: with hashed names (a release build) every `pkg/` file
/// found is `immutable` for a year, a missing one is not; the public script and icon are
/// linked under their content's hash (`?v=`) and only that exact URL is `immutable`; every
/// static file varies by `Accept-Encoding`. A `hash.txt` naming files the site lacks is an
/// error at start, not pages linking files that do not exist.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hashed_and_versioned_static_files_are_cached_for_a_year() {
    use sha2::{Digest, Sha256};
    use tower::ServiceExt;
    let app = spawn(Backend::Sqlite).await;
    let site = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(site.path().join("pkg")).unwrap();
    let script = b"export const x = 1;\n";
    std::fs::write(site.path().join("passkey.js"), script).unwrap();
    std::fs::write(site.path().join("favicon.svg"), b"<svg/>").unwrap();
    std::fs::write(site.path().join("pkg/certportal.0123abc.css"), b"body{}").unwrap();
    let version = &hex::encode(Sha256::digest(script))[..16];

    let list = site.path().join("hash.txt");
    std::fs::write(&list, "js: 0123abc\nwasm: 0123abc\ncss: 0123abc\n").unwrap();
    let err = server::hashed_names(&list, site.path()).unwrap_err();
    assert!(err.contains("certportal.0123abc.js"), "{err}");
    std::fs::write(site.path().join("pkg/certportal.0123abc.js"), b"").unwrap();
    std::fs::write(site.path().join("pkg/certportal.0123abc.wasm"), b"").unwrap();
    server::hashed_names(&list, site.path()).unwrap();

    let opts = leptos::config::LeptosOptions::builder()
        .output_name("certportal")
        .site_root(site.path().display().to_string())
        .site_pkg_dir("pkg")
        .hash_files(true)
        .build();
    let router = server::router(app.services.clone(), opts);
    let get = |uri: String| {
        let router = router.clone();
        async move {
            router
                .oneshot(
                    axum::http::Request::get(uri)
                        .header("host", "localhost")
                        .header("accept-encoding", "br, gzip")
                        .body(axum::body::Body::empty())
                        .unwrap(),
                )
                .await
                .unwrap()
        }
    };
    let header = |r: &axum::response::Response, name: &str| {
        r.headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    };
    let year = "public, max-age=31536000, immutable";

    // The page itself, uncompressed (no Accept-Encoding).
    let home = router
        .clone()
        .oneshot(
            axum::http::Request::get("/")
                .header("host", "localhost")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(home.status(), 200);
    assert_eq!(header(&home, "cache-control"), "no-cache");
    let html = axum::body::to_bytes(home.into_body(), 1 << 20)
        .await
        .unwrap();
    let html = String::from_utf8(html.to_vec()).unwrap();
    assert!(
        html.contains(&format!("src=\"/passkey.js?v={version}\"")),
        "{html}"
    );
    assert!(html.contains("/favicon.svg?v="), "{html}");

    let r = get(format!("/passkey.js?v={version}")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "cache-control"), year);
    assert!(header(&r, "vary").contains("accept-encoding"));
    let stale = get("/passkey.js?v=0000000000000000".into()).await;
    assert_eq!(stale.status(), 200);
    assert_eq!(
        header(&stale, "cache-control"),
        "no-cache",
        "not this version"
    );
    let plain = get("/passkey.js".into()).await;
    assert_eq!(header(&plain, "cache-control"), "no-cache");

    let css = get("/pkg/certportal.0123abc.css".into()).await;
    assert_eq!(css.status(), 200);
    assert_eq!(header(&css, "cache-control"), year);
    assert!(header(&css, "vary").contains("accept-encoding"));
    let missing = get("/pkg/certportal.ffff.css".into()).await;
    assert_eq!(missing.status(), 404);
    assert_ne!(header(&missing, "cache-control"), year, "a 404 is not kept");
    app.stop().await;
}

/// Pages render while other portals start in the same process. Starting a portal once listed
/// the app's routes with resource loading suppressed process-wide, and a resource first polled
/// in that window by a concurrent render waited forever: a start page never answered (seen as
/// 1 of 640 requests lost in the whole suite). Each request here has a bounded wait.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_render_while_other_portals_start() {
    let app = spawn(Backend::Sqlite).await;
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .unwrap();
    let starting = async {
        for _ in 0..40 {
            spawn(Backend::Sqlite).await.stop().await;
        }
    };
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let (http, base) = (http.clone(), app.base.clone());
        tasks.push(tokio::spawn(async move {
            let mut failed = Vec::new();
            for _ in 0..40 {
                match http.get(format!("{base}/")).send().await {
                    Ok(r) if r.status() == 200 => match r.text().await {
                        Ok(html) if html.contains("<title>certportal</title>") => {}
                        other => failed.push(format!("{other:?}")),
                    },
                    other => failed.push(format!("{other:?}")),
                }
            }
            failed
        }));
    }
    let rendering = async {
        let mut failed = Vec::new();
        for t in tasks {
            failed.extend(t.await.unwrap());
        }
        failed
    };
    let (failed, ()) = tokio::join!(rendering, starting);
    assert!(
        failed.is_empty(),
        "{} of 640 pages failed: {:?}",
        failed.len(),
        failed.first()
    );
    app.stop().await;
}

/// The attribute values `name="…"` in `html`, entities decoded.
fn attributes(html: &str, name: &str) -> Vec<String> {
    let needle = format!("{name}=\"");
    html.match_indices(&needle)
        .filter_map(|(i, _)| {
            let rest = &html[i + needle.len()..];
            rest.find('"').map(|end| {
                rest[..end]
                    .replace("&quot;", "\"")
                    .replace("&#39;", "'")
                    .replace("&lt;", "<")
                    .replace("&gt;", ">")
                    .replace("&amp;", "&")
            })
        })
        .collect()
}

/// The link page is the one page with WebAssembly: its two islands (the live status and the
/// countdown) carry only the entry, the status key and the time left — never the PIN or the
/// link — and the key they poll (`/api/link_page_key`) changes when the phone does something
/// and is refused to another user.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_link_page_islands_follow_the_phone() {
    use crate::helpers::{activated_user, call, client};
    use crate::pickup::{json, request, show_link, token_of, unlock};
    let app = spawn(Backend::Sqlite).await;
    let cookie = activated_user(&app, "mika", false).await;
    let entry = request(&app, &cookie, "Pixel").await;
    let (url, pin, _, link_cookie) = show_link(&app, &cookie, &entry).await;
    let both_cookies = format!("certportal={cookie}; {link_cookie}");
    let page = || async {
        let r = client()
            .get(format!("{}/certificates/{entry}/link", app.base))
            .header("cookie", &both_cookies)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        r.text().await.unwrap()
    };
    let key_now = || async {
        json(
            call(
                &app,
                "link_page_key",
                &[("entry", &entry)],
                Some(&both_cookies),
            )
            .await,
        )
        .await
        .as_str()
        .unwrap()
        .to_string()
    };

    let html = page().await;
    assert!(html.contains("data-wasm=\"app\""), "{html}");
    assert!(html.contains("/pkg/certportal.js"), "the islands script");
    assert!(
        html.contains(&format!("data-pin=\"{pin}\"")),
        "the PIN is on the desktop's page"
    );
    let components = attributes(&html, "data-component");
    assert_eq!(components.len(), 2, "{components:?}");
    assert!(components[0].contains("LinkWatch") && components[1].contains("Countdown"));
    let props: Vec<serde_json::Value> = attributes(&html, "data-props")
        .iter()
        .map(|p| serde_json::from_str(p).unwrap())
        .collect();
    assert_eq!(props.len(), 2, "{props:?}");
    for p in &props {
        let text = p.to_string();
        assert!(
            !text.contains(&pin) && !text.contains(&token_of(&url)),
            "{text}"
        );
    }
    assert_eq!(props[0]["entry"], entry.as_str());
    let left = props[1]["left"].as_i64().unwrap();
    assert!((14 * 60..=15 * 60).contains(&left), "{left}");
    let key = props[0]["key"].as_str().unwrap().to_string();
    assert_eq!(key_now().await, key, "the page's key is the one polled");

    // A wrong PIN on the phone: the key changes, and the page renders the new one.
    let (r, grant) = unlock(&app, &token_of(&url), "ZZZZ2222").await;
    assert!(r.status().is_redirection() && grant.is_none());
    let after = key_now().await;
    assert_ne!(after, key);
    let html = page().await;
    let props = attributes(&html, "data-props");
    assert!(props[0].contains(&after), "{props:?}");

    // Another user learns nothing about it.
    let other = activated_user(&app, "noa", false).await;
    let r = call(&app, "link_page_key", &[("entry", &entry)], Some(&other)).await;
    assert_eq!(r.status(), 404);
}

/// The value of one `/metrics` sample, by its exact name and labels.
async fn metric(app: &crate::helpers::TestApp, sample: &str) -> f64 {
    let text = crate::helpers::client()
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(sample)?.trim().parse().ok())
        .unwrap_or(0.0)
}

/// The anonymous start page is kept whole (issue 17: ≥ 10,000 answers a second do not fit a
/// render each), per language, time zone and encoding, and never outlives a change: a write
/// by this process makes the next reader render it again at once, a write by another instance
/// within [`server::page_cache::FRESH_FOR`]. Signed-in readers and other cookies always get
/// their own render; the page names no script nonce, so keeping it repeats none.
async fn anonymous_start_page_kept(backend: Backend) {
    let app = spawn(backend).await;
    let http = crate::helpers::client();
    let cached = r#"certportal_start_page_answers_total{from="cache"}"#;
    let rendered = r#"certportal_start_page_answers_total{from="render"}"#;
    let get = |lang: &'static str, encoding: &'static str, cookie: Option<String>| {
        let (http, base) = (http.clone(), app.base.clone());
        async move {
            let mut r = http
                .get(format!("{base}/"))
                .header("accept-language", lang)
                .header("accept-encoding", encoding);
            if let Some(c) = cookie {
                r = r.header("cookie", c);
            }
            let r = r.send().await.unwrap();
            assert_eq!(r.status(), 200);
            let headers = r.headers().clone();
            (headers, r.bytes().await.unwrap().to_vec())
        }
    };
    let setup_needed = "No administrator exists yet.";
    let counts = || async { (metric(&app, rendered).await, metric(&app, cached).await) };
    // The same request twice (the second may accept other encodings that choose the same
    // one): rendered, then answered from the kept page. A kept page lives
    // FRESH_FOR; on a machine so busy that the pair took longer, it is asked again once that
    // page has expired (seen: this test failing under a full suite).
    let twice = |lang: &'static str, encoding: &'static str, again: &'static str| {
        let (get, counts) = (&get, &counts);
        async move {
            for _ in 0..20 {
                let before = counts().await;
                let asked = std::time::Instant::now();
                let one = get(lang, encoding, None).await;
                let two = get(lang, again, None).await;
                if asked.elapsed() < server::page_cache::FRESH_FOR {
                    let after = counts().await;
                    assert_eq!(
                        (after.0 - before.0, after.1 - before.1),
                        (1.0, 1.0),
                        "one render, one answer from the kept page"
                    );
                    return (one, two);
                }
                tokio::time::sleep(server::page_cache::FRESH_FOR).await;
            }
            panic!("no two requests within FRESH_FOR in 20 tries");
        }
    };

    let ((h1, first), (h2, second)) = twice("en", "identity", "identity").await;
    let start = counts().await;
    assert_eq!(first, second, "the same page twice");
    let html = String::from_utf8(first.clone()).unwrap();
    assert!(html.contains(setup_needed), "{html}");
    // No inline script, so a CSP without a nonce loses nothing.
    assert!(
        html.split("<script")
            .skip(1)
            .all(|tag| tag.split('>').next().is_some_and(|a| a.contains("src="))),
        "{html}"
    );
    for h in [&h1, &h2] {
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("script-src 'self';") && !csp.contains("nonce-"),
            "{csp}"
        );
        assert!(h.contains_key("x-request-id"));
    }
    assert_ne!(
        h1["x-request-id"], h2["x-request-id"],
        "per-request headers stay per request"
    );

    // Japanese is its own page, and so is a time zone.
    let (_, ja) = get("ja,en;q=0.5", "identity", None).await;
    assert!(String::from_utf8(ja).unwrap().contains("<html lang=\"ja\""));
    let (_, tokyo) = get("en", "identity", Some("tz=Asia/Tokyo; lang=en".into())).await;
    assert!(String::from_utf8(tokyo)
        .unwrap()
        .contains("data-tz=\"Asia/Tokyo\""));
    assert_eq!(counts().await, (start.0 + 2.0, start.1));

    // Compressed variants are kept compressed, each as its request accepted.
    let ((gz1, a), (gz2, b)) = twice("en", "gzip, deflate", "gzip").await;
    assert_eq!(
        (&gz1["content-encoding"], &gz2["content-encoding"]),
        (&"gzip".parse().unwrap(), &"gzip".parse().unwrap())
    );
    assert_eq!(a, b);
    let file = app.dir.path().join("start.html.gz");
    std::fs::write(&file, &a).unwrap();
    assert_eq!(
        crate::helpers::ok("gzip", &["-dc", file.to_str().unwrap()]).as_bytes(),
        html.as_bytes()
    );
    let before_br = counts().await;
    let (br, _) = get("en", "br, gzip", None).await;
    assert_eq!(br["content-encoding"], "br");
    assert_eq!(counts().await, (before_br.0 + 1.0, before_br.1));

    // Any other cookie, a session above all, is rendered for its reader.
    let token = crate::helpers::activated_user(&app, "alice", false).await;
    let (_, mine) = get("en", "identity", Some(format!("certportal={token}"))).await;
    let mine = String::from_utf8(mine).unwrap();
    assert!(
        mine.contains("nav-certificates") && !mine.contains("nav-sign-in"),
        "the signed-in header: {mine}"
    );
    get("en", "identity", Some("something=else".into())).await;
    // Neither was answered from, nor kept in, the page cache.
    assert_eq!(counts().await, (before_br.0 + 1.0, before_br.1));

    // A write by this process: the next anonymous reader sees it at once.
    let (_, before) = get("en", "identity", None).await;
    assert!(String::from_utf8(before).unwrap().contains(setup_needed));
    app.add_user("boss", true).await;
    let (_, after) = get("en", "identity", None).await;
    assert!(
        !String::from_utf8(after).unwrap().contains(setup_needed),
        "the kept page was dropped"
    );

    // A write by another instance on the same database: seen within FRESH_FOR. The page
    // kept here names the CA; the other instance rotates it.
    let (_, kept) = get("en", "identity", None).await;
    let kept = String::from_utf8(kept).unwrap();
    let second =
        crate::helpers::spawn_on(tempfile::tempdir().unwrap(), app.database_url.clone()).await;
    let new_ca = second
        .services
        .rotate_ca(&app::ssr::audit::Actor::cli(), None)
        .await
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let (_, now) = get("en", "identity", None).await;
        let now = String::from_utf8(now).unwrap();
        if now.contains(&new_ca.fingerprint_sha256) {
            assert!(!kept.contains(&new_ca.fingerprint_sha256));
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the other instance's CA never showed"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    second.stop().await;
}
both!(
    the_anonymous_start_page_is_kept_until_something_changes,
    anonymous_start_page_kept
);

/// A page looks its session up once (the header's "who am I" and the page's own server
/// functions share the answer), and only for itself: two users' pages asked at once show
/// each their own account, and a session ended between two pages is gone on the next.
async fn one_session_answer_per_page(backend: Backend) {
    use crate::helpers::{activated_user, call, client};
    let app = spawn(backend).await;
    let (root, ulla) = (
        activated_user(&app, "root", true).await,
        activated_user(&app, "ulla", false).await,
    );
    let account = |token: String| {
        let base = app.base.clone();
        async move {
            let r = client()
                .get(format!("{base}/account"))
                .header("cookie", format!("certportal={token}"))
                .send()
                .await
                .unwrap();
            r.text().await.unwrap()
        }
    };
    for _ in 0..8 {
        let (r, u) = tokio::join!(account(root.clone()), account(ulla.clone()));
        assert!(
            r.contains("root Display") && !r.contains("ulla Display"),
            "{r}"
        );
        assert!(
            u.contains("ulla Display") && !u.contains("root Display"),
            "{u}"
        );
    }
    assert_eq!(call(&app, "logout", &[], Some(&ulla)).await.status(), 200);
    let after = account(ulla.clone()).await;
    assert!(!after.contains("ulla Display"), "signed out: {after}");
    assert!(account(root.clone()).await.contains("root Display"));
    app.stop().await;
}
both!(
    a_page_asks_for_its_session_once,
    one_session_answer_per_page
);
