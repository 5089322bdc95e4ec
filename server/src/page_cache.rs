//! The anonymous start page, kept whole in memory.
//!
//! `/` without a session is the same page for everyone who reads it in the same language and
//! time zone: what certportal is for, and the CA and its CRL. Rendering it (the app, the CA's
//! row, brotli) costs about a millisecond of a core; answering it from here costs a map
//! lookup. A kept page is used only while
//! - nothing was committed to the database by this process since it was rendered
//!   ([`app::ssr::db::Db::commits`]: a CRL published, the first administrator set up, the CA
//!   rotated — anything), and
//! - it is younger than [`FRESH_FOR`] (another instance on the same PostgreSQL database, or
//!   a command-line run, may have changed what it shows) — the rule of
//!   [`app::ssr::db::Kept`].
//!
//! Only requests that carry no cookie but `lang` and `tz` are answered from here (a session
//! cookie, or any other, goes to the app), only `GET /` without a query, and only answers
//! that are `200` and set no cookie are kept. The page carries no per-request secret: pages
//! without WebAssembly have no script nonce (see `set_page_csp`). Each kept page is stored as
//! sent — brotli, gzip or plain, whichever the request's `Accept-Encoding` chose.

use app::i18n::Lang;
use app::ssr::Services;
use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, HeaderValue, Method, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

pub use app::ssr::db::FRESH_FOR;

/// At most this many variants are kept (languages × zones × encodings); when full, the map
/// is emptied and fills again.
const MAX_ENTRIES: usize = 64;

/// Pages larger than this are not kept (the start page is about 10 KB).
const MAX_BODY: usize = 256 * 1024;

/// The encodings the kept pages are stored in, by preference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Encoding {
    Brotli,
    Gzip,
    Identity,
}

impl Encoding {
    /// What the request accepts, best first: brotli, then gzip, else none (q=0 refuses).
    pub fn negotiate(accept: Option<&str>) -> Encoding {
        let accepts = |name: &str| {
            accept.is_some_and(|h| {
                h.split(',').any(|item| {
                    let mut parts = item.split(';');
                    let coding = parts.next().unwrap_or("").trim();
                    let refused = parts.any(|p| {
                        p.trim()
                            .strip_prefix("q=")
                            .and_then(|q| q.trim().parse::<f32>().ok())
                            .is_some_and(|q| q <= 0.0)
                    });
                    coding.eq_ignore_ascii_case(name) && !refused
                })
            })
        };
        if accepts("br") {
            Encoding::Brotli
        } else if accepts("gzip") {
            Encoding::Gzip
        } else {
            Encoding::Identity
        }
    }

    fn header(self) -> Option<HeaderValue> {
        match self {
            Encoding::Brotli => Some(HeaderValue::from_static("br")),
            Encoding::Gzip => Some(HeaderValue::from_static("gzip")),
            Encoding::Identity => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    lang: Lang,
    zone: String,
    encoding: Encoding,
}

struct Entry {
    commits: u64,
    made: Instant,
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

/// The kept pages of one portal.
pub struct PageCache {
    services: Services,
    entries: Mutex<HashMap<Key, Arc<Entry>>>,
}

impl PageCache {
    pub fn new(services: Services) -> PageCache {
        PageCache {
            services,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The variant this request would be answered with, if it may be answered from here.
    fn key(&self, req: &Request<Body>) -> Option<Key> {
        if req.method() != Method::GET || req.uri().path() != "/" || req.uri().query().is_some() {
            return None;
        }
        let cookies: Vec<&str> = req
            .headers()
            .get_all(header::COOKIE)
            .iter()
            .map(|v| v.to_str().ok())
            .collect::<Option<_>>()?;
        // One `Cookie` line at most: the language is read from the first one only
        // (`request_lang`), and the key must be what the page is rendered from.
        if cookies.len() > 1 {
            return None;
        }
        let only_preferences = cookies.iter().flat_map(|c| c.split(';')).all(|kv| {
            let name = kv.split('=').next().unwrap_or("").trim();
            name.is_empty() || name == "lang" || name == "tz"
        });
        if !only_preferences {
            return None;
        }
        // What the shell renders the page with, asked the same way.
        let headers = req.headers();
        let lang = app::web::request_lang(headers);
        let zone = app::web::request_zone(headers, &self.services.time_zone);
        let accept = headers
            .get(header::ACCEPT_ENCODING)
            .and_then(|v| v.to_str().ok());
        Some(Key {
            lang,
            zone: zone.name().to_string(),
            encoding: Encoding::negotiate(accept),
        })
    }

    fn fresh(&self, key: &Key) -> Option<Arc<Entry>> {
        let entries = self.entries.lock().ok()?;
        let e = entries.get(key)?;
        self.services
            .db
            .is_current(e.commits, e.made)
            .then(|| e.clone())
    }

    fn keep(&self, key: Key, entry: Entry) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= MAX_ENTRIES && !entries.contains_key(&key) {
                entries.clear();
            }
            entries.insert(key, Arc::new(entry));
        }
    }
}

/// The middleware: answers a cacheable request from a fresh kept page, or renders it (with
/// the request's `Accept-Encoding` reduced to the one encoding the variant is kept in) and
/// keeps the answer.
pub async fn serve(
    axum::extract::State(cache): axum::extract::State<Arc<PageCache>>,
    mut req: Request<Body>,
    next: axum::middleware::Next,
) -> Response {
    let Some(key) = cache.key(&req) else {
        return next.run(req).await;
    };
    if let Some(e) = cache.fresh(&key) {
        cache.services.metrics.start_page("cache");
        let mut res = Response::new(Body::from(e.body.clone()));
        *res.status_mut() = e.status;
        *res.headers_mut() = e.headers.clone();
        return res;
    }
    cache.services.metrics.start_page("render");
    // Read before rendering: a write committed while the page renders leaves the kept page
    // already out of date, never mistaken for current.
    let commits = cache.services.db.commits();
    let made = Instant::now();
    match key.encoding.header() {
        Some(v) => {
            req.headers_mut().insert(header::ACCEPT_ENCODING, v);
        }
        None => {
            req.headers_mut().remove(header::ACCEPT_ENCODING);
        }
    }
    let res = next.run(req).await;
    if res.status() != StatusCode::OK || res.headers().contains_key(header::SET_COOKIE) {
        return res;
    }
    let (parts, body) = res.into_parts();
    let body = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(b) => b,
        Err(e) => {
            tracing::error!("the start page could not be read whole: {e}");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    if body.len() <= MAX_BODY {
        cache.keep(
            key,
            Entry {
                commits,
                made,
                status: parts.status,
                headers: parts.headers.clone(),
                body: body.clone(),
            },
        );
    }
    Response::from_parts(parts, Body::from(body))
}

#[cfg(test)]
mod tests {
    use super::Encoding;

    #[test]
    fn the_kept_encoding_is_the_best_one_accepted() {
        assert_eq!(
            Encoding::negotiate(Some("gzip, deflate, br, zstd")),
            Encoding::Brotli
        );
        assert_eq!(Encoding::negotiate(Some("gzip")), Encoding::Gzip);
        assert_eq!(
            Encoding::negotiate(Some("br;q=0, gzip;q=0.5")),
            Encoding::Gzip
        );
        assert_eq!(Encoding::negotiate(Some("BR")), Encoding::Brotli);
        assert_eq!(Encoding::negotiate(Some("identity")), Encoding::Identity);
        assert_eq!(Encoding::negotiate(Some("gzip;q=0")), Encoding::Identity);
        assert_eq!(Encoding::negotiate(None), Encoding::Identity);
        // A name that merely contains "br" is not brotli.
        assert_eq!(Encoding::negotiate(Some("brotli-ish")), Encoding::Identity);
    }
}
