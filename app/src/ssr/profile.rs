//! The Apple configuration profile (`.mobileconfig`) for iOS, iPadOS and macOS Safari
//! (SPEC.md "Certificates and bundles"): a `com.apple.security.root` payload with the CA and
//! a `com.apple.security.pkcs12` payload with the identity and no `Password` key, so the
//! device asks for the PIN. The profile's `PayloadIdentifier` is stable per user and portal:
//! installing a renewal replaces the old profile instead of adding a second one.

use base64::Engine;
use rand::RngCore;

pub struct ProfileInput<'a> {
    /// The portal's public URL; its host names the profile.
    pub portal_url: &'a str,
    pub user_id: &'a str,
    pub login: &'a str,
    pub display_name: &'a str,
    pub identity: Identity,
    pub ca_der: &'a [u8],
    /// When the device removes the profile by itself: the certificate's end.
    pub removal_date: i64,
    /// The language of the descriptions iOS shows (the phone's; the consent text carries
    /// both languages).
    pub lang: crate::i18n::Lang,
}

/// The profile's descriptions in `lang`: (SCEP identity, PKCS#12 identity, CA, profile).
fn descriptions(lang: crate::i18n::Lang, who: &str, host: &str) -> [String; 4] {
    match lang {
        crate::i18n::Lang::En => [
            "Makes your client certificate on this device: the key never leaves it.".into(),
            "Your client certificate and its private key. The device asks for the PIN shown in the portal.".into(),
            "The certificate authority that issued your client certificate.".into(),
            format!("Client certificate for {who}, from certportal at {host}. Installing it replaces an earlier one from the same portal."),
        ],
        crate::i18n::Lang::Ja => [
            "この端末でクライアント証明書を作成します。秘密鍵が端末の外に出ることはありません。".into(),
            "クライアント証明書とその秘密鍵です。インストール時に、ポータルに表示されたPINを入力します。".into(),
            "クライアント証明書を発行した認証局です。".into(),
            format!("{host} の certportal が発行した {who} のクライアント証明書です。同じポータルの以前の証明書は置き換えられます。"),
        ],
    }
}

/// How the device gets its identity.
pub enum Identity {
    /// The device makes its key and enrolls at the portal's SCEP endpoint.
    Scep(ScepPayload),
    /// A PKCS#12 made here (legacy form, already parsed back by its builder).
    Pkcs12(Vec<u8>),
}

/// What the `com.apple.security.scep` payload asks the device to enroll for. The portal signs
/// what the enrollment says whatever the request carries; the payload asks for the same so
/// the device shows it.
pub struct ScepPayload {
    pub url: String,
    pub challenge: String,
    pub display_name: String,
    pub login: String,
    pub email: String,
    pub upn: Option<String>,
}

/// The stable identifier of a user's profile at one portal, e.g.
/// `com.example.portal.certportal.user.<id>` for `https://portal.example.com`.
pub fn profile_identifier(portal_url: &str, user_id: &str) -> String {
    let host = url::Url::parse(portal_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_else(|| "localhost".into());
    let reversed: Vec<&str> = host.split('.').rev().filter(|p| !p.is_empty()).collect();
    let safe_id: String = user_id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    format!("{}.certportal.user.{safe_id}", reversed.join("."))
}

fn uuid_v4() -> String {
    let mut b = [0u8; 16];
    rand::rng().fill_bytes(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode_upper(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// Escapes text for XML and HTML content and attribute values (control characters, which
/// XML 1.0 does not allow, are dropped).
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Control characters are not allowed in XML 1.0 text.
            c if c.is_control() && c != '\t' && c != '\n' => {}
            c => out.push(c),
        }
    }
    out
}

/// Base64 in 52-character lines, as Apple's own tools write `<data>`.
fn data(bytes: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(bytes);
    let mut out = String::with_capacity(b64.len() + b64.len() / 52 + 2);
    for chunk in b64.as_bytes().chunks(52) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out
}

fn ca_common_name(ca_der: &[u8]) -> String {
    x509_parser::parse_x509_certificate(ca_der)
        .ok()
        .and_then(|(_, c)| {
            c.subject()
                .iter_common_name()
                .next()
                .and_then(|cn| cn.as_str().ok().map(str::to_string))
        })
        .unwrap_or_else(|| "certportal CA".into())
}

fn scep_dict(p: &ScepPayload) -> String {
    let email = if p.email.is_empty() {
        String::new()
    } else {
        format!(
            "\t\t\t\t\t<key>rfc822Name</key>\n\t\t\t\t\t<string>{}</string>\n",
            esc(&p.email)
        )
    };
    let upn = p
        .upn
        .as_ref()
        .map(|u| {
            format!(
                "\t\t\t\t\t<key>ntPrincipalName</key>\n\t\t\t\t\t<string>{}</string>\n",
                esc(u)
            )
        })
        .unwrap_or_default();
    format!(
        r#"<dict>
				<key>URL</key>
				<string>{url}</string>
				<key>Name</key>
				<string>certportal</string>
				<key>Subject</key>
				<array>
					<array><array><string>CN</string><string>{cn}</string></array></array>
					<array><array><string>0.9.2342.19200300.100.1.1</string><string>{login}</string></array></array>
				</array>
				<key>SubjectAltName</key>
				<dict>
{email}{upn}				</dict>
				<key>Challenge</key>
				<string>{challenge}</string>
				<key>Key Type</key>
				<string>RSA</string>
				<key>Keysize</key>
				<integer>2048</integer>
				<key>Key Usage</key>
				<integer>5</integer>
				<key>KeyIsExtractable</key>
				<false/>
				<key>Retries</key>
				<integer>3</integer>
				<key>RetryDelay</key>
				<integer>10</integer>
			</dict>"#,
        url = esc(&p.url),
        cn = esc(&p.display_name),
        login = esc(&p.login),
        challenge = esc(&p.challenge),
    )
}

/// A plist `<date>` (UTC, ISO 8601).
fn plist_date(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(time::macros::format_description!(
                "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
            ))
            .ok()
        })
        .unwrap_or_else(|| "2099-12-31T00:00:00Z".into())
}

/// Builds the profile (an XML property list).
pub fn mobileconfig(p: &ProfileInput<'_>) -> String {
    let id = profile_identifier(p.portal_url, p.user_id);
    let ca_name = ca_common_name(p.ca_der);
    let host = url::Url::parse(p.portal_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_default();
    let who = format!("{} ({})", p.display_name, p.login);
    let [d_scep, d_p12, d_ca, d_profile] = descriptions(p.lang, &who, &host);
    let identity = match &p.identity {
        Identity::Scep(scep) => format!(
            r#"		<dict>
			<key>PayloadContent</key>
			{content}
			<key>PayloadDescription</key>
			<string>{description}</string>
			<key>PayloadDisplayName</key>
			<string>{who}</string>
			<key>PayloadIdentifier</key>
			<string>{id}.identity</string>
			<key>PayloadType</key>
			<string>com.apple.security.scep</string>
			<key>PayloadUUID</key>
			<string>{uuid}</string>
			<key>PayloadVersion</key>
			<integer>1</integer>
		</dict>
"#,
            content = scep_dict(scep),
            description = esc(&d_scep),
            who = esc(&who),
            id = esc(&id),
            uuid = uuid_v4(),
        ),
        Identity::Pkcs12(p12) => format!(
            r#"		<dict>
			<key>PayloadCertificateFileName</key>
			<string>{login}.p12</string>
			<key>PayloadContent</key>
			<data>
{p12}</data>
			<key>PayloadDescription</key>
			<string>{description}</string>
			<key>PayloadDisplayName</key>
			<string>{who}</string>
			<key>PayloadIdentifier</key>
			<string>{id}.identity</string>
			<key>PayloadType</key>
			<string>com.apple.security.pkcs12</string>
			<key>PayloadUUID</key>
			<string>{uuid}</string>
			<key>PayloadVersion</key>
			<integer>1</integer>
		</dict>
"#,
            login = esc(p.login),
            p12 = data(p12),
            description = esc(&d_p12),
            who = esc(&who),
            id = esc(&id),
            uuid = uuid_v4(),
        ),
    };
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>ConsentText</key>
	<dict>
		<key>default</key>
		<string>{consent_en}</string>
		<key>en</key>
		<string>{consent_en}</string>
		<key>ja</key>
		<string>{consent_ja}</string>
	</dict>
	<key>PayloadContent</key>
	<array>
		<dict>
			<key>PayloadCertificateFileName</key>
			<string>certportal-ca.cer</string>
			<key>PayloadContent</key>
			<data>
{ca}</data>
			<key>PayloadDescription</key>
			<string>{d_ca}</string>
			<key>PayloadDisplayName</key>
			<string>{ca_name}</string>
			<key>PayloadIdentifier</key>
			<string>{id}.ca</string>
			<key>PayloadType</key>
			<string>com.apple.security.root</string>
			<key>PayloadUUID</key>
			<string>{u1}</string>
			<key>PayloadVersion</key>
			<integer>1</integer>
		</dict>
{identity}	</array>
	<key>PayloadDescription</key>
	<string>{d_profile}</string>
	<key>PayloadDisplayName</key>
	<string>{who}</string>
	<key>PayloadIdentifier</key>
	<string>{id}</string>
	<key>PayloadOrganization</key>
	<string>{host}</string>
	<key>PayloadRemovalDisallowed</key>
	<false/>
	<key>PayloadType</key>
	<string>Configuration</string>
	<key>PayloadUUID</key>
	<string>{u3}</string>
	<key>PayloadVersion</key>
	<integer>1</integer>
	<key>RemovalDate</key>
	<date>{removal}</date>
</dict>
</plist>
"#,
        consent_en = esc(&format!(
            "This profile installs the client certificate of {who} for {host}, and the certificate authority that issued it. Install it only if you asked for it in the portal."
        )),
        consent_ja = esc(&format!(
            "このプロファイルは、{host} 用の {who} のクライアント証明書と、それを発行した認証局をインストールします。ポータルで申請した場合にのみインストールしてください。"
        )),
        ca = data(p.ca_der),
        ca_name = esc(&ca_name),
        d_ca = esc(&d_ca),
        d_profile = esc(&d_profile),
        id = esc(&id),
        u1 = uuid_v4(),
        who = esc(&who),
        host = esc(&host),
        u3 = uuid_v4(),
        removal = plist_date(p.removal_date),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifier_is_stable_reverse_dns_per_user_and_portal() {
        let a = profile_identifier("https://portal.example.com:8443/", "ab12");
        assert_eq!(a, "com.example.portal.certportal.user.ab12");
        assert_eq!(a, profile_identifier("https://portal.example.com", "ab12"));
        assert_ne!(a, profile_identifier("https://other.example.com", "ab12"));
        assert_ne!(a, profile_identifier("https://portal.example.com", "cd34"));
    }

    #[test]
    fn text_is_escaped_and_no_password_key_is_written() {
        let xml = mobileconfig(&ProfileInput {
            portal_url: "https://p.example",
            user_id: "u1",
            login: "amy",
            display_name: "Amy <\"R&D\">",
            identity: Identity::Pkcs12(b"p12".to_vec()),
            ca_der: b"not a certificate",
            removal_date: 1_767_225_600,
            lang: crate::i18n::Lang::En,
        });
        assert!(xml.contains("Amy &lt;&quot;R&amp;D&quot;&gt; (amy)"));
        assert!(!xml.contains("<key>Password</key>"));
        assert!(xml.contains("<string>com.apple.security.pkcs12</string>"));
        assert!(xml.contains("<string>com.apple.security.root</string>"));
        assert!(xml.contains("cDEy\n</data>"));
        assert!(xml.contains("<key>RemovalDate</key>\n\t<date>2026-01-01T00:00:00Z</date>"));
        assert!(xml.contains("<key>ja</key>"));
        assert!(xml.contains("The device asks for the PIN shown in the portal."));
    }

    #[test]
    fn a_japanese_phone_reads_the_descriptions_in_japanese() {
        let xml = mobileconfig(&ProfileInput {
            portal_url: "https://p.example",
            user_id: "u1",
            login: "amy",
            display_name: "山田 <花子>",
            identity: Identity::Pkcs12(b"p12".to_vec()),
            ca_der: b"not a certificate",
            removal_date: 1_767_225_600,
            lang: crate::i18n::Lang::Ja,
        });
        assert!(xml.contains("<string>クライアント証明書とその秘密鍵です。"));
        assert!(xml.contains("<string>クライアント証明書を発行した認証局です。</string>"));
        assert!(xml.contains(
            "p.example の certportal が発行した 山田 &lt;花子&gt; (amy) のクライアント証明書です。"
        ));
        assert!(!xml.contains("Your client certificate and its private key"));
    }

    #[test]
    fn a_scep_profile_carries_the_challenge_and_a_device_key_request_but_no_key() {
        let xml = mobileconfig(&ProfileInput {
            portal_url: "https://p.example",
            user_id: "u1",
            login: "amy",
            display_name: "Amy",
            identity: Identity::Scep(ScepPayload {
                url: "https://p.example/scep".into(),
                challenge: "ch&1".into(),
                display_name: "Amy".into(),
                login: "amy".into(),
                email: "amy@example.com".into(),
                upn: Some("amy@corp.example".into()),
            }),
            ca_der: b"not a certificate",
            removal_date: 1_767_225_600,
            lang: crate::i18n::Lang::En,
        });
        assert!(xml.contains("<string>com.apple.security.scep</string>"));
        assert!(!xml.contains("com.apple.security.pkcs12"));
        assert!(xml.contains("<key>Challenge</key>\n\t\t\t\t<string>ch&amp;1</string>"));
        assert!(xml.contains("<key>KeyIsExtractable</key>\n\t\t\t\t<false/>"));
        assert!(xml.contains("<string>https://p.example/scep</string>"));
        assert!(xml.contains("<string>amy@corp.example</string>"));
    }

    #[test]
    fn uuids_are_version_4() {
        let u = uuid_v4();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert!(matches!(&u[19..20], "8" | "9" | "A" | "B"));
        assert_ne!(u, uuid_v4());
    }
}
