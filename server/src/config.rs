//! Configuration: defaults, then an optional TOML file, then `CERTPORTAL_*` environment
//! variables (each layer overrides the one before). Every problem names the setting and why,
//! and stops start-up.

use app::ssr::ca::Secret;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("configuration error in {setting}: {reason}")]
pub struct ConfigError {
    pub setting: String,
    pub reason: String,
}

fn err(setting: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError {
        setting: setting.to_string(),
        reason: reason.into(),
    }
}

/// The optional configuration file; every key is optional. Not `Debug`: it holds the CA
/// passphrase.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    data_dir: Option<String>,
    listen: Option<String>,
    public_url: Option<String>,
    database_url: Option<String>,
    ca_passphrase: Option<String>,
    ca_passphrase_file: Option<String>,
    ca_common_name: Option<String>,
    site_root: Option<String>,
    log_format: Option<String>,
    profile_signing_cert_file: Option<String>,
    profile_signing_key_file: Option<String>,
    trusted_proxies: Option<String>,
    trusted_proxy_header: Option<String>,
    tls_cert_file: Option<String>,
    tls_key_file: Option<String>,
}

/// The effective configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    pub public_url: String,
    /// False when `public_url` was derived from `listen` (then a port 0 is filled in with
    /// the port actually bound).
    pub public_url_explicit: bool,
    pub database_url: String,
    pub ca_passphrase: Secret,
    pub ca_common_name: String,
    pub site_root: PathBuf,
    pub json_logs: bool,
    /// Certificate (PEM, with its chain) and PKCS#8 key (PEM) that sign `.mobileconfig`
    /// profiles; both or neither.
    pub profile_signing: Option<(PathBuf, PathBuf)>,
    /// Reverse proxies (addresses, CIDR blocks) whose forwarding headers are believed.
    pub trusted_proxies: app::ssr::client_addr::TrustedProxies,
    /// Serve HTTPS with this certificate chain and key (PEM); both or neither.
    pub tls: Option<crate::tls::TlsFiles>,
}

/// The settings naming the profile signer's files.
pub const PROFILE_CERT_SETTING: &str = "CERTPORTAL_PROFILE_SIGNING_CERT_FILE";
pub const PROFILE_KEY_SETTING: &str = "CERTPORTAL_PROFILE_SIGNING_KEY_FILE";

/// Minimum length of the CA passphrase.
pub const MIN_PASSPHRASE: usize = 12;

impl Config {
    /// Loads from `file` (if given) and the environment `env` (a lookup function, so tests
    /// need not touch the process environment).
    pub fn load(
        file: Option<&Path>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let fc: FileConfig = match file {
            None => FileConfig::default(),
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .map_err(|e| err("config file", format!("cannot read {}: {e}", p.display())))?;
                toml::from_str(&text).map_err(|e| {
                    // Only the position and the reason: the error's own text quotes the
                    // offending line, which may be the CA passphrase's.
                    let line = e
                        .span()
                        .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
                    let at = line.map(|l| format!(" line {l}:")).unwrap_or_default();
                    err(
                        "config file",
                        format!("{}:{at} {}", p.display(), e.message()),
                    )
                })?
            }
        };
        let pick = |env_name: &str, file_value: Option<String>| -> Option<String> {
            env(env_name).filter(|v| !v.is_empty()).or(file_value)
        };

        let data_dir = PathBuf::from(
            pick("CERTPORTAL_DATA_DIR", fc.data_dir).unwrap_or_else(|| "certportal-data".into()),
        );
        if data_dir.as_os_str().is_empty() {
            return Err(err("CERTPORTAL_DATA_DIR", "must not be empty"));
        }

        let listen_text =
            pick("CERTPORTAL_LISTEN", fc.listen).unwrap_or_else(|| "127.0.0.1:3000".into());
        let listen: SocketAddr = listen_text.parse().map_err(|_| {
            err(
                "CERTPORTAL_LISTEN",
                format!("{listen_text:?} is not an address like 127.0.0.1:3000"),
            )
        })?;

        let tls = match (
            pick("CERTPORTAL_TLS_CERT_FILE", fc.tls_cert_file),
            pick("CERTPORTAL_TLS_KEY_FILE", fc.tls_key_file),
        ) {
            (None, None) => None,
            (Some(c), Some(k)) => Some(crate::tls::TlsFiles {
                cert: PathBuf::from(c),
                key: PathBuf::from(k),
            }),
            (Some(_), None) => {
                return Err(err(
                    "CERTPORTAL_TLS_KEY_FILE",
                    "must be set with CERTPORTAL_TLS_CERT_FILE",
                ))
            }
            (None, Some(_)) => {
                return Err(err(
                    "CERTPORTAL_TLS_CERT_FILE",
                    "must be set with CERTPORTAL_TLS_KEY_FILE",
                ))
            }
        };
        if let Some(files) = &tls {
            crate::tls::load(files).map_err(|e| err("CERTPORTAL_TLS_CERT_FILE", e))?;
        }
        let scheme = if tls.is_some() { "https" } else { "http" };

        let explicit_url = pick("CERTPORTAL_PUBLIC_URL", fc.public_url);
        let public_url_explicit = explicit_url.is_some();
        let public_url = match explicit_url {
            Some(u) => parse_public_url(&u)?,
            None => {
                let host = if listen.ip().is_unspecified() || listen.ip().is_loopback() {
                    "localhost".to_string()
                } else {
                    listen.ip().to_string()
                };
                format!("{scheme}://{host}:{}", listen.port())
            }
        };

        let database_url = pick("CERTPORTAL_DATABASE_URL", fc.database_url)
            .unwrap_or_else(|| format!("sqlite://{}/certportal.db?mode=rwc", data_dir.display()));
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres:")
            || database_url.starts_with("postgresql:"))
        {
            return Err(err(
                "CERTPORTAL_DATABASE_URL",
                "must start with sqlite:// or postgres://",
            ));
        }

        let direct = pick("CERTPORTAL_CA_PASSPHRASE", fc.ca_passphrase);
        let file_path = pick("CERTPORTAL_CA_PASSPHRASE_FILE", fc.ca_passphrase_file);
        let passphrase = match (direct, file_path) {
            (Some(_), Some(_)) => {
                return Err(err(
                    "CERTPORTAL_CA_PASSPHRASE",
                    "set either it or CERTPORTAL_CA_PASSPHRASE_FILE, not both",
                ))
            }
            (Some(p), None) => p,
            (None, Some(path)) => std::fs::read_to_string(&path)
                .map_err(|e| {
                    err(
                        "CERTPORTAL_CA_PASSPHRASE_FILE",
                        format!("cannot read {path}: {e}"),
                    )
                })?
                .trim_end_matches(['\r', '\n'])
                .to_string(),
            (None, None) => return Err(err(
                "CERTPORTAL_CA_PASSPHRASE",
                "not set; the CA key is encrypted with it (or set CERTPORTAL_CA_PASSPHRASE_FILE)",
            )),
        };
        if passphrase.chars().count() < MIN_PASSPHRASE {
            return Err(err(
                "CERTPORTAL_CA_PASSPHRASE",
                format!("must be at least {MIN_PASSPHRASE} characters"),
            ));
        }

        let ca_common_name = pick("CERTPORTAL_CA_COMMON_NAME", fc.ca_common_name)
            .unwrap_or_else(|| "certportal CA".into());
        if ca_common_name.trim().is_empty() || ca_common_name.len() > 64 {
            return Err(err(
                "CERTPORTAL_CA_COMMON_NAME",
                "must be 1 to 64 characters",
            ));
        }

        let site_root = PathBuf::from(
            pick("CERTPORTAL_SITE_ROOT", fc.site_root)
                .or_else(|| env("LEPTOS_SITE_ROOT"))
                .unwrap_or_else(|| "target/site".into()),
        );

        let json_logs = match pick("CERTPORTAL_LOG_FORMAT", fc.log_format).as_deref() {
            None | Some("text") => false,
            Some("json") => true,
            Some(other) => {
                return Err(err(
                    "CERTPORTAL_LOG_FORMAT",
                    format!("{other:?} is not text or json"),
                ))
            }
        };

        let profile_signing = match (
            pick(PROFILE_CERT_SETTING, fc.profile_signing_cert_file),
            pick(PROFILE_KEY_SETTING, fc.profile_signing_key_file),
        ) {
            (None, None) => None,
            (Some(c), Some(k)) => Some((PathBuf::from(c), PathBuf::from(k))),
            (Some(_), None) => {
                return Err(err(
                    PROFILE_KEY_SETTING,
                    "must be set with CERTPORTAL_PROFILE_SIGNING_CERT_FILE",
                ))
            }
            (None, Some(_)) => {
                return Err(err(
                    PROFILE_CERT_SETTING,
                    "must be set with CERTPORTAL_PROFILE_SIGNING_KEY_FILE",
                ))
            }
        };

        let mut trusted_proxies = app::ssr::client_addr::TrustedProxies::parse(
            &pick("CERTPORTAL_TRUSTED_PROXIES", fc.trusted_proxies).unwrap_or_default(),
        )
        .map_err(|why| err("CERTPORTAL_TRUSTED_PROXIES", why))?;
        if let Some(h) = pick("CERTPORTAL_TRUSTED_PROXY_HEADER", fc.trusted_proxy_header) {
            trusted_proxies.header =
                app::ssr::client_addr::ForwardHeader::parse(&h).ok_or_else(|| {
                    err(
                        "CERTPORTAL_TRUSTED_PROXY_HEADER",
                        format!("{h:?} is not x-forwarded-for or forwarded"),
                    )
                })?;
        }

        Ok(Config {
            data_dir,
            listen,
            public_url,
            public_url_explicit,
            database_url,
            ca_passphrase: Secret::new(passphrase),
            ca_common_name,
            site_root,
            json_logs,
            profile_signing,
            trusted_proxies,
            tls,
        })
    }

    /// Loads from the real process environment.
    pub fn from_env(file: Option<&Path>) -> Result<Config, ConfigError> {
        Config::load(file, &|k| std::env::var(k).ok())
    }
}

fn parse_public_url(u: &str) -> Result<String, ConfigError> {
    let u = u.trim().trim_end_matches('/');
    let rest = u
        .strip_prefix("https://")
        .or_else(|| u.strip_prefix("http://"))
        .ok_or_else(|| {
            err(
                "CERTPORTAL_PUBLIC_URL",
                "must start with https:// (or http:// for local testing)",
            )
        })?;
    let host = rest.split('/').next().unwrap_or("");
    if host.is_empty() || u.contains(['?', '#', ' ']) {
        return Err(err(
            "CERTPORTAL_PUBLIC_URL",
            "must be a base URL like https://certs.example.com, without query or fragment",
        ));
    }
    Ok(u.to_string())
}

/// Loads the profile signer named by the configuration, checking that the files are
/// readable, the certificate parses and the key belongs to it.
pub fn profile_signer(
    files: &(PathBuf, PathBuf),
) -> Result<app::ssr::profile_sign::ProfileSigner, ConfigError> {
    let read = |setting: &str, path: &Path| {
        std::fs::read(path)
            .map_err(|e| err(setting, format!("cannot read {}: {e}", path.display())))
    };
    let cert = read(PROFILE_CERT_SETTING, &files.0)?;
    let key = read(PROFILE_KEY_SETTING, &files.1)?;
    app::ssr::profile_sign::ProfileSigner::from_pem(&cert, &key).map_err(|e| {
        err(
            if e.cert {
                PROFILE_CERT_SETTING
            } else {
                PROFILE_KEY_SETTING
            },
            e.reason,
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn load(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::load(None, &move |k| map.get(k).cloned())
    }

    const PASS: (&str, &str) = ("CERTPORTAL_CA_PASSPHRASE", "a long enough passphrase");

    #[test]
    fn defaults() {
        let c = load(&[PASS]).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:3000");
        assert_eq!(c.public_url, "http://localhost:3000");
        assert_eq!(
            c.database_url,
            "sqlite://certportal-data/certportal.db?mode=rwc"
        );
        assert!(!format!("{c:?}").contains("long enough"));
    }

    #[test]
    fn every_bad_setting_is_named() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[], "CERTPORTAL_CA_PASSPHRASE"),
            (
                &[("CERTPORTAL_CA_PASSPHRASE", "short")],
                "CERTPORTAL_CA_PASSPHRASE",
            ),
            (
                &[PASS, ("CERTPORTAL_CA_PASSPHRASE_FILE", "/x")],
                "CERTPORTAL_CA_PASSPHRASE",
            ),
            (
                &[("CERTPORTAL_CA_PASSPHRASE_FILE", "/nonexistent/file")],
                "CERTPORTAL_CA_PASSPHRASE_FILE",
            ),
            (
                &[PASS, ("CERTPORTAL_LISTEN", "nowhere")],
                "CERTPORTAL_LISTEN",
            ),
            (
                &[PASS, ("CERTPORTAL_PUBLIC_URL", "ftp://x")],
                "CERTPORTAL_PUBLIC_URL",
            ),
            (
                &[PASS, ("CERTPORTAL_PUBLIC_URL", "https://x/?a=b")],
                "CERTPORTAL_PUBLIC_URL",
            ),
            (
                &[PASS, ("CERTPORTAL_DATABASE_URL", "mysql://x")],
                "CERTPORTAL_DATABASE_URL",
            ),
            (
                &[PASS, ("CERTPORTAL_LOG_FORMAT", "xml")],
                "CERTPORTAL_LOG_FORMAT",
            ),
            (
                &[PASS, (PROFILE_CERT_SETTING, "/etc/cert.pem")],
                PROFILE_KEY_SETTING,
            ),
            (
                &[
                    PASS,
                    ("CERTPORTAL_TRUSTED_PROXIES", "10.0.0.0/8, proxy.local"),
                ],
                "CERTPORTAL_TRUSTED_PROXIES",
            ),
            (
                &[PASS, ("CERTPORTAL_TRUSTED_PROXY_HEADER", "x-real-ip")],
                "CERTPORTAL_TRUSTED_PROXY_HEADER",
            ),
            (
                &[PASS, ("CERTPORTAL_TLS_CERT_FILE", "/etc/cert.pem")],
                "CERTPORTAL_TLS_KEY_FILE",
            ),
            (
                &[
                    PASS,
                    ("CERTPORTAL_TLS_CERT_FILE", "/nonexistent/cert.pem"),
                    ("CERTPORTAL_TLS_KEY_FILE", "/nonexistent/key.pem"),
                ],
                "CERTPORTAL_TLS_CERT_FILE",
            ),
        ];
        for (vars, setting) in cases {
            let e = load(vars).unwrap_err();
            assert_eq!(e.setting, *setting, "{vars:?}");
            assert!(e.to_string().contains(setting));
        }
    }

    #[test]
    fn file_then_environment() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("c.toml");
        std::fs::write(&f, "listen = \"0.0.0.0:8443\"\npublic_url = \"https://certs.example.com/\"\nca_passphrase = \"from the file 123\"\n").unwrap();
        let c = Config::load(Some(&f), &|_| None).unwrap();
        assert_eq!(c.listen.port(), 8443);
        assert_eq!(c.public_url, "https://certs.example.com");
        assert_eq!(c.ca_passphrase.expose(), "from the file 123");
        let c = Config::load(Some(&f), &|k| {
            (k == "CERTPORTAL_LISTEN").then(|| "127.0.0.1:9000".to_string())
        })
        .unwrap();
        assert_eq!(c.listen.port(), 9000);
        std::fs::write(&f, "ca_passphrase = \"secret passphrase 42\n").unwrap();
        let e = Config::load(Some(&f), &|_| None).unwrap_err();
        assert!(!e.to_string().contains("secret passphrase"), "{e}");
        assert!(e.to_string().contains("line 1"), "{e}");
        std::fs::write(&f, "bogus_key = 1\n").unwrap();
        assert_eq!(
            Config::load(Some(&f), &|_| None).unwrap_err().setting,
            "config file"
        );
        let pf = dir.path().join("pass");
        std::fs::write(&pf, "passphrase from file\n").unwrap();
        let p = pf.display().to_string();
        let c = Config::load(None, &move |k| {
            (k == "CERTPORTAL_CA_PASSPHRASE_FILE").then(|| p.clone())
        })
        .unwrap();
        assert_eq!(c.ca_passphrase.expose(), "passphrase from file");
    }
}
