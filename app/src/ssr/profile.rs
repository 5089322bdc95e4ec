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
    /// The PKCS#12 (legacy form), already parsed back by its builder.
    pub p12: &'a [u8],
    pub ca_der: &'a [u8],
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

fn esc(s: &str) -> String {
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

/// Builds the profile (an XML property list).
pub fn mobileconfig(p: &ProfileInput<'_>) -> String {
    let id = profile_identifier(p.portal_url, p.user_id);
    let ca_name = ca_common_name(p.ca_der);
    let host = url::Url::parse(p.portal_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_default();
    let who = format!("{} ({})", p.display_name, p.login);
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>PayloadContent</key>
	<array>
		<dict>
			<key>PayloadCertificateFileName</key>
			<string>certportal-ca.cer</string>
			<key>PayloadContent</key>
			<data>
{ca}</data>
			<key>PayloadDescription</key>
			<string>The certificate authority that issued your client certificate.</string>
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
		<dict>
			<key>PayloadCertificateFileName</key>
			<string>{login}.p12</string>
			<key>PayloadContent</key>
			<data>
{p12}</data>
			<key>PayloadDescription</key>
			<string>Your client certificate and its private key. The device asks for the PIN shown in the portal.</string>
			<key>PayloadDisplayName</key>
			<string>{who}</string>
			<key>PayloadIdentifier</key>
			<string>{id}.identity</string>
			<key>PayloadType</key>
			<string>com.apple.security.pkcs12</string>
			<key>PayloadUUID</key>
			<string>{u2}</string>
			<key>PayloadVersion</key>
			<integer>1</integer>
		</dict>
	</array>
	<key>PayloadDescription</key>
	<string>Client certificate for {who}, from certportal at {host}. Installing it replaces an earlier one from the same portal.</string>
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
</dict>
</plist>
"#,
        ca = data(p.ca_der),
        ca_name = esc(&ca_name),
        id = esc(&id),
        u1 = uuid_v4(),
        login = esc(p.login),
        p12 = data(p.p12),
        who = esc(&who),
        u2 = uuid_v4(),
        host = esc(&host),
        u3 = uuid_v4(),
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
            p12: b"p12",
            ca_der: b"not a certificate",
        });
        assert!(xml.contains("Amy &lt;&quot;R&amp;D&quot;&gt; (amy)"));
        assert!(!xml.contains("<key>Password</key>"));
        assert!(xml.contains("<string>com.apple.security.pkcs12</string>"));
        assert!(xml.contains("<string>com.apple.security.root</string>"));
        assert!(xml.contains("cDEy\n</data>"));
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
