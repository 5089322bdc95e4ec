//! The certportal server: configuration, start-up (database, migrations, CA), the axum router
//! (Leptos app, server functions, plain routes, middleware) and background tasks.

pub mod config;
pub mod csv;
pub mod oidc;
pub mod page_cache;
pub mod routes;
pub mod scim;
pub mod tls;
pub mod zip;

/// The process's allocator: jemalloc, for Rust's allocations and, with its `malloc` unprefixed,
/// for SQLite's and every other C library's too (measured in `benches/directory.out` and
/// `benches/signin.out`: glibc's malloc spent about a quarter of the busy CPU of a loaded
/// directory page and grew with the threads that touched it).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

use app::api::auth::session::SessionMemo;
use app::ssr::clock::{Clock, SystemClock};
use app::ssr::services::{ServiceError, ServicesConfig};
use app::ssr::{certs, setup, Services};
use app::{shell, App};
use axum::extract::FromRef;
use axum::http::{header, HeaderName, HeaderValue, Request};
use axum::http::{Extensions, HeaderMap, StatusCode, Version};
use axum::routing::get;
use axum::Router;
use config::Config;
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tower_http::compression::predicate::{DefaultPredicate, Predicate};
use tower_http::compression::{CompressionLayer, CompressionLevel};
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

/// What every handler can reach.
#[derive(Clone, Debug)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub services: Services,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(s: &AppState) -> Self {
        s.leptos_options.clone()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error("start-up failed: {0}")]
    Services(#[from] ServiceError),
    #[error("cannot use data directory: {0}")]
    DataDir(String),
    #[error("cannot listen on {addr}: {cause}")]
    Listen { addr: SocketAddr, cause: String },
    #[error("first-admin setup link: {0}")]
    Setup(String),
    #[error("TLS: {0}")]
    Tls(String),
    #[error("mail: {0}")]
    Mail(String),
    #[error("site files: {0}")]
    Site(String),
    #[error("OpenID provider: {0}")]
    Oidc(String),
}

/// Builds the services from configuration: data directory (mode 0700), database with
/// migrations, the CA.
pub async fn services(cfg: &Config, clock: Arc<dyn Clock>) -> Result<Services, StartError> {
    app::ssr::services::create_private_dir(&cfg.data_dir)
        .map_err(|e| StartError::DataDir(e.to_string()))?;
    let sc = ServicesConfig {
        database_url: cfg.database_url.clone(),
        database_max_connections: cfg.database_max_connections,
        data_dir: cfg.data_dir.clone(),
        public_url: cfg.public_url.clone(),
        ca_passphrase: cfg.ca_passphrase.clone(),
        ca_common_name: cfg.ca_common_name.clone(),
    };
    let signer = cfg
        .profile_signing
        .as_ref()
        .map(config::profile_signer)
        .transpose()?;
    let mut services = Services::start(&sc, clock).await?;
    let s = services.settings_mut();
    s.profile_signer = signer.map(Arc::new);
    s.trusted_proxies = Arc::new(cfg.trusted_proxies.clone());
    s.thresholds = cfg.thresholds.clone();
    s.metrics_token = cfg.metrics_token.clone();
    s.time_zone = cfg.time_zone.clone();
    s.scim = Arc::new(cfg.scim.clone());
    if let Some(o) = &cfg.oidc {
        let oidc = app::ssr::oidc::Oidc::new(o.clone()).map_err(StartError::Oidc)?;
        s.oidc = Some(Arc::new(oidc));
    }
    if let Some(m) = &cfg.mail {
        let mailer = app::ssr::mail::Mailer::new(m.clone()).map_err(StartError::Mail)?;
        s.mailer = Some(Arc::new(mailer));
    }
    restrict_sqlite_file(&cfg.database_url);
    Ok(services)
}

/// The SQLite file holds the encrypted CA key and session hashes: owner-only.
fn restrict_sqlite_file(url: &str) {
    #[cfg(unix)]
    if let Some(rest) = url.strip_prefix("sqlite://") {
        use std::os::unix::fs::PermissionsExt;
        let path = rest.split('?').next().unwrap_or(rest);
        for suffix in ["", "-wal", "-shm"] {
            let p = format!("{path}{suffix}");
            if std::path::Path::new(&p).exists() {
                let _ = std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600));
            }
        }
    }
}

#[derive(Clone, Copy, Default)]
struct RandomRequestId;

impl MakeRequestId for RandomRequestId {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        HeaderValue::from_str(&app::ssr::ids::new_id()[..16])
            .ok()
            .map(RequestId::new)
    }
}

/// The Leptos options for a site root and address (cargo-leptos's layout: `pkg/` inside),
/// with hashed file names when the build made them (see [`site_hashes`]).
pub fn leptos_options(cfg: &Config) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name("certportal")
        .site_root(cfg.site_root.display().to_string())
        .site_pkg_dir("pkg")
        .site_addr(cfg.listen)
        .hash_files(matches!(site_hashes(&cfg.site_root), Ok(true)))
        .build()
}

/// Whether the site's `pkg/` files carry content hashes in their names: a release build
/// (`hash-files` in Cargo.toml) writes `hash.txt` beside the binary, naming them; the pages
/// then link `pkg/certportal.<hash>.js` and the like, which may be cached for a year. Without
/// `hash.txt` (tests, a plain `cargo build`) the plain names are used. A `hash.txt` whose
/// files are not in the site root (a binary copied without its site, or the other way round)
/// is an error: every page would link files that do not exist.
pub fn site_hashes(site_root: &std::path::Path) -> Result<bool, String> {
    match std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|d| d.join("hash.txt")))
    {
        Some(list) if list.exists() => hashed_names(&list, site_root).map(|()| true),
        _ => Ok(false),
    }
}

/// Checks that the `js`, `wasm` and `css` files that `list` (cargo-leptos's `hash.txt`)
/// names are in `site_root/pkg`.
pub fn hashed_names(list: &std::path::Path, site_root: &std::path::Path) -> Result<(), String> {
    let text = std::fs::read_to_string(list).map_err(|e| format!("{}: {e}", list.display()))?;
    for ext in ["js", "wasm", "css"] {
        let hash = text
            .lines()
            .find_map(|l| l.trim().strip_prefix(ext)?.strip_prefix(':'))
            .map(str::trim)
            .ok_or_else(|| format!("{} names no {ext} file", list.display()))?;
        let file = site_root
            .join("pkg")
            .join(format!("certportal.{hash}.{ext}"));
        if !file.is_file() {
            return Err(format!(
                "{} names {}, which is missing: deploy the binary with the site it was built with",
                list.display(),
                file.display()
            ));
        }
    }
    Ok(())
}

/// Versioned URLs of the public script and icon: the file's SHA-256 (first 16 hex digits) in
/// `?v=`, so a changed file gets a new URL and the old one may be cached for a year.
fn asset_urls(site_root: &std::path::Path) -> app::pages::AssetUrls {
    use sha2::{Digest, Sha256};
    let versioned = |name: &str| match std::fs::read(site_root.join(name)) {
        Ok(bytes) => format!("/{name}?v={}", &hex::encode(Sha256::digest(&bytes))[..16]),
        Err(_) => format!("/{name}"),
    };
    app::pages::AssetUrls {
        script: versioned("passkey.js"),
        icon: versioned("favicon.svg"),
    }
}

/// What [`static_cache`] knows: whether `pkg/` names are hashed, and the versioned URLs.
struct StaticFiles {
    hashed: bool,
    versioned: Vec<String>,
}

/// Cache headers of the static files. A hashed `pkg/` file and a public file asked for under
/// its current version (`?v=`) are `immutable` for a year — only when found (a 404 must not
/// be kept). Every static file varies by `Accept-Encoding` (it is served precompressed as
/// brotli or gzip when the browser takes them), so a shared cache keeps the variants apart.
async fn static_cache(
    axum::extract::State(files): axum::extract::State<Arc<StaticFiles>>,
    req: Request<axum::body::Body>,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let path = req.uri().path();
    let in_pkg = path.starts_with("/pkg/");
    let versioned = req
        .uri()
        .path_and_query()
        .is_some_and(|pq| files.versioned.iter().any(|v| v == pq.as_str()));
    let public = files
        .versioned
        .iter()
        .any(|v| v.split('?').next() == Some(path));
    let immutable = (in_pkg && files.hashed) || versioned;
    let mut res = next.run(req).await;
    if in_pkg || public {
        res.headers_mut()
            .entry(header::VARY)
            .or_insert(HeaderValue::from_static("accept-encoding"));
        let found = res.status().is_success() || res.status() == StatusCode::NOT_MODIFIED;
        if immutable && found {
            res.headers_mut().insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            );
        }
    }
    res
}

/// The app's routes, listed once per process. Listing them renders the app with resource
/// loading suppressed by a process-wide flag (`leptos_server`'s `SuppressResourceLoad`): a
/// resource first polled meanwhile by a page another portal in this process is rendering would
/// wait forever (leptos issue 4773). Listing them once, before the first portal serves, keeps
/// every later start (tests, a restart in the same process) from suppressing anyone's page.
fn route_list() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> =
        std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

/// The whole HTTP surface, without a socket (tests can call it with `oneshot`).
pub fn router(services: Services, leptos_options: LeptosOptions) -> Router {
    let state = AppState {
        leptos_options: leptos_options.clone(),
        services: services.clone(),
    };
    let routes = route_list();
    let hsts = services.is_https().then(|| {
        SetResponseHeaderLayer::if_not_present(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        )
    });
    let allowed_host: Arc<str> = Arc::from(public_host(&services.public_url));
    let assets = asset_urls(std::path::Path::new(leptos_options.site_root.as_ref()));
    let static_files = Arc::new(StaticFiles {
        hashed: leptos_options.hash_files,
        versioned: vec![assets.script.clone(), assets.icon.clone()],
    });
    let app = Router::new()
        .route("/healthz", get(routes::healthz))
        .route("/metrics", get(routes::metrics))
        .route("/ca.pem", get(routes::ca_pem))
        .route("/ca/{file}", get(routes::ca_file))
        .route("/crl/{file}", get(routes::crl))
        .route(
            "/admin/create-download",
            axum::routing::post(routes::create_download),
        )
        .route(
            "/admin/revoke",
            axum::routing::post(routes::revoke_selection),
        )
        .route(
            "/admin/handover-pins.csv",
            axum::routing::post(routes::handover_pins),
        )
        .route("/admin/history.csv", get(routes::history_csv))
        .route("/ocsp", axum::routing::post(routes::ocsp_post))
        .route("/ocsp/{*request}", get(routes::ocsp_get))
        // Nothing a GET or HEAD reaches releases anything (link checkers, previews).
        .route(
            "/pickup/{token}/download/{format}",
            get(routes::pickup_download_get).head(routes::method_not_allowed),
        )
        .route(
            "/pickup/{token}/unlock",
            axum::routing::post(routes::pickup_unlock),
        )
        .route(
            "/pickup/{token}/download",
            axum::routing::post(routes::pickup_download),
        )
        .route("/scep", get(routes::scep_get).post(routes::scep_post))
        .nest("/scim/v2", scim::routes())
        .route("/auth/oidc/start", get(oidc::start))
        .route("/auth/oidc/confirm", get(oidc::confirm))
        .route("/auth/oidc/callback", get(oidc::callback))
        .leptos_routes_with_context(
            &state,
            routes,
            {
                let (s, assets) = (services.clone(), assets.clone());
                move || {
                    provide_context(s.clone());
                    provide_context(assets.clone());
                    provide_context(SessionMemo::default());
                    set_page_csp();
                }
            },
            {
                let o = leptos_options.clone();
                move || shell(o.clone())
            },
        )
        // The 404 page gets the same context as every page: the signed-in header, and the
        // page CSP that lets its stylesheet load.
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(
            {
                let (s, assets) = (services.clone(), assets.clone());
                move || {
                    provide_context(s.clone());
                    provide_context(assets.clone());
                    provide_context(SessionMemo::default());
                    set_page_csp();
                }
            },
            shell,
        ))
        .with_state(state);
    // The layers wrap the router once, around the routing, rather than each route (what
    // `Router::layer` does): axum copies the matched route's layered service for every
    // request, and each `from_fn` layer copies what it wraps again, so a stack layered per
    // route was copied, boxed and dropped level by level on every request. The first layer
    // below is the outermost: it sees the request first and the response last.
    let x_request_id = HeaderName::from_static("x-request-id");
    let stack = tower::ServiceBuilder::new()
        .layer(SetRequestIdLayer::new(x_request_id.clone(), RandomRequestId))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
            let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
            // The path only, with one-time tokens blanked: query strings may carry tokens
            // and are never logged.
            tracing::info_span!("http", method = %req.method(), path = %loggable_path(req.uri().path()), request_id = %id)
        }))
        .layer(PropagateRequestIdLayer::new(x_request_id))
        .layer(SetResponseHeaderLayer::if_not_present(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")))
        .layer(SetResponseHeaderLayer::if_not_present(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        // Pages are asked for again every time (they show the current state); the static
        // files revalidate with `Last-Modified`. Answers that set their own keep it.
        .layer(SetResponseHeaderLayer::if_not_present(header::CACHE_CONTROL, HeaderValue::from_static("no-cache")))
        .layer(SetResponseHeaderLayer::if_not_present(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'; base-uri 'none'"),
        ))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(MAX_BODY))
        .map_request(|r: Request<tower_http::body::Limited<axum::body::Body>>| r.map(axum::body::Body::new))
        .option_layer(hsts)
        .layer(axum::middleware::from_fn_with_state(services.trusted_proxies.clone(), client_address))
        .layer(axum::middleware::from_fn_with_state(allowed_host, host_guard))
        .layer(axum::middleware::from_fn_with_state(public_origin(&services.public_url), cross_origin_guard))
        .layer(axum::middleware::from_fn(refuse_nul))
        .layer(axum::middleware::from_fn(server_fn_status))
        .layer(axum::middleware::from_fn_with_state(static_files, static_cache))
        // The anonymous start page, kept whole (compressed) while nothing changed.
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(page_cache::PageCache::new(services.clone())),
            page_cache::serve,
        ))
        // Pages and API answers compressed on the fly (brotli at quality 4: quality 11, the
        // library's default, costs far too much per request); the static files are
        // precompressed at build time and pass through. A `no-store` answer — a pickup or
        // link page, a PIN, a bundle — is never compressed: it holds a secret beside text
        // the request chose, and a compressed length would tell an observer about the secret
        // (BREACH).
        .layer(
            CompressionLayer::new()
                .quality(CompressionLevel::Precise(4))
                .compress_when(DefaultPredicate::new().and(not_no_store as fn(StatusCode, Version, &HeaderMap, &Extensions) -> bool)),
        )
        .layer(axum::middleware::from_fn(plain_pages))
        .service(app);
    Router::new().fallback_service(stack)
}

/// A page without WebAssembly ends at `</html>`. Leptos appends its resource bootstrap
/// (`<script nonce=…>__RESOLVED_RESOURCES=[]…</script>`) after the document of every page;
/// only the WebAssembly reads it, and these pages' CSP names no nonce (`set_page_csp`), so
/// the browser would refuse it anyway. Dropping it keeps the pages free of inline script and
/// of a per-response value (which lets the anonymous start page be kept whole).
async fn plain_pages(
    req: Request<axum::body::Body>,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let wasm = app::page_uses_wasm(req.uri().path());
    let res = next.run(req).await;
    let html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    if wasm || !html {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(b) => b,
        Err(e) => {
            tracing::error!("a page could not be read whole: {e}");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    const END: &[u8] = b"</html>";
    let end = bytes
        .windows(END.len())
        .rposition(|w| w == END)
        .map_or(bytes.len(), |at| at + END.len());
    parts.headers.remove(header::CONTENT_LENGTH);
    axum::response::Response::from_parts(parts, axum::body::Body::from(bytes.slice(..end)))
}

/// Whether a response may be compressed: not when it is `no-store` (see the layer).
fn not_no_store(_: StatusCode, _: Version, headers: &HeaderMap, _: &Extensions) -> bool {
    !headers
        .get(header::CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|d| d.trim().eq_ignore_ascii_case("no-store"))
        })
}

/// A request path as logged: the secret segment after `/pickup/`, `/setup/` or `/activate/`
/// is replaced by `…`, so no token ever reaches a log line.
pub fn loggable_path(path: &str) -> String {
    let mut out = Vec::new();
    let mut secret_next = false;
    for seg in path.split('/') {
        if secret_next && !seg.is_empty() {
            out.push("…");
        } else {
            out.push(seg);
        }
        secret_next = matches!(seg, "pickup" | "setup" | "activate") && out.len() == 2;
    }
    out.join("/")
}

/// Largest request body accepted (forms and server-function calls are small).
pub const MAX_BODY: usize = 64 * 1024;

/// The CSP for rendered pages: scripts only from the portal itself, no framing. The page that
/// loads the WebAssembly (`app::page_uses_wasm`) also allows this response's nonce (Leptos
/// puts it on its hydration script) and WebAssembly to compile; the others run no inline
/// script, so they name no nonce (which also lets the anonymous start page be kept whole, see
/// `page_cache`).
fn set_page_csp() {
    use leptos::prelude::use_context;
    let Some(res) = use_context::<leptos_axum::ResponseOptions>() else {
        return;
    };
    let wasm = use_context::<axum::http::request::Parts>()
        .is_some_and(|p| app::page_uses_wasm(p.uri.path()));
    let scripts = match leptos::nonce::use_nonce() {
        Some(nonce) if wasm => format!("'self' 'nonce-{}' 'wasm-unsafe-eval'", &*nonce),
        _ => "'self'".to_string(),
    };
    let csp = format!(
        "default-src 'self'; script-src {scripts}; style-src 'self'; \
         img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'"
    );
    if let Ok(v) = HeaderValue::from_str(&csp) {
        res.insert_header(header::CONTENT_SECURITY_POLICY, v);
    }
}

/// Works out the client's address once per request (the socket's peer, or what a trusted
/// proxy forwarded) and leaves it in the request's extensions for handlers and the history.
async fn client_address(
    axum::extract::State(proxies): axum::extract::State<Arc<app::ssr::client_addr::TrustedProxies>>,
    mut req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let peer = req
        .extensions()
        .get::<axum::extract::ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    if let Some(peer) = peer.filter(|p| !proxies.trusts(*p)) {
        // The common case: a direct client; its headers are not read.
        req.extensions_mut().insert(app::web::ClientAddr(peer));
    } else if let Some(peer) = peer {
        // Bytes a client added that are not visible ASCII must not hide the address the
        // proxy appended: read every line, replacing what is not UTF-8.
        let lines: Vec<String> = req
            .headers()
            .get_all(proxies.header.name())
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect();
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        let ip = proxies.client(peer, &refs);
        req.extensions_mut().insert(app::web::ClientAddr(ip));
        req.extensions_mut().insert(ViaTrustedProxy);
    }
    next.run(req).await
}

/// The host (lower case, no port) of the public URL.
fn public_host(public_url: &str) -> String {
    let authority = public_url
        .split_once("://")
        .map_or("", |(_, r)| r.split('/').next().unwrap_or(""));
    host_of(authority).to_ascii_lowercase()
}

/// The host part of an authority (`host`, `host:port`, `[v6]:port`).
fn host_of(authority: &str) -> &str {
    if let Some(rest) = authority.strip_prefix('[') {
        return rest.split(']').next().unwrap_or("");
    }
    authority.rsplit_once(':').map_or(authority, |(h, _)| h)
}

/// Whether a request's `Host` may be served: the public URL's host, `localhost`, or an IP
/// address. A DNS-rebinding page reaches the portal under the attacker's own name, which is
/// none of these; a request without `Host` (not from a browser) passes.
pub fn host_allowed(host_header: Option<&str>, public_host: &str) -> bool {
    let Some(h) = host_header else {
        return true;
    };
    let host = host_of(h.trim()).to_ascii_lowercase();
    host == public_host || host == "localhost" || host.parse::<std::net::IpAddr>().is_ok()
}

/// A request extension: the socket's peer is one of the trusted proxies.
#[derive(Debug, Clone, Copy)]
struct ViaTrustedProxy;

/// The `Host` allow-list. A trusted reverse proxy picks the site by name itself (and may
/// send its upstream's name as `Host`), so its requests pass.
async fn host_guard(
    axum::extract::State(public_host): axum::extract::State<Arc<str>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok());
    if req.extensions().get::<ViaTrustedProxy>().is_some() || host_allowed(host, &public_host) {
        next.run(req).await
    } else {
        (
            axum::http::StatusCode::MISDIRECTED_REQUEST,
            "this portal is not served under that name\n",
        )
            .into_response()
    }
}

/// No valid request carries a NUL character in its address or form fields, and PostgreSQL
/// cannot store or compare one in text: refused up front (400), before any handler or query.
async fn refuse_nul(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let malformed = || {
        let body = serde_json::to_string(&app::api::AppError::new(
            app::domain::error_code::ErrorCode::MalformedRequest,
        ))
        .unwrap_or_default();
        (
            axum::http::StatusCode::BAD_REQUEST,
            [(header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response()
    };
    let has_nul = |b: &[u8]| b.contains(&0) || b.windows(3).any(|w| w.eq_ignore_ascii_case(b"%00"));
    let uri = req.uri();
    if has_nul(uri.path().as_bytes()) || uri.query().is_some_and(|q| has_nul(q.as_bytes())) {
        return malformed();
    }
    let form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !form {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
        return (
            axum::http::StatusCode::PAYLOAD_TOO_LARGE,
            "request body too large\n",
        )
            .into_response();
    };
    if has_nul(&bytes) {
        return malformed();
    }
    next.run(axum::extract::Request::from_parts(
        parts,
        axum::body::Body::from(bytes),
    ))
    .await
}

/// `scheme://host[:port]` of the public URL.
fn public_origin(public_url: &str) -> Arc<str> {
    let rest = public_url
        .split_once("://")
        .map(|(s, r)| (s, r.split('/').next().unwrap_or("")))
        .unwrap_or(("", ""));
    Arc::from(format!("{}://{}", rest.0, rest.1))
}

/// CSRF defence for every state-changing request (server functions and form posts): a browser
/// request must come from this site. Browsers say so in `Sec-Fetch-Site`; older ones send an
/// `Origin` that must be the portal's. Requests with neither are not from a browser page and
/// carry no ambient cookie risk (SameSite=Lax keeps cookies off cross-site posts anyway).
/// Server functions answer every error with 500; this gives API clients the real status
/// (401, 403, 404, 400, 409, 429) from the error the function returned. Only error bodies
/// (small JSON) are read; successful responses stream through untouched.
async fn server_fn_status(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let api = req.uri().path().starts_with("/api/");
    let res = next.run(req).await;
    if !api || res.status() != axum::http::StatusCode::INTERNAL_SERVER_ERROR {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 64 * 1024).await else {
        parts.status = axum::http::StatusCode::INTERNAL_SERVER_ERROR;
        return axum::response::Response::from_parts(parts, axum::body::Body::empty());
    };
    if let Ok(e) = serde_json::from_slice::<app::api::AppError>(&bytes) {
        if let Ok(code) = axum::http::StatusCode::from_u16(e.http_status()) {
            parts.status = code;
        }
    }
    axum::response::Response::from_parts(parts, axum::body::Body::from(bytes))
}

async fn cross_origin_guard(
    axum::extract::State(origin): axum::extract::State<Arc<str>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    if same_site_or_safe(req.method(), req.headers(), &origin) {
        next.run(req).await
    } else {
        tracing::warn!(path = %loggable_path(req.uri().path()), "cross-site request refused");
        (
            axum::http::StatusCode::FORBIDDEN,
            "cross-site request refused\n",
        )
            .into_response()
    }
}

fn same_site_or_safe(
    method: &axum::http::Method,
    headers: &axum::http::HeaderMap,
    origin: &str,
) -> bool {
    use axum::http::Method;
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return true;
    }
    let h = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    match (h("sec-fetch-site"), h("origin")) {
        (Some(site), _) => site == "same-origin" || site == "none",
        (None, Some(o)) => {
            o == origin
                || h("host").is_some_and(|host| {
                    o == format!("http://{host}") || o == format!("https://{host}")
                })
        }
        (None, None) => true,
    }
}

/// A running portal.
pub struct Running {
    pub addr: SocketAddr,
    pub services: Services,
    pub setup_link: Option<String>,
    shutdown: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    /// Stops accepting, finishes in-flight requests, and waits.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        let _ = self.task.await;
        self.services.db.close().await;
    }
}

/// Starts the portal on `cfg.listen` (port 0 picks a free port) with the given clock.
pub async fn start(cfg: &Config, clock: Arc<dyn Clock>) -> Result<Running, StartError> {
    let listener = tokio::net::TcpListener::bind(cfg.listen)
        .await
        .map_err(|e| StartError::Listen {
            addr: cfg.listen,
            cause: e.to_string(),
        })?;
    let addr = listener.local_addr().map_err(|e| StartError::Listen {
        addr: cfg.listen,
        cause: e.to_string(),
    })?;
    let mut cfg = cfg.clone();
    if !cfg.public_url_explicit {
        let scheme = if cfg.tls.is_some() { "https" } else { "http" };
        cfg.public_url = format!("{scheme}://localhost:{}", addr.port());
    }
    let cfg = &cfg;
    let services = services(cfg, clock).await?;
    let setup_link = setup::setup_link_if_needed(&services)
        .await
        .map_err(|e| StartError::Setup(e.to_string()))?;
    site_hashes(&cfg.site_root).map_err(StartError::Site)?;
    let mut opts = leptos_options(cfg);
    opts.site_addr = addr;
    let app = router(services.clone(), opts);
    let (tx, rx) = tokio::sync::watch::channel(false);
    spawn_background(services.clone(), tx.subscribe());
    let task = match &cfg.tls {
        None => tokio::spawn(serve_on(listener, app, rx)),
        Some(files) => {
            let current: tls::Current = Arc::new(std::sync::RwLock::new(
                tls::load(files).map_err(StartError::Tls)?,
            ));
            tls::watch(files.clone(), current.clone(), tx.subscribe());
            let listener =
                tls::TlsListener::new(listener, current).map_err(|e| StartError::Listen {
                    addr: cfg.listen,
                    cause: e.to_string(),
                })?;
            use axum::serve::ListenerExt;
            tokio::spawn(serve_on(listener.tap_io(|_| {}), app, rx))
        }
    };
    Ok(Running {
        addr,
        services,
        setup_link,
        shutdown: tx,
        task,
    })
}

/// Serves `app` on `listener` until the stop signal, then finishes in-flight requests.
async fn serve_on<L>(listener: L, app: Router, mut rx: tokio::sync::watch::Receiver<bool>)
where
    L: axum::serve::Listener<Addr = SocketAddr>,
    for<'a> SocketAddr: axum::extract::connect_info::Connected<axum::serve::IncomingStream<'a, L>>,
{
    let serve = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        let _ = rx.wait_for(|stop| *stop).await;
    });
    if let Err(e) = serve.await {
        tracing::error!(error = %e, "server stopped with an error");
    }
}

/// What one run of the background work did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TickReport {
    pub lapsed: usize,
    pub crls_refreshed: usize,
    pub mail: app::ssr::reminders::RunReport,
}

/// One run of the background work: lapse enrollments past their pickup deadline (rule 6),
/// re-sign CRLs before they run out, purge expired sessions, and send the reminders and
/// digests that are due. It reads the injected clock, so tests call it directly after
/// moving a manual clock instead of waiting.
pub async fn background_tick(services: &Services) -> TickReport {
    let mut report = TickReport::default();
    match certs::lapse_overdue(services).await {
        Ok(0) => {}
        Ok(n) => {
            report.lapsed = n;
            tracing::info!(lapsed = n, "enrollments past their pickup deadline lapsed");
        }
        Err(e) => tracing::error!(error = %e, "lapsing overdue enrollments failed"),
    }
    match certs::refresh_crls(services).await {
        Ok(0) => {}
        Ok(n) => {
            report.crls_refreshed = n;
            tracing::info!(crls = n, "CRLs re-signed before their nextUpdate");
        }
        Err(e) => tracing::error!(error = %e, "refreshing CRLs failed"),
    }
    if let Err(e) = app::ssr::auth::purge_expired(services).await {
        tracing::error!(error = %e, "purging expired sessions failed");
    }
    if let Err(e) = app::ssr::links::purge_old_grants(services).await {
        tracing::error!(error = %e, "purging old pickup grants failed");
    }
    if let Some(mailer) = &services.mailer {
        match app::ssr::reminders::run(services, mailer).await {
            Ok(r) => {
                report.mail = r;
                if r != Default::default() {
                    tracing::info!(
                        queued = r.queued,
                        sent = r.sent,
                        retried = r.retried,
                        failed = r.failed,
                        abandoned = r.abandoned,
                        cancelled = r.cancelled,
                        "reminders and digests"
                    );
                }
            }
            Err(e) => tracing::error!(error = %e, "the reminder run failed"),
        }
    }
    report
}

/// Runs [`background_tick`] every minute until the server stops.
fn spawn_background(services: Services, mut stop: tokio::sync::watch::Receiver<bool>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    background_tick(&services).await;
                }
                _ = stop.changed() => break,
            }
        }
    });
}

/// The real clock.
pub fn system_clock() -> Arc<dyn Clock> {
    Arc::new(SystemClock)
}

#[cfg(test)]
mod tests {
    use super::loggable_path;

    #[test]
    fn tokens_never_reach_the_log() {
        let t = "ab".repeat(32);
        assert_eq!(loggable_path(&format!("/pickup/{t}")), "/pickup/…");
        assert_eq!(
            loggable_path(&format!("/pickup/{t}/download/p12")),
            "/pickup/…/download/p12"
        );
        assert_eq!(loggable_path(&format!("/setup/{t}")), "/setup/…");
        assert_eq!(loggable_path(&format!("/activate/{t}")), "/activate/…");
        assert_eq!(
            loggable_path("/certificates/abc/link"),
            "/certificates/abc/link"
        );
        assert_eq!(loggable_path("/api/whoami"), "/api/whoami");
        assert_eq!(loggable_path("/"), "/");
    }
}
