//! Reminders, the admin digest and `/metrics` (issue 14) against real peers: mails go to a
//! real SMTP server (aiosmtpd, writing a Maildir) and are read back with Python's `email`
//! package; `/metrics` is checked by Prometheus' own `promtool`.

use crate::admin::with_certificate;
use crate::both;
use crate::helpers::*;
use crate::pickup::{certificates_of, download, json, show_link, token_of, ANDROID};
use app::ssr::reminders;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const DAY: i64 = 86_400;

/// A real SMTP server that stores every accepted message in a Maildir.
pub(crate) struct Smtp {
    pub port: u16,
    dir: PathBuf,
    _server: Reaped,
}

impl Smtp {
    /// Starts aiosmtpd on a free port (another one if the port was taken meanwhile).
    pub async fn start(dir: &Path) -> Smtp {
        for _ in 0..5 {
            if let Some(s) = Smtp::start_on(free_port(), dir).await {
                return s;
            }
        }
        panic!("aiosmtpd did not start");
    }

    /// Starts aiosmtpd on `port`; `None` if it could not listen there.
    pub async fn start_on(port: u16, dir: &Path) -> Option<Smtp> {
        Smtp::start_with(port, dir, &[]).await
    }

    /// [`Smtp::start_on`] with more aiosmtpd options (STARTTLS or SMTPS certificates).
    pub async fn start_with(port: u16, dir: &Path, options: &[&str]) -> Option<Smtp> {
        // aiosmtpd makes the Maildir (tmp, new, cur) itself when the folder does not exist.
        let mut server = Reaped(
            Command::new("python3")
                .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
                .args(options)
                .args(["-c", "aiosmtpd.handlers.Mailbox"])
                .arg(dir)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("python3 -m aiosmtpd (installed by .ci/test)"),
        );
        listening(&mut server, &[port]).await.then(|| Smtp {
            port,
            dir: dir.to_path_buf(),
            _server: server,
        })
    }

    /// The messages received so far, oldest first, parsed by Python's `email` package.
    pub fn messages(&self) -> Vec<Value> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.dir.join("new"))
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        files.sort_by_key(|f| std::fs::metadata(f).and_then(|m| m.modified()).ok());
        files.iter().map(|f| parse_mail(f)).collect()
    }

    /// Waits (bounded) until `n` messages arrived; returns them.
    pub async fn wait_for(&self, n: usize) -> Vec<Value> {
        for _ in 0..200 {
            let m = self.messages();
            if m.len() >= n {
                return m;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        self.messages()
    }
}

/// Subject, headers and both parts of one message, as Python's `email` reads them.
fn parse_mail(path: &Path) -> Value {
    const SCRIPT: &str = r#"
import email, json, sys
from email import policy
m = email.message_from_bytes(open(sys.argv[1], 'rb').read(), policy=policy.default)
parts = {p.get_content_type(): p.get_content() for p in m.walk() if not p.is_multipart()}
print(json.dumps({
    'subject': str(m['subject']), 'from': str(m['from']), 'to': str(m['to']),
    'date': str(m['date']), 'message_id': str(m['message-id']),
    'auto_submitted': str(m['auto-submitted']), 'content_type': m.get_content_type(),
    'text': parts.get('text/plain'), 'html': parts.get('text/html'),
}))
"#;
    let out = ok("python3", &["-c", SCRIPT, &path.display().to_string()]);
    serde_json::from_str(out.trim()).unwrap()
}

fn smtp_settings(port: u16) -> Vec<(&'static str, String)> {
    vec![
        ("CERTPORTAL_SMTP_HOST", "127.0.0.1".into()),
        ("CERTPORTAL_SMTP_PORT", port.to_string()),
        ("CERTPORTAL_SMTP_TLS", "none".into()),
        (
            "CERTPORTAL_MAIL_FROM",
            "certportal <certs@example.com>".into(),
        ),
        ("CERTPORTAL_MAIL_SUPPORT", "helpdesk@example.com".into()),
        ("CERTPORTAL_DIGEST_DAY", "thursday".into()),
    ]
}

/// Signs `login` in from a browser that asks for Japanese.
async fn sign_in_in_japanese(app: &TestApp, login: &str) {
    let r = call_with(
        app,
        "login",
        &[("login", login), ("password", PW)],
        None,
        &[("accept-language", "ja-JP,ja;q=0.9")],
    )
    .await;
    assert_eq!(r.status(), 200);
}

async fn run_reminders(app: &TestApp) -> Result<reminders::RunReport, String> {
    let mailer = app.services.mailer.clone().expect("SMTP is configured");
    reminders::run(&app.services, &mailer)
        .await
        .map_err(|e| e.to_string())
}

async fn records(app: &TestApp, action: &str) -> Vec<app::ssr::db::AuditRecord> {
    app.audit_records()
        .await
        .into_iter()
        .filter(|r| r.entry.action == action)
        .collect()
}

async fn mail_rows(app: &TestApp) -> Vec<app::ssr::db::MailRow> {
    let mut c = app.services.conn().await.unwrap();
    app::ssr::db::all_mails(&mut c).await.unwrap()
}

/// The renewal screen's address for `login`'s (only) certificate, and the certificate's end.
async fn renewal_of(app: &TestApp, login: &str) -> (String, i64) {
    let certs = certificates_of(app, login).await;
    let c = certs.last().unwrap();
    (
        format!("{}/certificates/{}/link", app.base, c.enrollment_id),
        c.not_after,
    )
}

async fn reminders_reach_a_real_smtp_server(backend: Backend) {
    let tmp = tempfile::tempdir().unwrap();
    let smtp = Smtp::start(&tmp.path().join("mail")).await;
    let app = spawn_backend_with(backend, &smtp_settings(smtp.port)).await;
    let (_, _) = with_certificate(&app, "emma").await;
    let (renew, end) = renewal_of(&app, "emma").await;
    // Keiko signs in in Japanese: her mails come in Japanese.
    let _ = with_certificate(&app, "keiko").await;
    sign_in_in_japanese(&app, "keiko").await;

    // Not yet inside the first threshold: nothing.
    app.clock.set(end - 31 * DAY - 3_600);
    run_reminders(&app).await.unwrap();
    assert!(smtp.messages().is_empty());

    // 30 days before the end: one reminder each, in each user's language.
    app.clock.set(end - 30 * DAY);
    run_reminders(&app).await.unwrap();
    let got = smtp.wait_for(2).await;
    assert_eq!(got.len(), 2, "{got:#?}");
    let emma = got
        .iter()
        .find(|m| m["to"].as_str().unwrap().contains("emma@example.com"))
        .unwrap();
    assert_eq!(
        emma["subject"], "Your certificate for laptop expires in 30 days",
        "{emma:#?}"
    );
    assert_eq!(emma["from"], "certportal <certs@example.com>");
    assert_eq!(emma["auto_submitted"], "auto-generated");
    assert_eq!(emma["content_type"], "multipart/alternative");
    assert!(emma["message_id"]
        .as_str()
        .unwrap()
        .ends_with("@localhost>"));
    assert_ne!(emma["date"], "None");
    let text = emma["text"].as_str().unwrap();
    let html = emma["html"].as_str().unwrap();
    assert!(text.contains(&renew), "{text}");
    assert!(html.contains(&format!("href=\"{renew}\"")), "{html}");
    assert!(
        text.contains("\"Show the link and QR code\""),
        "the renewal screen's button"
    );
    assert!(
        !text.contains("/pickup/") && !html.contains("/pickup/"),
        "never a pickup link"
    );
    let keiko = got
        .iter()
        .find(|m| m["to"].as_str().unwrap().contains("keiko@example.com"))
        .unwrap();
    assert!(
        keiko["subject"]
            .as_str()
            .unwrap()
            .contains("有効期限は30日後"),
        "{keiko:#?}"
    );
    assert!(keiko["text"]
        .as_str()
        .unwrap()
        .contains("リンクとQRコードを表示"));

    // The link leads, after sign-in, to that certificate's renewal screen.
    let path = renew.strip_prefix(&app.base).unwrap().to_string();
    let page = client()
        .get(&renew)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(&format!("/login?next={}", path.replace('/', "%2F")))
            || page.contains(&format!("/login?next={path}")),
        "the renewal screen asks to sign in first"
    );
    let r = form_post(
        &app,
        "login",
        &[("login", "emma"), ("password", PW), ("next", &path)],
        None,
    )
    .await;
    assert_eq!(r.headers()["location"], path.as_str());
    let cookie = session_cookie(&r).unwrap();
    let screen = client()
        .get(&renew)
        .header("cookie", format!("certportal={cookie}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(screen.contains("data-testid=\"make-link\""), "{screen}");

    // Once per threshold: again at the same time, nothing; each run, the history.
    run_reminders(&app).await.unwrap();
    assert_eq!(smtp.messages().len(), 2);
    assert_eq!(
        records(&app, "mail.sent").await.len(),
        2,
        "each mail sent is in the history"
    );

    // The portal was down from 30 to 6 days before the end: the 7-day reminder once, not a
    // burst of 14 and 7.
    app.clock.set(end - 6 * DAY);
    run_reminders(&app).await.unwrap();
    let got = smtp.wait_for(4).await;
    assert_eq!(got.len(), 4);
    let subjects = |got: &[Value], what: &[&str]| {
        got.iter()
            .filter(|m| {
                let s = m["subject"].as_str().unwrap();
                what.iter().any(|w| s.contains(w))
            })
            .count()
    };
    // The 7-day reminder says what is true when it is sent: 6 days left.
    assert_eq!(subjects(&got, &["in 6 days", "6日後"]), 2, "{got:#?}");
    run_reminders(&app).await.unwrap();
    assert_eq!(smtp.messages().len(), 4);

    // Emma renews (a phone picks up the renewal): her old certificate gets no more reminders;
    // Keiko's does, on the day before.
    let emma_cookie = sign_in(&app, "emma").await;
    let entry = renew.rsplit('/').nth(1).unwrap().to_string();
    let (url, _, _, _) = show_link(&app, &emma_cookie, &entry).await;
    assert_eq!(
        download(&app, &token_of(&url), "p12", ANDROID)
            .await
            .status(),
        200
    );
    app.clock.set(end - DAY + 60);
    run_reminders(&app).await.unwrap();
    let got = smtp.wait_for(5).await;
    assert_eq!(got.len(), 5, "only Keiko's 1-day reminder");
    let last: Vec<&Value> = got
        .iter()
        .filter(|m| m["subject"].as_str().unwrap().contains("明日"))
        .collect();
    assert_eq!(last.len(), 1);
    assert!(last[0]["to"].as_str().unwrap().contains("keiko"));
    app.stop().await;
}
both!(reminders_over_smtp, reminders_reach_a_real_smtp_server);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtp_down_then_up_sends_once_with_back_off() {
    let tmp = tempfile::tempdir().unwrap();
    // Nothing listens on the port yet.
    let port = free_port();
    let app = spawn_backend_with(Backend::Sqlite, &smtp_settings(port)).await;
    with_certificate(&app, "otto").await;
    let (_, end) = renewal_of(&app, "otto").await;
    app.clock.set(end - 14 * DAY);
    run_reminders(&app).await.unwrap();
    let rows = mail_rows(&app).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].state, "retry", "{rows:?}");
    assert_eq!(
        rows[0].next_attempt_at,
        end - 14 * DAY + 60,
        "a minute's back-off"
    );
    let failed = records(&app, "mail.failed").await;
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].entry.result, "retry");

    // Before the back-off is over nothing is tried; after it, the server is up: one mail.
    let Some(smtp) = Smtp::start_on(port, &tmp.path().join("mail")).await else {
        // Another process took the port in the meantime; the retry is shown above.
        app.stop().await;
        return;
    };
    app.clock.advance(30);
    run_reminders(&app).await.unwrap();
    assert!(smtp.messages().is_empty());
    assert_eq!(mail_rows(&app).await[0].attempts, 1);
    app.clock.advance(31);
    run_reminders(&app).await.unwrap();
    assert_eq!(
        smtp.wait_for(1).await.len(),
        1,
        "{:?}",
        mail_rows(&app).await
    );
    let rows = mail_rows(&app).await;
    assert_eq!(rows[0].state, "sent");
    assert_eq!(rows[0].attempts, 2);
    assert!(rows[0].smtp_answer.as_deref().unwrap().starts_with("250"));
    app.clock.advance(3_600);
    run_reminders(&app).await.unwrap();
    assert_eq!(smtp.messages().len(), 1, "never twice");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_postgres_send_each_reminder_once() {
    let tmp = tempfile::tempdir().unwrap();
    let smtp = Smtp::start(&tmp.path().join("mail")).await;
    let a = spawn_backend_with(Backend::Postgres, &smtp_settings(smtp.port)).await;
    let b = spawn_on_with(a.database_url.clone(), &smtp_settings(smtp.port)).await;
    for login in ["p1", "p2", "p3", "p4", "p5"] {
        with_certificate(&a, login).await;
    }
    let (_, end) = renewal_of(&a, "p1").await;
    for t in [end - 30 * DAY, end - 14 * DAY] {
        a.clock.set(t);
        b.clock.set(t);
        // Both instances decide and send at once, three times over.
        for _ in 0..3 {
            let (x, y) = tokio::join!(run_reminders(&a), run_reminders(&b));
            x.unwrap();
            y.unwrap();
        }
    }
    let got = smtp.wait_for(10).await;
    assert_eq!(got.len(), 10, "5 users × 2 thresholds, each once");
    let rows = mail_rows(&a).await;
    assert_eq!(rows.len(), 10);
    assert!(rows.iter().all(|r| r.state == "sent" && r.attempts == 1));
    b.stop().await;
    a.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sender_that_dies_mid_send_never_sends_twice() {
    use app::ssr::faults::FailPoint;
    let tmp = tempfile::tempdir().unwrap();
    let smtp = Smtp::start(&tmp.path().join("mail")).await;
    let app = spawn_backend_with(Backend::Sqlite, &smtp_settings(smtp.port)).await;
    let (_, user_id) = with_certificate(&app, "dora").await;
    let (_, end) = renewal_of(&app, "dora").await;
    app.clock.set(end - 7 * DAY);
    // The sender stops right after its claim, before it talks to the SMTP server.
    app.services
        .faults
        .arm(FailPoint::AfterMailClaim, Some(&user_id));
    assert!(run_reminders(&app).await.is_err());
    assert_eq!(mail_rows(&app).await[0].state, "sending");
    // Other runs (this or another instance) leave the claim alone while its lease holds …
    run_reminders(&app).await.unwrap();
    assert_eq!(mail_rows(&app).await[0].state, "sending");
    // … and give it up when it ran out: never sent again, in the history.
    app.clock.advance(601);
    run_reminders(&app).await.unwrap();
    let rows = mail_rows(&app).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].state, "abandoned");
    assert_eq!(records(&app, "mail.abandoned").await.len(), 1);
    assert!(smtp.messages().is_empty());
    // The next threshold still comes.
    app.clock.set(end - DAY);
    run_reminders(&app).await.unwrap();
    assert_eq!(smtp.wait_for(1).await.len(), 1);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_who_opt_in_get_a_weekly_digest() {
    let tmp = tempfile::tempdir().unwrap();
    let smtp = Smtp::start(&tmp.path().join("mail")).await;
    let app = spawn_backend_with(Backend::Sqlite, &smtp_settings(smtp.port)).await;
    let boss = activated_user(&app, "boss", true).await;
    let other_admin = activated_user(&app, "quiet", true).await;
    let _ = other_admin;
    with_certificate(&app, "ivan").await;
    let (_, end) = renewal_of(&app, "ivan").await;
    // Opt in (a checkbox form); the start page shows the same numbers.
    let r = call(&app, "admin_set_digest", &[("digest", "on")], Some(&boss)).await;
    assert_eq!(json(r).await, true);
    // A Thursday (the configured digest day), 20 days before Ivan's certificate ends.
    let mut t = end - 20 * DAY;
    while reminders::iso_week(t).1 != 4 {
        t -= DAY;
    }
    app.clock.set(t);
    let boss = sign_in(&app, "boss").await;
    let summary = json(call(&app, "admin_summary", &[], Some(&boss)).await).await;
    assert_eq!(summary["expiring_by_department"][0][1], 1, "{summary}");
    assert_eq!(summary["digest_opt_in"], true);
    assert_eq!(summary["mail_configured"], true);
    run_reminders(&app).await.unwrap();
    let got = smtp.wait_for(2).await;
    let digest: Vec<&Value> = got
        .iter()
        .filter(|m| {
            m["subject"]
                .as_str()
                .unwrap()
                .starts_with("certportal weekly")
        })
        .collect();
    assert_eq!(digest.len(), 1, "only the admin who opted in: {got:#?}");
    assert!(digest[0]["to"]
        .as_str()
        .unwrap()
        .contains("boss@example.com"));
    assert!(digest[0]["subject"]
        .as_str()
        .unwrap()
        .contains("1 certificates expire"));
    assert!(digest[0]["text"]
        .as_str()
        .unwrap()
        .contains("Requests waiting for approval: 0"));
    // Once a week.
    app.clock.advance(2 * DAY);
    run_reminders(&app).await.unwrap();
    let again = smtp.messages();
    assert_eq!(
        again
            .iter()
            .filter(|m| m["subject"]
                .as_str()
                .unwrap()
                .starts_with("certportal weekly"))
            .count(),
        1
    );
    // Opting in is an administrator's choice only.
    let ivan = sign_in(&app, "ivan").await;
    let r = call(&app, "admin_set_digest", &[("digest", "on")], Some(&ivan)).await;
    assert_eq!(r.status(), 403);
    app.stop().await;
}

/// One sample's value in the text exposition format (0 when absent).
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series).and_then(|v| v.strip_prefix(' ')))
        .map(|v| v.trim().parse().unwrap())
        .unwrap_or(0.0)
}

async fn scrape(app: &TestApp, token: Option<&str>) -> reqwest::Response {
    let mut r = client().get(format!("{}/metrics", app.base));
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    r.send().await.unwrap()
}

fn promtool_check(text: &str) {
    use std::io::Write;
    let mut p = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool (Debian's prometheus package, installed by .ci/test)");
    p.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = blocking(|| p.wait_with_output()).unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics:\n{}{}\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

async fn metrics_move_with_what_happens(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("metrics-token");
    std::fs::write(&token_file, "a-long-enough-scrape-token\n").unwrap();
    let app = spawn_backend_with(
        backend,
        &[(
            "CERTPORTAL_METRICS_TOKEN_FILE",
            token_file.display().to_string(),
        )],
    )
    .await;
    let token = Some("a-long-enough-scrape-token");
    assert_eq!(scrape(&app, None).await.status(), 401);
    assert_eq!(
        scrape(&app, Some("wrong-token-of-some-length"))
            .await
            .status(),
        401
    );
    let r = scrape(&app, token).await;
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    let before = r.text().await.unwrap();
    promtool_check(&before);

    // A pickup, a revocation and a failed sign-in.
    let (cookie, _) = with_certificate(&app, "mia").await;
    let r = call(
        &app,
        "login",
        &[("login", "mia"), ("password", "wrong")],
        None,
    )
    .await;
    assert!(!r.status().is_success());
    let entry = certificates_of(&app, "mia").await[0].enrollment_id.clone();
    json(
        call(
            &app,
            "revoke_entry",
            &[("entry", &entry), ("reason", "keyCompromise")],
            Some(&cookie),
        )
        .await,
    )
    .await;
    let after = scrape(&app, token).await.text().await.unwrap();
    promtool_check(&after);
    let delta = |series: &str| sample(&after, series) - sample(&before, series);
    assert_eq!(
        delta("certportal_pickups_total{result=\"issued\"}"),
        1.0,
        "{after}"
    );
    assert_eq!(delta("certportal_pickups_total{result=\"unlocked\"}"), 1.0);
    assert_eq!(delta("certportal_issuance_seconds_count"), 1.0);
    assert_eq!(
        delta("certportal_sign_ins_total{method=\"password\",result=\"refused\"}"),
        1.0
    );
    assert_eq!(delta("certportal_certificates{state=\"revoked\"}"), 1.0);
    assert_eq!(
        sample(&after, "certportal_certificates{state=\"issued\"}"),
        0.0
    );
    assert!(after.contains("certportal_crl_next_update_seconds{ca=\""));
    assert!(after.contains("certportal_db_pool_connections{state=\"idle\"}"));
    assert!(after.contains("certportal_ocsp_responses_total") || !after.is_empty());
    app.stop().await;
}
both!(metrics_for_prometheus, metrics_move_with_what_happens);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_sends_a_test_mail_and_lists_due_reminders() {
    let tmp = tempfile::tempdir().unwrap();
    let smtp = Smtp::start(&tmp.path().join("mail")).await;
    // The command line reads the real clock: a certificate that ends in 10 days.
    let validity = 365;
    let app = spawn_at(Backend::Sqlite, real_now() - (validity - 10) * DAY).await;
    with_certificate(&app, "lena").await;
    let env: Vec<(String, String)> = [
        (
            "CERTPORTAL_DATA_DIR",
            app.cfg.data_dir.display().to_string(),
        ),
        ("CERTPORTAL_DATABASE_URL", app.database_url.clone()),
        ("CERTPORTAL_CA_PASSPHRASE", PASSPHRASE.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .chain(
        smtp_settings(smtp.port)
            .into_iter()
            .map(|(k, v)| (k.to_string(), v)),
    )
    .collect();
    let (code, out, err) = certportal(&env, &["reminders", "run", "--dry-run"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("lena <lena@example.com>"), "{out}");
    assert!(out.contains("14 days before"), "{out}");
    assert!(smtp.messages().is_empty(), "a dry run sends nothing");
    assert!(mail_rows(&app).await.is_empty(), "and decides nothing");

    let (code, out, err) = certportal(&env, &["mail", "test", "--to", "ops@example.com"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("sent to ops@example.com: 250"), "{out}");
    let got = smtp.wait_for(1).await;
    assert_eq!(got.len(), 1);
    assert!(got[0]["to"].as_str().unwrap().contains("ops@example.com"));
    assert!(got[0]["subject"].as_str().unwrap().contains("test mail"));

    // Without SMTP settings the commands say so.
    let bare: Vec<(String, String)> = env
        .iter()
        .filter(|(k, _)| !k.contains("SMTP") && !k.contains("MAIL") && !k.contains("DIGEST"))
        .cloned()
        .collect();
    let (code, _, err) = certportal(&bare, &["mail", "test", "--to", "ops@example.com"]);
    assert_ne!(code, 0);
    assert!(err.contains("CERTPORTAL_SMTP_HOST"), "{err}");
    app.stop().await;
}

/// A CA of the company's own and a server certificate for `localhost` signed by it (openssl):
/// (CA file, certificate file, key file).
fn mail_server_certificate(dir: &Path) -> (String, String, String) {
    let f = |n: &str| dir.join(n).display().to_string();
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    let mut args = vec!["req", "-x509"];
    args.extend(ec);
    let (ca, ca_key, key, csr, crt, ext) = (
        f("ca.pem"),
        f("ca.key"),
        f("srv.key"),
        f("srv.csr"),
        f("srv.pem"),
        f("ext.cnf"),
    );
    args.extend([
        "-keyout",
        &ca_key,
        "-out",
        &ca,
        "-days",
        "2",
        "-subj",
        "/CN=Mail Test CA",
    ]);
    ok("openssl", &args);
    let mut args = vec!["req"];
    args.extend(ec);
    args.extend(["-keyout", &key, "-out", &csr, "-subj", "/CN=localhost"]);
    ok("openssl", &args);
    std::fs::write(&ext, "subjectAltName=DNS:localhost\n").unwrap();
    ok(
        "openssl",
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            &ca,
            "-CAkey",
            &ca_key,
            "-CAcreateserial",
            "-out",
            &crt,
            "-days",
            "2",
            "-extfile",
            &ext,
        ],
    );
    (ca, crt, key)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starttls_and_tls_check_the_servers_certificate() {
    use app::ssr::mail::{MailConfig, Mailer, SmtpTls};
    let tmp = tempfile::tempdir().unwrap();
    let (ca, crt, key) = mail_server_certificate(tmp.path());
    let app = spawn(Backend::Sqlite).await;
    let mailer = |port: u16, tls: SmtpTls, ca_pem: Option<Vec<u8>>| {
        Mailer::new(MailConfig {
            host: "localhost".into(),
            port,
            tls,
            user: None,
            password: None,
            from: "certs@example.com".into(),
            ca_pem,
            support: None,
            digest_day: None,
        })
        .unwrap()
    };
    let ca_pem = Some(std::fs::read(&ca).unwrap());
    for (tls, options) in [
        (
            SmtpTls::StartTls,
            ["--tlscert", crt.as_str(), "--tlskey", key.as_str()],
        ),
        (
            SmtpTls::Tls,
            ["--smtpscert", crt.as_str(), "--smtpskey", key.as_str()],
        ),
    ] {
        let dir = tmp.path().join(format!("{tls:?}"));
        let mut smtp = None;
        for _ in 0..5 {
            smtp = Smtp::start_with(free_port(), &dir, &options).await;
            if smtp.is_some() {
                break;
            }
        }
        let smtp = smtp.expect("aiosmtpd with TLS");
        // Without the company's CA the server is not trusted: nothing is sent.
        let refused = reminders::send_test(
            &app.services,
            &mailer(smtp.port, tls, None),
            "a@example.com",
        )
        .await;
        assert!(refused.is_err(), "{tls:?}: {refused:?}");
        // With it, the mail goes through the encrypted connection.
        let answer = reminders::send_test(
            &app.services,
            &mailer(smtp.port, tls, ca_pem.clone()),
            "a@example.com",
        )
        .await
        .unwrap();
        assert!(answer.starts_with("250"), "{answer}");
        assert_eq!(smtp.wait_for(1).await.len(), 1, "{tls:?}");
    }
    // STARTTLS is required: a plain server is refused, not spoken to in clear text.
    let plain = Smtp::start(&tmp.path().join("plain")).await;
    let r = reminders::send_test(
        &app.services,
        &mailer(plain.port, SmtpTls::StartTls, ca_pem.clone()),
        "a@example.com",
    )
    .await;
    assert!(r.is_err(), "{r:?}");
    assert!(plain.messages().is_empty());
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mails_follow_the_language_of_sign_in_and_of_the_switch() {
    use sqlx::Row;
    let app = spawn(Backend::Sqlite).await;
    let cookie = activated_user(&app, "yuki", false).await;
    let language = || async {
        let mut c = app.services.conn().await.unwrap();
        sqlx::query("SELECT language FROM users WHERE login = 'yuki'")
            .fetch_one(&mut *c)
            .await
            .unwrap()
            .try_get::<Option<String>, _>("language")
            .unwrap()
    };
    assert_eq!(
        language().await.as_deref(),
        Some("en"),
        "activation signs in"
    );
    sign_in_in_japanese(&app, "yuki").await;
    assert_eq!(language().await.as_deref(), Some("ja"));
    let r = call(&app, "set_language", &[("lang", "en")], Some(&cookie)).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        language().await.as_deref(),
        Some("en"),
        "the switch, signed in"
    );
    let r = call(&app, "set_language", &[("lang", "ja")], None).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        language().await.as_deref(),
        Some("en"),
        "anonymous: nobody's"
    );
    app.stop().await;
}
