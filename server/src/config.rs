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
    database_max_connections: Option<u32>,
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
    smtp_host: Option<String>,
    smtp_port: Option<u16>,
    smtp_tls: Option<String>,
    smtp_user: Option<String>,
    smtp_password_file: Option<String>,
    smtp_ca_file: Option<String>,
    mail_from: Option<String>,
    mail_support: Option<String>,
    reminder_days: Option<String>,
    digest_day: Option<String>,
    metrics_token_file: Option<String>,
    time_zone: Option<String>,
    scim_admin_groups: Option<String>,
    scim_renewal_groups: Option<String>,
    oidc_issuer: Option<String>,
    oidc_client_id: Option<String>,
    oidc_client_secret_file: Option<String>,
    oidc_display_name: Option<String>,
    oidc_scopes: Option<String>,
    oidc_login_claim: Option<String>,
    oidc_groups_claim: Option<String>,
    oidc_admin_groups: Option<String>,
    oidc_name_claim: Option<String>,
    oidc_email_claim: Option<String>,
    oidc_upn_claim: Option<String>,
    oidc_department_claim: Option<String>,
    oidc_create_users: Option<bool>,
    oidc_local_passwords: Option<bool>,
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
    /// The database pool's size; `None`: two per CPU core, 4 to 16.
    pub database_max_connections: Option<u32>,
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
    /// SMTP for reminders and digests; `None` (no `smtp_host`): no mail is sent.
    pub mail: Option<app::ssr::mail::MailConfig>,
    /// Reminder thresholds in days before a certificate's end.
    pub thresholds: app::domain::reminders::Thresholds,
    /// When set, `/metrics` answers only requests with `Authorization: Bearer <token>`.
    pub metrics_token: Option<Secret>,
    /// The zone times are shown in when neither the user nor their browser chose one.
    pub time_zone: app::zone::Zone,
    /// The directory's SCIM groups whose members are administrators, and those whose members
    /// may renew (comma-separated names; none: groups carry nothing).
    pub scim: app::ssr::scim::ScimConfig,
    /// The company's OpenID provider (`oidc_issuer`, `oidc_client_id` and
    /// `oidc_client_secret_file` together, or none of them).
    pub oidc: Option<app::ssr::oidc::OidcSettings>,
}

/// The settings naming the profile signer's files.
pub const PROFILE_CERT_SETTING: &str = "CERTPORTAL_PROFILE_SIGNING_CERT_FILE";
pub const PROFILE_KEY_SETTING: &str = "CERTPORTAL_PROFILE_SIGNING_KEY_FILE";

/// The database pool sizes accepted: a request and the background jobs (CRLs, mail, SCIM)
/// each hold a connection while they work; a pool beyond a few hundred only adds idle
/// connections the database must keep.
pub const MAX_CONNECTIONS: std::ops::RangeInclusive<u32> = 2..=500;

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

        let database_max_connections = match pick(
            "CERTPORTAL_DATABASE_MAX_CONNECTIONS",
            fc.database_max_connections.map(|n| n.to_string()),
        ) {
            None => None,
            Some(n) => Some(
                n.parse::<u32>()
                    .ok()
                    .filter(|n| MAX_CONNECTIONS.contains(n))
                    .ok_or_else(|| {
                        err(
                            "CERTPORTAL_DATABASE_MAX_CONNECTIONS",
                            format!(
                                "{n:?} is not a number from {} to {}",
                                MAX_CONNECTIONS.start(),
                                MAX_CONNECTIONS.end()
                            ),
                        )
                    })?,
            ),
        };

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

        let thresholds = match pick("CERTPORTAL_REMINDER_DAYS", fc.reminder_days) {
            None => Default::default(),
            Some(t) => app::domain::reminders::Thresholds::parse(&t)
                .map_err(|why| err("CERTPORTAL_REMINDER_DAYS", why))?,
        };
        let mail = mail_config(
            &pick,
            MailFile {
                host: fc.smtp_host,
                port: fc.smtp_port.map(|p| p.to_string()),
                tls: fc.smtp_tls,
                user: fc.smtp_user,
                password_file: fc.smtp_password_file,
                ca_file: fc.smtp_ca_file,
                from: fc.mail_from,
                support: fc.mail_support,
                digest_day: fc.digest_day,
            },
        )?;
        let metrics_token = match pick("CERTPORTAL_METRICS_TOKEN_FILE", fc.metrics_token_file) {
            None => None,
            Some(path) => {
                let t = read_secret_file("CERTPORTAL_METRICS_TOKEN_FILE", &path)?;
                if t.len() < 16 {
                    return Err(err(
                        "CERTPORTAL_METRICS_TOKEN_FILE",
                        "the token must be at least 16 characters",
                    ));
                }
                Some(Secret::new(t))
            }
        };

        let time_zone = match pick("CERTPORTAL_TIME_ZONE", fc.time_zone) {
            None => app::zone::Zone::utc(),
            Some(z) => app::zone::Zone::parse(&z).ok_or_else(|| {
                err(
                    "CERTPORTAL_TIME_ZONE",
                    format!(
                        "{z:?} is not a time zone of the IANA database (for example Asia/Tokyo)"
                    ),
                )
            })?,
        };

        let groups = |v: Option<String>| -> Vec<String> {
            v.unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|g| !g.is_empty())
                .map(str::to_string)
                .collect()
        };
        let scim = app::ssr::scim::ScimConfig {
            admin_groups: groups(pick("CERTPORTAL_SCIM_ADMIN_GROUPS", fc.scim_admin_groups)),
            renewal_groups: groups(pick(
                "CERTPORTAL_SCIM_RENEWAL_GROUPS",
                fc.scim_renewal_groups,
            )),
        };

        let oidc = oidc_settings(
            &pick,
            &groups,
            OidcFile {
                issuer: fc.oidc_issuer,
                client_id: fc.oidc_client_id,
                secret_file: fc.oidc_client_secret_file,
                display_name: fc.oidc_display_name,
                scopes: fc.oidc_scopes,
                login_claim: fc.oidc_login_claim,
                groups_claim: fc.oidc_groups_claim,
                admin_groups: fc.oidc_admin_groups,
                name_claim: fc.oidc_name_claim,
                email_claim: fc.oidc_email_claim,
                upn_claim: fc.oidc_upn_claim,
                department_claim: fc.oidc_department_claim,
                create_users: fc.oidc_create_users.map(|b| b.to_string()),
                local_passwords: fc.oidc_local_passwords.map(|b| b.to_string()),
            },
        )?;

        Ok(Config {
            data_dir,
            listen,
            public_url,
            public_url_explicit,
            database_url,
            database_max_connections,
            ca_passphrase: Secret::new(passphrase),
            ca_common_name,
            site_root,
            json_logs,
            profile_signing,
            trusted_proxies,
            tls,
            mail,
            thresholds,
            metrics_token,
            time_zone,
            scim,
            oidc,
        })
    }

    /// Loads from the real process environment.
    pub fn from_env(file: Option<&Path>) -> Result<Config, ConfigError> {
        Config::load(file, &|k| std::env::var(k).ok())
    }
}

/// The mail settings as the file gives them (the environment wins, setting by setting).
struct MailFile {
    host: Option<String>,
    port: Option<String>,
    tls: Option<String>,
    user: Option<String>,
    password_file: Option<String>,
    ca_file: Option<String>,
    from: Option<String>,
    support: Option<String>,
    digest_day: Option<String>,
}

/// The `oidc_*` keys of the configuration file.
struct OidcFile {
    issuer: Option<String>,
    client_id: Option<String>,
    secret_file: Option<String>,
    display_name: Option<String>,
    scopes: Option<String>,
    login_claim: Option<String>,
    groups_claim: Option<String>,
    admin_groups: Option<String>,
    name_claim: Option<String>,
    email_claim: Option<String>,
    upn_claim: Option<String>,
    department_claim: Option<String>,
    create_users: Option<String>,
    local_passwords: Option<String>,
}

fn oidc_settings(
    pick: &dyn Fn(&str, Option<String>) -> Option<String>,
    groups: &dyn Fn(Option<String>) -> Vec<String>,
    f: OidcFile,
) -> Result<Option<app::ssr::oidc::OidcSettings>, ConfigError> {
    let issuer = pick("CERTPORTAL_OIDC_ISSUER", f.issuer);
    let client_id = pick("CERTPORTAL_OIDC_CLIENT_ID", f.client_id);
    let secret_file = pick("CERTPORTAL_OIDC_CLIENT_SECRET_FILE", f.secret_file);
    let (issuer, client_id, secret_file) = match (issuer, client_id, secret_file) {
        (None, None, None) => return Ok(None),
        (Some(i), Some(c), Some(s)) => (i, c, s),
        _ => {
            return Err(err(
                "CERTPORTAL_OIDC_ISSUER",
                "CERTPORTAL_OIDC_ISSUER, CERTPORTAL_OIDC_CLIENT_ID and CERTPORTAL_OIDC_CLIENT_SECRET_FILE go together",
            ))
        }
    };
    let loopback = ["http://127.0.0.1", "http://localhost", "http://[::1]"]
        .iter()
        .any(|p| {
            issuer
                .strip_prefix(p)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with([':', '/']))
        });
    if !issuer.starts_with("https://") && !loopback {
        return Err(err(
            "CERTPORTAL_OIDC_ISSUER",
            "must be an https:// URL (plain http only on loopback, for tests)",
        ));
    }
    let secret = read_secret_file("CERTPORTAL_OIDC_CLIENT_SECRET_FILE", &secret_file)?;
    let flag = |name: &str, v: Option<String>, default: bool| -> Result<bool, ConfigError> {
        match v.as_deref().map(str::trim) {
            None => Ok(default),
            Some("true" | "on" | "yes" | "1") => Ok(true),
            Some("false" | "off" | "no" | "0") => Ok(false),
            Some(other) => Err(err(name, format!("{other:?} is not true or false"))),
        }
    };
    let text = |name: &str, v: Option<String>, default: &str| {
        pick(name, v)
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| default.to_string())
    };
    let mut scopes: Vec<String> = text("CERTPORTAL_OIDC_SCOPES", f.scopes, "openid profile email")
        .split([' ', ','])
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    if !scopes.iter().any(|s| s == "openid") {
        scopes.insert(0, "openid".into());
    }
    Ok(Some(app::ssr::oidc::OidcSettings {
        issuer,
        client_id,
        client_secret: Secret::new(secret),
        display_name: text(
            "CERTPORTAL_OIDC_DISPLAY_NAME",
            f.display_name,
            "your company account",
        ),
        scopes,
        login_claim: pick("CERTPORTAL_OIDC_LOGIN_CLAIM", f.login_claim)
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty()),
        groups_claim: text("CERTPORTAL_OIDC_GROUPS_CLAIM", f.groups_claim, "groups"),
        admin_groups: groups(pick("CERTPORTAL_OIDC_ADMIN_GROUPS", f.admin_groups)),
        name_claim: text("CERTPORTAL_OIDC_NAME_CLAIM", f.name_claim, "name"),
        email_claim: text("CERTPORTAL_OIDC_EMAIL_CLAIM", f.email_claim, "email"),
        upn_claim: text("CERTPORTAL_OIDC_UPN_CLAIM", f.upn_claim, "upn"),
        department_claim: text(
            "CERTPORTAL_OIDC_DEPARTMENT_CLAIM",
            f.department_claim,
            "department",
        ),
        create_users: flag(
            "CERTPORTAL_OIDC_CREATE_USERS",
            pick("CERTPORTAL_OIDC_CREATE_USERS", f.create_users),
            true,
        )?,
        local_passwords: flag(
            "CERTPORTAL_OIDC_LOCAL_PASSWORDS",
            pick("CERTPORTAL_OIDC_LOCAL_PASSWORDS", f.local_passwords),
            true,
        )?,
    }))
}

fn read_secret_file(setting: &str, path: &str) -> Result<String, ConfigError> {
    Ok(std::fs::read_to_string(path)
        .map_err(|e| err(setting, format!("cannot read {path}: {e}")))?
        .trim_end_matches(['\r', '\n'])
        .to_string())
}

/// Checks the SMTP settings: none of them without `smtp_host`; with it, a sender address,
/// a known TLS mode, a port, user and password together, readable files.
fn mail_config(
    pick: &dyn Fn(&str, Option<String>) -> Option<String>,
    f: MailFile,
) -> Result<Option<app::ssr::mail::MailConfig>, ConfigError> {
    use app::ssr::mail::{MailConfig, Mailer, SmtpTls};
    let host = pick("CERTPORTAL_SMTP_HOST", f.host);
    let port = pick("CERTPORTAL_SMTP_PORT", f.port);
    let tls = pick("CERTPORTAL_SMTP_TLS", f.tls);
    let user = pick("CERTPORTAL_SMTP_USER", f.user);
    let password_file = pick("CERTPORTAL_SMTP_PASSWORD_FILE", f.password_file);
    let ca_file = pick("CERTPORTAL_SMTP_CA_FILE", f.ca_file);
    let from = pick("CERTPORTAL_MAIL_FROM", f.from);
    let support = pick("CERTPORTAL_MAIL_SUPPORT", f.support);
    let digest_day = pick("CERTPORTAL_DIGEST_DAY", f.digest_day);
    let Some(host) = host else {
        return match (port, tls, user, password_file, ca_file, from) {
            (None, None, None, None, None, None) => Ok(None),
            _ => Err(err(
                "CERTPORTAL_SMTP_HOST",
                "not set, but other SMTP settings are: set it to send reminders",
            )),
        };
    };
    let tls = match tls.as_deref() {
        None => SmtpTls::StartTls,
        Some(t) => SmtpTls::parse(t).ok_or_else(|| {
            err(
                "CERTPORTAL_SMTP_TLS",
                format!("{t:?} is not none, starttls or tls"),
            )
        })?,
    };
    let port = match port {
        None => tls.default_port(),
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| err("CERTPORTAL_SMTP_PORT", format!("{p:?} is not a port")))?,
    };
    let password = match (&user, password_file) {
        (None, None) => None,
        (Some(_), Some(path)) => Some(Secret::new(read_secret_file(
            "CERTPORTAL_SMTP_PASSWORD_FILE",
            &path,
        )?)),
        (Some(_), None) => {
            return Err(err(
                "CERTPORTAL_SMTP_PASSWORD_FILE",
                "must be set with CERTPORTAL_SMTP_USER",
            ))
        }
        (None, Some(_)) => {
            return Err(err(
                "CERTPORTAL_SMTP_USER",
                "must be set with CERTPORTAL_SMTP_PASSWORD_FILE",
            ))
        }
    };
    let ca_pem = ca_file
        .map(|path| {
            std::fs::read(&path).map_err(|e| {
                err(
                    "CERTPORTAL_SMTP_CA_FILE",
                    format!("cannot read {path}: {e}"),
                )
            })
        })
        .transpose()?;
    let from = from.ok_or_else(|| {
        err(
            "CERTPORTAL_MAIL_FROM",
            "must be set with CERTPORTAL_SMTP_HOST (the sender, e.g. certportal <certs@example.com>)",
        )
    })?;
    let digest_day = match digest_day
        .as_deref()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None | Some("monday") => Some(1),
        Some("tuesday") => Some(2),
        Some("wednesday") => Some(3),
        Some("thursday") => Some(4),
        Some("friday") => Some(5),
        Some("saturday") => Some(6),
        Some("sunday") => Some(7),
        Some("off") => None,
        Some(other) => {
            return Err(err(
                "CERTPORTAL_DIGEST_DAY",
                format!("{other:?} is not a day of the week (monday … sunday) or off"),
            ))
        }
    };
    let cfg = MailConfig {
        host,
        port,
        tls,
        user,
        password,
        from,
        ca_pem,
        support,
        digest_day,
    };
    // Builds the transport once to check the sender and the CA file.
    Mailer::new(cfg.clone()).map_err(|why| {
        let setting = if why.starts_with("mail_from") {
            "CERTPORTAL_MAIL_FROM"
        } else {
            "CERTPORTAL_SMTP_CA_FILE"
        };
        err(setting, why)
    })?;
    Ok(Some(cfg))
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
    const SMTP: (&str, &str) = ("CERTPORTAL_SMTP_HOST", "mail.example.com");
    const FROM: (&str, &str) = ("CERTPORTAL_MAIL_FROM", "certportal <certs@example.com>");

    #[test]
    fn mail_settings_and_their_defaults() {
        let c = load(&[PASS]).unwrap();
        assert!(c.mail.is_none(), "no mail without smtp_host");
        assert_eq!(c.thresholds.days(), &[30, 14, 7, 1, 0]);
        let c = load(&[PASS, SMTP, FROM, ("CERTPORTAL_REMINDER_DAYS", "10,3")]).unwrap();
        let m = c.mail.unwrap();
        assert_eq!((m.port, m.tls), (587, app::ssr::mail::SmtpTls::StartTls));
        assert_eq!(m.digest_day, Some(1), "Monday");
        assert_eq!(c.thresholds.days(), &[10, 3, 0]);
        let dir = tempfile::tempdir().unwrap();
        let pw = dir.path().join("pw");
        std::fs::write(&pw, "smtp secret\n").unwrap();
        let c = load(&[
            PASS,
            SMTP,
            FROM,
            ("CERTPORTAL_SMTP_TLS", "tls"),
            ("CERTPORTAL_SMTP_USER", "portal"),
            ("CERTPORTAL_SMTP_PASSWORD_FILE", pw.to_str().unwrap()),
            ("CERTPORTAL_DIGEST_DAY", "off"),
        ])
        .unwrap();
        let m = c.mail.clone().unwrap();
        assert_eq!(m.port, 465);
        assert_eq!(m.password.unwrap().expose(), "smtp secret");
        assert_eq!(m.digest_day, None);
        assert!(
            !format!("{c:?}").contains("smtp secret"),
            "no secret in Debug"
        );
    }

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
        assert_eq!(c.database_max_connections, None, "the default");
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
                &[PASS, ("CERTPORTAL_DATABASE_MAX_CONNECTIONS", "1")],
                "CERTPORTAL_DATABASE_MAX_CONNECTIONS",
            ),
            (
                &[PASS, ("CERTPORTAL_DATABASE_MAX_CONNECTIONS", "501")],
                "CERTPORTAL_DATABASE_MAX_CONNECTIONS",
            ),
            (
                &[PASS, ("CERTPORTAL_DATABASE_MAX_CONNECTIONS", "eight")],
                "CERTPORTAL_DATABASE_MAX_CONNECTIONS",
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
            (
                &[PASS, ("CERTPORTAL_MAIL_FROM", "certs@example.com")],
                "CERTPORTAL_SMTP_HOST",
            ),
            (
                &[PASS, ("CERTPORTAL_SMTP_HOST", "mail.example.com")],
                "CERTPORTAL_MAIL_FROM",
            ),
            (
                &[PASS, SMTP, FROM, ("CERTPORTAL_SMTP_TLS", "ssl")],
                "CERTPORTAL_SMTP_TLS",
            ),
            (
                &[PASS, SMTP, FROM, ("CERTPORTAL_SMTP_PORT", "0")],
                "CERTPORTAL_SMTP_PORT",
            ),
            (
                &[PASS, SMTP, FROM, ("CERTPORTAL_SMTP_USER", "portal")],
                "CERTPORTAL_SMTP_PASSWORD_FILE",
            ),
            (
                &[
                    PASS,
                    SMTP,
                    FROM,
                    ("CERTPORTAL_SMTP_PASSWORD_FILE", "/nonexistent"),
                ],
                "CERTPORTAL_SMTP_USER",
            ),
            (
                &[PASS, SMTP, ("CERTPORTAL_MAIL_FROM", "not an address")],
                "CERTPORTAL_MAIL_FROM",
            ),
            (
                &[
                    PASS,
                    SMTP,
                    FROM,
                    ("CERTPORTAL_SMTP_CA_FILE", "/nonexistent/ca.pem"),
                ],
                "CERTPORTAL_SMTP_CA_FILE",
            ),
            (
                &[PASS, SMTP, FROM, ("CERTPORTAL_DIGEST_DAY", "someday")],
                "CERTPORTAL_DIGEST_DAY",
            ),
            (
                &[PASS, ("CERTPORTAL_REMINDER_DAYS", "30,x")],
                "CERTPORTAL_REMINDER_DAYS",
            ),
            (
                &[
                    PASS,
                    ("CERTPORTAL_METRICS_TOKEN_FILE", "/nonexistent/token"),
                ],
                "CERTPORTAL_METRICS_TOKEN_FILE",
            ),
            (
                &[PASS, ("CERTPORTAL_TIME_ZONE", "Asia/Atlantis")],
                "CERTPORTAL_TIME_ZONE",
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
        std::fs::write(&f, "listen = \"0.0.0.0:8443\"\npublic_url = \"https://certs.example.com/\"\nca_passphrase = \"from the file 123\"\ndatabase_max_connections = 12\n").unwrap();
        let c = Config::load(Some(&f), &|_| None).unwrap();
        assert_eq!(c.listen.port(), 8443);
        assert_eq!(c.database_max_connections, Some(12));
        assert_eq!(c.time_zone.name(), "UTC", "UTC unless set");
        assert_eq!(c.public_url, "https://certs.example.com");
        assert_eq!(c.ca_passphrase.expose(), "from the file 123");
        let c = Config::load(Some(&f), &|k| match k {
            "CERTPORTAL_LISTEN" => Some("127.0.0.1:9000".to_string()),
            "CERTPORTAL_DATABASE_MAX_CONNECTIONS" => Some("6".to_string()),
            _ => None,
        })
        .unwrap();
        assert_eq!(c.listen.port(), 9000);
        assert_eq!(c.database_max_connections, Some(6));
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
