//! Web plumbing in one place: percent-encoding, form checkboxes, same-site redirect targets,
//! and (on the server) cookies, the client's address, plain form posts and their redirects.
//! Pages, server functions and plain routes all use these, so each rule is written once.

/// Percent-encodes everything but RFC 3986's unreserved characters (for a query value).
pub fn percent_encode(s: &str) -> String {
    encode(s, b"")
}

/// Percent-encodes a same-site path for a query value, keeping `/` readable.
pub fn percent_encode_path(s: &str) -> String {
    encode(s, b"/")
}

fn encode(s: &str, keep: &[u8]) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) || keep.contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Whether an HTML checkbox (or a script's boolean) was ticked.
pub fn is_checked(v: Option<&str>) -> bool {
    matches!(v, Some("on" | "true" | "1" | "yes"))
}

/// A same-site path to go to after a form, or `None`. Only `/`-rooted paths without a second
/// slash or backslash at the start and without whitespace or control characters anywhere:
/// browsers ignore tabs and newlines in URLs, so `/\t/evil.example` would be `//evil.example`.
pub fn same_site_path(p: &str) -> Option<&str> {
    let ok = p.starts_with('/')
        && !p[1..].starts_with(['/', '\\'])
        && !p
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '\\');
    ok.then_some(p)
}

/// Where to go after sign-in: `next` when it is a same-site path, else the certificates.
pub fn safe_next(next: Option<&str>) -> String {
    next.and_then(same_site_path)
        .unwrap_or("/certificates")
        .to_string()
}

/// A `back=` target under `prefix` (e.g. `/admin/users`), else `fallback`.
pub fn safe_back(back: Option<&str>, prefix: &str, fallback: &str) -> String {
    back.and_then(same_site_path)
        .filter(|b| b.starts_with(prefix))
        .unwrap_or(fallback)
        .to_string()
}

/// An id taken from a form, reduced to the characters ids have (for building a URL).
pub fn id_segment(id: &str) -> String {
    id.chars().filter(char::is_ascii_alphanumeric).collect()
}

/// The value of cookie `name` in a `Cookie` header.
pub fn cookie_value<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').find_map(|kv| {
        let (k, v) = kv.trim().split_once('=')?;
        (k == name).then_some(v)
    })
}

#[cfg(feature = "ssr")]
pub use server::*;

#[cfg(feature = "ssr")]
mod server {
    use crate::api::AppError;
    use axum::http::{header, request::Parts, HeaderMap, HeaderValue};
    use leptos::prelude::*;

    /// The value of cookie `name` in a request's headers (any `Cookie` header).
    pub fn request_cookie(headers: &HeaderMap, name: &str) -> Option<String> {
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|h| super::cookie_value(h, name))
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    }

    /// The language a request's page is rendered in: the `lang` cookie, else
    /// `Accept-Language`. The shell and the start page's cache both ask this.
    pub fn request_lang(headers: &HeaderMap) -> crate::i18n::Lang {
        let h = |name| {
            headers
                .get(name)
                .and_then(|v: &HeaderValue| v.to_str().ok())
        };
        crate::i18n::Lang::for_request(h(header::COOKIE), h(header::ACCEPT_LANGUAGE))
    }

    /// The zone a request's page shows times in: the `tz` cookie, else `default` (the
    /// portal's). The shell and the start page's cache both ask this.
    pub fn request_zone(headers: &HeaderMap, default: &crate::zone::Zone) -> crate::zone::Zone {
        request_cookie(headers, "tz")
            .and_then(|z| crate::zone::Zone::parse(&z))
            .unwrap_or_else(|| default.clone())
    }

    /// The value of cookie `name` in the current server function's request.
    pub fn cookie(name: &str) -> Option<String> {
        request_cookie(&use_context::<Parts>()?.headers, name)
    }

    /// The time-zone cookies. `tz` names the zone pages are rendered in; `tz_set=1` says the
    /// user chose it, so the page script does not replace it with the browser's zone. Not
    /// `HttpOnly`: the script keeps `tz` up to date, and neither is a secret.
    pub fn set_zone_cookies(zone: ZoneCookies<'_>) {
        let Some(res) = use_context::<leptos_axum::ResponseOptions>() else {
            return;
        };
        const YEAR: i64 = 31_536_000;
        let cookies: &[(&str, &str, i64)] = match zone {
            ZoneCookies::Chosen(z) => &[("tz", z, YEAR), ("tz_set", "1", YEAR)],
            ZoneCookies::Browser(z) => &[("tz", z, YEAR), ("tz_set", "", 0)],
            ZoneCookies::Forget => &[("tz", "", 0), ("tz_set", "", 0)],
        };
        for (name, value, age) in cookies {
            let v = format!("{name}={value}; Path=/; Max-Age={age}; SameSite=Lax");
            if let Ok(v) = HeaderValue::from_str(&v) {
                res.append_header(header::SET_COOKIE, v);
            }
        }
    }

    /// What [`set_zone_cookies`] writes.
    pub enum ZoneCookies<'a> {
        /// The user chose this zone (pinned).
        Chosen(&'a str),
        /// Automatic, and the browser said its zone (the script filled the form).
        Browser(&'a str),
        /// Automatic, zone unknown: the portal's default until the script sets one.
        Forget,
    }

    /// A cookie for the current response: `HttpOnly`, `Path=/`, the given `SameSite`, and
    /// `Secure` when the portal is served over HTTPS. `max_age` 0 deletes it.
    pub fn set_cookie(https: bool, name: &str, value: &str, same_site: &str, max_age: i64) {
        if let (Some(res), Some(v)) = (
            use_context::<leptos_axum::ResponseOptions>(),
            cookie_header(https, name, value, same_site, max_age),
        ) {
            res.append_header(header::SET_COOKIE, v);
        }
    }

    /// The `Set-Cookie` value [`set_cookie`] sends, for plain routes.
    pub fn cookie_header(
        https: bool,
        name: &str,
        value: &str,
        same_site: &str,
        max_age: i64,
    ) -> Option<HeaderValue> {
        let secure = if https { "; Secure" } else { "" };
        let v = format!(
            "{name}={value}; Path=/; HttpOnly; SameSite={same_site}; Max-Age={}{secure}",
            max_age.max(0)
        );
        HeaderValue::from_str(&v).ok()
    }

    /// The cookie holding the pickup grant a correct PIN made (SPEC rule 5): HttpOnly and
    /// SameSite=Strict, living as long as the grant; `__Host-` over HTTPS.
    pub fn grant_cookie_name(https: bool) -> &'static str {
        if https {
            "__Host-certportal-grant"
        } else {
            "certportal-grant"
        }
    }

    /// The client's address of the current server function's request: see [`client_of`].
    pub fn client_ip() -> Option<String> {
        use_context::<Parts>().and_then(|p| client_of(&p.extensions))
    }

    /// The client's address the server's middleware worked out (the socket's peer, or what a
    /// trusted proxy forwarded), else the socket's peer.
    pub fn client_of(ext: &axum::http::Extensions) -> Option<String> {
        ext.get::<ClientAddr>()
            .map(|c| c.0.to_string())
            .or_else(|| {
                ext.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                    .map(|c| c.0.ip().to_string())
            })
    }

    /// A request extension: the client's address (see `crate::ssr::client_addr`).
    #[derive(Debug, Clone, Copy)]
    pub struct ClientAddr(pub std::net::IpAddr);

    /// A request header of the current server function's request.
    pub fn header_str(name: header::HeaderName) -> Option<String> {
        use_context::<Parts>().and_then(|p| {
            p.headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        })
    }

    /// Whether the current request is a plain HTML form post (no JavaScript).
    pub fn is_plain_form_post() -> bool {
        header_str(header::ACCEPT).is_some_and(|v| v.contains("text/html"))
    }

    /// Pages showing a PIN or a link must not be stored by the browser or a proxy.
    pub fn no_store() {
        if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
            res.insert_header(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
    }

    /// `back` with `?error=<code>` (or `&error=`) added before any `#fragment`.
    pub fn with_error(back: &str, e: &AppError) -> String {
        with_error_code(back, e.code)
    }

    /// As [`with_error`], for a code.
    pub fn with_error_code(back: &str, code: crate::domain::error_code::ErrorCode) -> String {
        let (path, fragment) = match back.split_once('#') {
            Some((p, f)) => (p, format!("#{f}")),
            None => (back, String::new()),
        };
        let sep = if path.contains('?') { '&' } else { '?' };
        format!("{path}{sep}error={code}{fragment}")
    }

    /// Sends the browser to `target` (a same-site path the caller built). Bytes a header
    /// cannot carry — control characters, spaces, non-ASCII from a typed token — are
    /// percent-encoded, so no input can make the redirect panic (`leptos_axum::redirect`
    /// does on a control character).
    pub fn redirect(target: &str) {
        leptos_axum::redirect(&header_safe(target));
    }

    /// `target` with every byte outside visible ASCII percent-encoded.
    pub fn header_safe(target: &str) -> String {
        let mut out = String::with_capacity(target.len());
        for b in target.bytes() {
            if b.is_ascii_graphic() {
                out.push(b as char);
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
        out
    }

    /// For a plain (no-JavaScript) form post: send the browser to `ok`, or back to `back` with
    /// the error code, since it cannot show the returned value. An empty `ok` leaves the
    /// response as it is.
    pub fn finish_form<T>(
        result: Result<T, AppError>,
        ok: &str,
        back: &str,
    ) -> Result<T, AppError> {
        if is_plain_form_post() {
            match &result {
                Ok(_) if ok.is_empty() => {}
                Ok(_) => redirect(ok),
                Err(e) => redirect(&with_error(back, e)),
            }
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_everything_but_unreserved() {
        assert_eq!(percent_encode("a b/ç?&=~"), "a%20b%2F%C3%A7%3F%26%3D~");
        assert_eq!(
            percent_encode_path("/admin/users?q=a b"),
            "/admin/users%3Fq%3Da%20b"
        );
    }

    #[test]
    fn only_same_site_paths_are_followed() {
        for good in ["/certificates", "/admin/users?q=x", "/"] {
            assert_eq!(safe_next(Some(good)), good);
        }
        for bad in [
            "https://evil.example/",
            "//evil.example",
            "/\\evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/ok\\..\\x",
            "evil",
            "",
        ] {
            assert_eq!(safe_next(Some(bad)), "/certificates", "{bad:?}");
        }
        assert_eq!(safe_next(None), "/certificates");
        assert_eq!(
            safe_back(Some("/admin/users?page=2"), "/admin/users", "/x"),
            "/admin/users?page=2"
        );
        assert_eq!(safe_back(Some("/account"), "/admin/users", "/x"), "/x");
        assert_eq!(safe_back(Some("//admin/users"), "/admin/users", "/x"), "/x");
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn the_error_goes_before_the_fragment() {
        use crate::api::AppError;
        use crate::domain::error_code::ErrorCode;
        let e = AppError::new(ErrorCode::LoginTaken);
        assert_eq!(with_error("/a#x", &e), "/a?error=login_taken#x");
        assert_eq!(with_error("/a?b=1", &e), "/a?b=1&error=login_taken");
    }

    #[test]
    fn checkboxes_and_cookies() {
        assert!(is_checked(Some("on")) && is_checked(Some("true")) && is_checked(Some("1")));
        assert!(!is_checked(None) && !is_checked(Some("off")) && !is_checked(Some("")));
        let h = "lang=ja; certportal=abc; x=";
        assert_eq!(cookie_value(h, "certportal"), Some("abc"));
        assert_eq!(cookie_value(h, "lang"), Some("ja"));
        assert_eq!(cookie_value(h, "nope"), None);
        assert_eq!(id_segment("ab12/../x"), "ab12x");
    }
}
