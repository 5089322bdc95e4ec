//! Sending mail over SMTP (lettre): the settings, the transport, and one message with a plain
//! text and an HTML part, `Date`, a stable `Message-ID` and `Auto-Submitted: auto-generated`
//! (RFC 3834: service mail, nobody should auto-reply to it).

use super::ca::Secret;
use lettre::message::header::{ContentType, Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain SMTP (a relay on the same host or network).
    None,
    /// STARTTLS, required (port 587 by default).
    StartTls,
    /// TLS from the first byte (port 465 by default).
    Tls,
}

impl SmtpTls {
    pub fn parse(s: &str) -> Option<SmtpTls> {
        match s {
            "none" => Some(SmtpTls::None),
            "starttls" => Some(SmtpTls::StartTls),
            "tls" => Some(SmtpTls::Tls),
            _ => None,
        }
    }

    pub fn default_port(self) -> u16 {
        match self {
            SmtpTls::None => 25,
            SmtpTls::StartTls => 587,
            SmtpTls::Tls => 465,
        }
    }
}

/// The mail settings (`smtp_*`, `mail_*`, `reminder_days`, `digest_day`).
#[derive(Debug, Clone)]
pub struct MailConfig {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    pub user: Option<String>,
    pub password: Option<Secret>,
    /// `Name <address>` or an address.
    pub from: String,
    /// Extra trusted CA certificates (PEM) for the SMTP server, besides the system's.
    pub ca_pem: Option<Vec<u8>>,
    /// Whom users are told to ask when they may not renew themselves.
    pub support: Option<String>,
    /// Day of the week (1 = Monday … 7 = Sunday) of the admin digest; `None`: no digest.
    pub digest_day: Option<u8>,
}

/// Why a mail was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendError {
    /// Worth another attempt later (connection refused, timeout, a 4xx answer).
    pub transient: bool,
    pub text: String,
}

/// One message to send.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub to: String,
    pub to_name: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// The `Message-ID` without angle brackets; the same for every attempt at one mail.
    pub message_id: String,
}

/// The SMTP transport and the sender.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    pub config: MailConfig,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("host", &self.config.host)
            .field("port", &self.config.port)
            .finish_non_exhaustive()
    }
}

/// `Auto-Submitted: auto-generated` (RFC 3834).
#[derive(Debug, Clone)]
struct AutoSubmitted;

impl Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }
    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(AutoSubmitted)
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "auto-generated".into())
    }
}

impl Mailer {
    /// Checks the settings and builds the transport (no connection is made yet).
    pub fn new(config: MailConfig) -> Result<Mailer, String> {
        let from: Mailbox = config
            .from
            .parse()
            .map_err(|e| format!("mail_from {:?} is not an address: {e}", config.from))?;
        let tls = |host: &str| -> Result<TlsParameters, String> {
            let mut b = TlsParameters::builder(host.to_string());
            if let Some(pem) = &config.ca_pem {
                let text = std::str::from_utf8(pem)
                    .map_err(|_| "the SMTP CA file is not a PEM certificate".to_string())?;
                super::ca::der_of_pem(text)
                    .map_err(|e| format!("the SMTP CA file is not a PEM certificate: {e}"))?;
                let cert = Certificate::from_pem(pem)
                    .map_err(|e| format!("the SMTP CA file is not a PEM certificate: {e}"))?;
                b = b.add_root_certificate(cert);
            }
            b.build_rustls().map_err(|e| e.to_string())
        };
        let mut b = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host)
            .port(config.port)
            .timeout(Some(Duration::from_secs(20)));
        b = match config.tls {
            SmtpTls::None => b.tls(Tls::None),
            SmtpTls::StartTls => b.tls(Tls::Required(tls(&config.host)?)),
            SmtpTls::Tls => b.tls(Tls::Wrapper(tls(&config.host)?)),
        };
        if let (Some(user), Some(pw)) = (&config.user, &config.password) {
            b = b.credentials(Credentials::new(user.clone(), pw.expose().to_string()));
        }
        Ok(Mailer {
            transport: b.build(),
            from,
            config,
        })
    }

    /// Sends one message; returns the server's answer (`250 …`).
    pub async fn send(&self, m: &Outgoing) -> Result<String, SendError> {
        let to = Mailbox::new(
            Some(m.to_name.clone()).filter(|n| !n.is_empty()),
            m.to.parse().map_err(|e| SendError {
                transient: false,
                text: format!("{:?} is not an address: {e}", m.to),
            })?,
        );
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(m.subject.clone())
            .message_id(Some(format!("<{}>", m.message_id)))
            .date_now()
            .header(AutoSubmitted)
            .multipart(
                MultiPart::alternative()
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_PLAIN)
                            .body(m.text.clone()),
                    )
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_HTML)
                            .body(m.html.clone()),
                    ),
            )
            .map_err(|e| SendError {
                transient: false,
                text: format!("the message could not be built: {e}"),
            })?;
        match self.transport.send(message).await {
            Ok(r) => Ok(
                format!("{} {}", r.code(), r.message().collect::<Vec<_>>().join(" "))
                    .chars()
                    .take(300)
                    .collect(),
            ),
            Err(e) => Err(SendError {
                // A 5xx answer is final; everything else (refused, timeout, 4xx) is retried.
                transient: !e.is_permanent(),
                text: e.to_string().chars().take(300).collect(),
            }),
        }
    }
}

/// Escapes text for HTML (the same escaping as the profiles' XML).
pub use super::profile::esc as escape_html;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_escaped() {
        assert_eq!(
            escape_html(r#"<b>"R&D" 'x'</b>"#),
            "&lt;b&gt;&quot;R&amp;D&quot; &apos;x&apos;&lt;/b&gt;"
        );
    }

    #[test]
    fn settings_are_checked() {
        let cfg = MailConfig {
            host: "localhost".into(),
            port: 25,
            tls: SmtpTls::None,
            user: None,
            password: None,
            from: "not an address".into(),
            ca_pem: None,
            support: None,
            digest_day: Some(1),
        };
        assert!(Mailer::new(cfg.clone()).is_err());
        let ok = MailConfig {
            from: "certportal <portal@example.com>".into(),
            ..cfg.clone()
        };
        assert!(Mailer::new(ok).is_ok());
        let bad_ca = MailConfig {
            from: "portal@example.com".into(),
            tls: SmtpTls::StartTls,
            ca_pem: Some(b"nonsense".to_vec()),
            ..cfg
        };
        assert!(Mailer::new(bad_ca).is_err());
        assert_eq!(SmtpTls::parse("starttls"), Some(SmtpTls::StartTls));
        assert_eq!(SmtpTls::parse("ssl"), None);
    }
}
