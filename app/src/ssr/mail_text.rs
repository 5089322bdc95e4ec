//! The words of the portal's mails, in English and Japanese: a reminder before a certificate
//! ends, the administrators' weekly digest and the test mail. Each is plain text plus the same
//! text as simple HTML; nothing in a mail is a pickup link or a PIN (SPEC "Reminders").

use super::db::DigestCounts;
use super::mail::escape_html;
use crate::i18n::{t, Lang, Msg};

/// A mail's subject and its two bodies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// What a reminder says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReminderFacts {
    pub display_name: String,
    pub device_label: String,
    /// `YYYY-MM-DD HH:MM UTC`.
    pub ends: String,
    pub days_left: i64,
    /// Where the certificate's renewal screen is (the portal asks to sign in first).
    pub renew_url: String,
    pub reissue_allowed: bool,
    /// Whom to ask when the user may not renew themselves.
    pub support: String,
}

impl ReminderFacts {
    /// The certificate's end in the user's zone (their choice, else the portal's), with its
    /// offset: `2027-03-11 00:00 (UTC+9)`.
    pub fn ends_at(unix: i64, zone: &crate::zone::Zone) -> String {
        zone.time(unix)
    }
}

/// Paragraphs → (plain text, HTML). A paragraph that is a URL becomes a link in HTML.
fn bodies(paragraphs: &[String]) -> (String, String) {
    let text = paragraphs.join("\n\n") + "\n";
    let mut html = String::from(
        "<!DOCTYPE html><html><body style=\"font-family:sans-serif;line-height:1.5\">",
    );
    for p in paragraphs {
        if p.starts_with("https://") || p.starts_with("http://") {
            let u = escape_html(p);
            html.push_str(&format!(
                "<p><a href=\"{u}\" style=\"font-weight:bold\">{u}</a></p>"
            ));
        } else {
            html.push_str("<p>");
            html.push_str(&escape_html(p).replace('\n', "<br>"));
            html.push_str("</p>");
        }
    }
    html.push_str("</body></html>");
    (text, html)
}

fn label(facts: &ReminderFacts, lang: Lang) -> String {
    if facts.device_label.trim().is_empty() {
        match lang {
            Lang::En => "your device".into(),
            Lang::Ja => "お使いの端末".into(),
        }
    } else {
        facts.device_label.clone()
    }
}

pub fn reminder(lang: Lang, f: &ReminderFacts) -> Text {
    let name = label(f, lang);
    let n = f.days_left;
    let (subject, mut paragraphs) = match lang {
        Lang::En => {
            let when = match n {
                0 => "today".to_string(),
                1 => "tomorrow".to_string(),
                n => format!("in {n} days"),
            };
            (
                format!("Your certificate for {name} expires {when}"),
                vec![
                    format!("Hello {},", f.display_name),
                    format!(
                        "the client certificate for {name} expires {when} ({}). After that, this device can no longer connect to the services that check it, such as Wi-Fi, VPN or e-mail.",
                        f.ends
                    ),
                ],
            )
        }
        Lang::Ja => {
            let when = match n {
                0 => "本日".to_string(),
                1 => "明日".to_string(),
                n => format!("{n}日後"),
            };
            (
                format!("{name} のクライアント証明書の有効期限は{when}です"),
                vec![
                    format!("{} 様", f.display_name),
                    format!(
                        "{name} のクライアント証明書の有効期限は{when}（{}）です。期限が切れると、この端末は Wi-Fi、VPN、メールなど証明書で確認するサービスに接続できなくなります。",
                        f.ends
                    ),
                ],
            )
        }
    };
    match (lang, f.reissue_allowed) {
        (Lang::En, true) => {
            paragraphs.push(format!(
                "Renew it now: open this address and sign in; the portal shows this certificate's renewal screen. Choose \"{}\" and scan the QR code with the device.",
                t(Lang::En, Msg::MakeLink)
            ));
            paragraphs.push(f.renew_url.clone());
        }
        (Lang::En, false) => {
            paragraphs.push(format!(
                "Your account may not renew certificates itself: ask {} to renew it for you. You can see the certificate here after signing in:",
                f.support
            ));
            paragraphs.push(f.renew_url.clone());
        }
        (Lang::Ja, true) => {
            paragraphs.push(format!(
                "今すぐ更新してください。次のアドレスを開いてサインインすると、この証明書の更新画面が表示されます。「{}」を選び、QRコードを端末で読み取ってください。",
                t(Lang::Ja, Msg::MakeLink)
            ));
            paragraphs.push(f.renew_url.clone());
        }
        (Lang::Ja, false) => {
            paragraphs.push(format!(
                "お使いのアカウントでは証明書をご自身で更新できません。{} に更新を依頼してください。サインインすると、この証明書を次のアドレスで確認できます。",
                f.support
            ));
            paragraphs.push(f.renew_url.clone());
        }
    }
    paragraphs.push(match lang {
        Lang::En => "This message was sent automatically by certportal. It never contains a download link or a PIN; if a mail asks you to install a certificate from a link in it, do not.".into(),
        Lang::Ja => "このメールは certportal から自動送信されています。ダウンロード用リンクや PIN をメールで送ることはありません。メール内のリンクから証明書をインストールするよう求めるメールには応じないでください。".into(),
    });
    let (text, html) = bodies(&paragraphs);
    Text {
        subject,
        text,
        html,
    }
}

/// The administrators' weekly digest.
pub fn digest(lang: Lang, name: &str, counts: &DigestCounts, admin_url: &str) -> Text {
    let total: i64 = counts.expiring_by_department.iter().map(|(_, n)| n).sum();
    let depts = counts
        .expiring_by_department
        .iter()
        .map(|(d, n)| {
            let d = if d.is_empty() {
                match lang {
                    Lang::En => "(no department)",
                    Lang::Ja => "（部署なし）",
                }
            } else {
                d.as_str()
            };
            format!("  {d}: {n}")
        })
        .collect::<Vec<_>>()
        .join("\n");
    let mut p = match lang {
        Lang::En => vec![
            format!("Hello {name},"),
            "this is certportal's weekly summary.".to_string(),
            format!("Certificates that expire in the next 30 days: {total}"),
        ],
        Lang::Ja => vec![
            format!("{name} 様"),
            "certportal の週次サマリーです。".to_string(),
            format!("30日以内に期限が切れる証明書: {total}件"),
        ],
    };
    if !depts.is_empty() {
        p.push(depts);
    }
    p.extend(match lang {
        Lang::En => vec![
            format!(
                "Requests waiting for approval: {}\nLinks waiting to be picked up: {}\nLinks that lapsed unused in the last 7 days: {}",
                counts.open_approvals, counts.waiting_for_pickup, counts.lapsed_last_week
            ),
            admin_url.to_string(),
            "You receive this mail because you asked for the weekly summary on the administration start page; turn it off there.".to_string(),
        ],
        Lang::Ja => vec![
            format!(
                "承認待ちの申請: {}件\n受け取り待ちのリンク: {}件\n過去7日間に使われずに期限切れになったリンク: {}件",
                counts.open_approvals, counts.waiting_for_pickup, counts.lapsed_last_week
            ),
            admin_url.to_string(),
            "管理画面のトップで週次サマリーの受信を選んだため、このメールをお送りしています。停止も同じ画面でできます。".to_string(),
        ],
    });
    let subject = match lang {
        Lang::En => format!("certportal weekly: {total} certificates expire in the next 30 days"),
        Lang::Ja => format!("certportal 週次サマリー: 30日以内に期限切れ {total}件"),
    };
    let (text, html) = bodies(&p);
    Text {
        subject,
        text,
        html,
    }
}

/// `certportal mail test`.
pub fn test_mail(public_url: &str) -> Text {
    let p = vec![
        "This is a test mail from certportal: the SMTP settings work.".to_string(),
        "certportal からのテストメールです。SMTP の設定は正しく動作しています。".to_string(),
        public_url.to_string(),
    ];
    let (text, html) = bodies(&p);
    Text {
        subject: "certportal test mail / テストメール".into(),
        text,
        html,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(allowed: bool, days: i64) -> ReminderFacts {
        ReminderFacts {
            display_name: "Aiko <Sato>".into(),
            device_label: "iPhone & iPad".into(),
            ends: "2027-03-10 15:00 UTC".into(),
            days_left: days,
            renew_url: "https://portal.example/certificates/E1/link".into(),
            reissue_allowed: allowed,
            support: "helpdesk@example.com".into(),
        }
    }

    #[test]
    fn reminders_name_the_certificate_the_end_and_the_way_to_renew() {
        let m = reminder(Lang::En, &facts(true, 14));
        assert_eq!(
            m.subject,
            "Your certificate for iPhone & iPad expires in 14 days"
        );
        assert!(m.text.contains("2027-03-10 15:00 UTC"));
        assert!(m
            .text
            .contains("https://portal.example/certificates/E1/link"));
        assert!(m.html.contains("iPhone &amp; iPad"), "escaped in HTML");
        assert!(m.html.contains("Aiko &lt;Sato&gt;"));
        assert!(!m.html.contains("<Sato>"));
        let ja = reminder(Lang::Ja, &facts(true, 1));
        assert!(ja.subject.contains("明日"));
        assert!(
            ja.text.contains("「リンクとQRコードを表示」"),
            "the button's own words"
        );
        assert!(reminder(Lang::En, &facts(true, 0))
            .subject
            .ends_with("today"));
    }

    #[test]
    fn without_reissue_the_mail_says_whom_to_ask() {
        let m = reminder(Lang::En, &facts(false, 7));
        assert!(m.text.contains("ask helpdesk@example.com"));
        assert!(!m.text.contains("Show the link and QR code"));
        let ja = reminder(Lang::Ja, &facts(false, 7));
        assert!(ja.text.contains("helpdesk@example.com に更新を依頼"));
    }

    #[test]
    fn digest_counts_by_department() {
        let c = DigestCounts {
            expiring_by_department: vec![("".into(), 1), ("Sales/Tokyo".into(), 3)],
            open_approvals: 2,
            lapsed_last_week: 4,
            waiting_for_pickup: 5,
        };
        let m = digest(Lang::En, "Boss", &c, "https://p/admin/users");
        assert!(m.subject.contains("4 certificates"));
        assert!(m.text.contains("Sales/Tokyo: 3"));
        assert!(m.text.contains("(no department): 1"));
        assert!(m.text.contains("approval: 2"));
        assert!(digest(Lang::Ja, "Boss", &c, "u")
            .text
            .contains("承認待ちの申請: 2件"));
    }
}
