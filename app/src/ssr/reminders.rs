//! Expiry reminders and the administrators' weekly digest (SPEC "Reminders").
//!
//! Exactly once, across instances and restarts:
//! 1. *Decide*: every due (certificate, threshold) — and every opted-in administrator's digest
//!    of the ISO week — is inserted into `mails` under a unique `dedup_key`; two instances
//!    deciding the same mail insert one row.
//! 2. *Claim*: a sender moves a due row from `queued`/`retry` to `sending` with a conditional
//!    UPDATE and commits before it talks to the SMTP server; only the one whose UPDATE changed
//!    the row sends it.
//! 3. *Record*: the SMTP answer is stored with the new state and the history record in one
//!    transaction: `sent`; `retry` with back-off when the server refused for now or could not
//!    be reached; `failed` for a permanent refusal or after the last attempt.
//!
//! A sender that dies between 2 and 3 leaves a `sending` row whose lease runs out: it becomes
//! `abandoned` and is never sent again (the mail may or may not have gone out; sending it
//! again could send it twice). The next threshold's reminder still comes.

use super::audit::{self, Actor};
use super::db::{self, DbError, NewMail, ReminderCandidate};
use super::mail::{Mailer, Outgoing};
use super::mail_text::{self, ReminderFacts};
use super::{ids, Services};
use crate::domain::reminders::{backoff, days_left, MAX_ATTEMPTS};
use crate::i18n::Lang;

/// How long a claim is held: far longer than one SMTP conversation (20 s per step).
const LEASE_SECS: i64 = 600;
/// Mails sent in one run (the next run, a minute later, goes on).
const BATCH: i64 = 200;

pub mod action {
    pub use crate::domain::actions::{MAIL_ABANDONED, MAIL_CANCELLED, MAIL_FAILED, MAIL_SENT};
}

/// A reminder that is due now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    pub certificate: ReminderCandidate,
    pub threshold: i64,
}

/// What one run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunReport {
    pub queued: usize,
    pub sent: usize,
    pub retried: usize,
    pub failed: usize,
    pub abandoned: usize,
    pub cancelled: usize,
}

const DAY: i64 = 86_400;

/// The reminders due at the services' `now` that have not been decided yet.
pub async fn due_reminders(s: &Services) -> Result<Vec<Due>, DbError> {
    let now = s.now();
    let t = &s.thresholds;
    let today = now.div_euclid(DAY) * DAY;
    let until = today + (t.first() + 1) * DAY;
    let mut c = s.conn().await?;
    let candidates = db::reminder_candidates(&mut c, today, until).await?;
    Ok(candidates
        .into_iter()
        .filter_map(|cert| {
            t.due(cert.not_after, now, cert.reminded)
                .map(|threshold| Due {
                    certificate: cert,
                    threshold,
                })
        })
        .collect())
}

/// The ISO week (`2026-W49`) and weekday (1 = Monday) of `now` in UTC.
pub fn iso_week(now: i64) -> (String, u8) {
    let t = super::clock::to_offset(now);
    let (year, week, weekday) = t.to_iso_week_date();
    (format!("{year}-W{week:02}"), weekday.number_from_monday())
}

fn lang_of(code: Option<&str>) -> Lang {
    code.and_then(Lang::from_code).unwrap_or_default()
}

/// Decides what is due: queues reminders and, on or after the digest day, this week's digests.
pub async fn queue_due(s: &Services, digest_day: Option<u8>) -> Result<usize, DbError> {
    let now = s.now();
    let due = due_reminders(s).await?;
    // This week's digests not decided yet (read first: most minutes decide nothing, and then
    // nothing queues for the database's writer).
    let digests = match digest_day {
        Some(day) if iso_week(now).1 >= day => {
            let week = iso_week(now).0;
            let mut c = s.conn().await?;
            let mut open = Vec::new();
            for (id, _, email, _) in db::digest_recipients(&mut c).await? {
                let key = format!("digest:{id}:{week}");
                if !db::mail_decided(&mut c, &key).await? {
                    open.push((id, email, key));
                }
            }
            open
        }
        _ => Vec::new(),
    };
    if due.is_empty() && digests.is_empty() {
        return Ok(0);
    }
    let mut queued = 0;
    let mut tx = s.db.begin().await?;
    for d in &due {
        let c = &d.certificate;
        let m = NewMail {
            id: ids::new_id(),
            kind: "reminder",
            dedup_key: format!("reminder:{}:{}", c.certificate_id, d.threshold),
            user_id: c.user_id.clone(),
            certificate_id: Some(c.certificate_id.clone()),
            threshold_days: Some(d.threshold),
            recipient: c.email.clone(),
        };
        if db::queue_mail(&mut tx, &m, now).await? {
            queued += 1;
        }
    }
    for (id, email, key) in digests {
        let m = NewMail {
            id: ids::new_id(),
            kind: "digest",
            dedup_key: key,
            user_id: id,
            certificate_id: None,
            threshold_days: None,
            recipient: email,
        };
        if db::queue_mail(&mut tx, &m, now).await? {
            queued += 1;
        }
    }
    tx.commit().await?;
    Ok(queued)
}

/// One run: decide, give up stale claims, send what is due. Called every minute by the
/// server (every instance; the claims make that safe) and by `certportal reminders run`.
pub async fn run(s: &Services, mailer: &Mailer) -> Result<RunReport, DbError> {
    let mut report = RunReport {
        queued: queue_due(s, mailer.config.digest_day).await?,
        ..RunReport::default()
    };
    let now = s.now();
    // Claims whose sender died: never resent (a write only when there is one).
    let stale = {
        let mut c = s.conn().await?;
        db::stale_claims(&mut c, now).await?
    };
    if !stale.is_empty() {
        let mut tx = s.db.begin().await?;
        for m in &stale {
            if db::finish_mail(
                &mut tx,
                &m.id,
                "abandoned",
                "the sender stopped during the attempt; not sent again",
                m.next_attempt_at,
                None,
            )
            .await?
            {
                history(
                    &mut tx,
                    now,
                    m,
                    action::MAIL_ABANDONED,
                    "error",
                    "sender stopped",
                )
                .await?;
                s.metrics.mail(&m.kind, "abandoned");
                report.abandoned += 1;
            }
        }
        tx.commit().await?;
    }

    let due = {
        let mut c = s.conn().await?;
        db::due_mails(&mut c, now, BATCH).await?
    };
    for m in due {
        let mut tx = s.db.begin().await?;
        let mine = db::claim_mail(&mut tx, &m.id, now, now + LEASE_SECS).await?;
        tx.commit().await?;
        if !mine {
            continue;
        }
        s.faults
            .check(super::faults::FailPoint::AfterMailClaim, &m.user_id)
            .map_err(|e| DbError::Corrupt(e.to_string()))?;
        let Some(outgoing) = compose(s, mailer, &m).await? else {
            let mut tx = s.db.begin().await?;
            db::finish_mail(&mut tx, &m.id, "cancelled", "no longer due", now, None).await?;
            history(
                &mut tx,
                now,
                &m,
                action::MAIL_CANCELLED,
                "ok",
                "no longer due",
            )
            .await?;
            tx.commit().await?;
            s.metrics.mail(&m.kind, "cancelled");
            report.cancelled += 1;
            continue;
        };
        let outcome = mailer.send(&outgoing).await;
        let attempts = m.attempts + 1;
        let mut tx = s.db.begin().await?;
        match outcome {
            Ok(answer) => {
                db::finish_mail(&mut tx, &m.id, "sent", &answer, now, Some(now)).await?;
                let detail = format!("{} to {}: {answer}", what(&m), m.recipient);
                history(&mut tx, now, &m, action::MAIL_SENT, "ok", &detail).await?;
                s.metrics.mail(&m.kind, "sent");
                report.sent += 1;
            }
            Err(e) if e.transient && attempts < MAX_ATTEMPTS => {
                let next = now + backoff(attempts);
                db::finish_mail(&mut tx, &m.id, "retry", &e.text, next, None).await?;
                let detail = format!(
                    "{} to {} (attempt {attempts}, next at {}): {}",
                    what(&m),
                    m.recipient,
                    super::clock::rfc3339(next),
                    e.text
                );
                history(&mut tx, now, &m, action::MAIL_FAILED, "retry", &detail).await?;
                s.metrics.mail(&m.kind, "retry");
                report.retried += 1;
            }
            Err(e) => {
                db::finish_mail(&mut tx, &m.id, "failed", &e.text, now, None).await?;
                let detail = format!(
                    "{} to {} (attempt {attempts}, given up): {}",
                    what(&m),
                    m.recipient,
                    e.text
                );
                history(&mut tx, now, &m, action::MAIL_FAILED, "error", &detail).await?;
                s.metrics.mail(&m.kind, "failed");
                report.failed += 1;
            }
        }
        tx.commit().await?;
    }
    Ok(report)
}

fn what(m: &db::MailRow) -> String {
    match (m.kind.as_str(), m.threshold_days) {
        ("reminder", Some(d)) => format!("reminder ({d} days)"),
        (k, _) => k.to_string(),
    }
}

async fn history(
    c: &mut db::Conn,
    now: i64,
    m: &db::MailRow,
    action: &str,
    result: &str,
    detail: &str,
) -> Result<(), DbError> {
    let e = db::AuditEntry {
        actor_id: None,
        actor_label: Actor::system().label,
        subject_user_id: Some(m.user_id.clone()),
        certificate_id: m.certificate_id.clone(),
        enrollment_id: None,
        action: action.to_string(),
        result: result.to_string(),
        detail: detail.to_string(),
        ip: None,
    };
    db::append_audit(c, now, &e).await
}

/// A `Message-ID` (without brackets) under the portal's public host name.
fn message_id(s: &Services, local: &str) -> String {
    let host = url::Url::parse(&s.public_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_else(|| "certportal".into());
    format!("{local}@{host}")
}

/// The message for a claimed mail, from the state of things now; `None` when it is no longer
/// due (the certificate was renewed, revoked or superseded, or its user deactivated).
async fn compose(
    s: &Services,
    mailer: &Mailer,
    m: &db::MailRow,
) -> Result<Option<Outgoing>, DbError> {
    let now = s.now();
    let mut c = s.conn().await?;
    let message_id = message_id(s, &m.id);
    match m.kind.as_str() {
        "reminder" => {
            let Some(cert_id) = &m.certificate_id else {
                return Ok(None);
            };
            let Some(cert) = db::reminder_subject(&mut c, cert_id).await? else {
                return Ok(None);
            };
            let left = days_left(cert.not_after, now);
            if cert.certificate_state != "issued" || !cert.user_active || left < 0 {
                return Ok(None);
            }
            let zone = db::user_time_zone(&mut c, &cert.user_id)
                .await?
                .and_then(|z| crate::zone::Zone::parse(&z))
                .unwrap_or_else(|| s.time_zone.clone());
            let policy = s
                .policy(&mut c)
                .await
                .map_err(|e| DbError::Corrupt(e.to_string()))?;
            let facts = ReminderFacts {
                display_name: cert.display_name.clone(),
                device_label: cert.device_label.clone(),
                ends: ReminderFacts::ends_at(cert.not_after, &zone),
                days_left: left,
                renew_url: format!("{}/certificates/{}/link", s.public_url, cert.enrollment_id),
                reissue_allowed: cert
                    .reissue_allowed
                    .unwrap_or(policy.reissue_allowed_default),
                support: mailer
                    .config
                    .support
                    .clone()
                    .unwrap_or_else(|| mailer.config.from.clone()),
            };
            let text = mail_text::reminder(lang_of(cert.language.as_deref()), &facts);
            Ok(Some(Outgoing {
                to: cert.email,
                to_name: cert.display_name,
                subject: text.subject,
                text: text.text,
                html: text.html,
                message_id,
            }))
        }
        "digest" => {
            let Some((name, email, lang)) = db::mail_recipient(&mut c, &m.user_id).await? else {
                return Ok(None);
            };
            let counts = db::digest_counts(&mut c, now, now + 30 * DAY).await?;
            let text = mail_text::digest(
                lang_of(lang.as_deref()),
                &name,
                &counts,
                &format!("{}/admin/users", s.public_url),
            );
            Ok(Some(Outgoing {
                to: email,
                to_name: name,
                subject: text.subject,
                text: text.text,
                html: text.html,
                message_id,
            }))
        }
        _ => Ok(None),
    }
}

/// `certportal mail test --to ADDRESS`: one test mail, recorded in the history.
pub async fn send_test(s: &Services, mailer: &Mailer, to: &str) -> Result<String, String> {
    let text = mail_text::test_mail(&s.public_url);
    let out = Outgoing {
        to: to.to_string(),
        to_name: String::new(),
        subject: text.subject,
        text: text.text,
        html: text.html,
        message_id: message_id(s, &ids::new_id()),
    };
    let result = mailer.send(&out).await;
    let (res, detail) = match &result {
        Ok(a) => ("ok", format!("test mail to {to}: {a}")),
        Err(e) => ("error", format!("test mail to {to}: {}", e.text)),
    };
    s.metrics
        .mail("test", if result.is_ok() { "sent" } else { "failed" });
    if let Ok(mut c) = s.conn().await {
        let _ = audit::record_result(
            &mut c,
            s.now(),
            &Actor::cli(),
            if result.is_ok() {
                action::MAIL_SENT
            } else {
                action::MAIL_FAILED
            },
            None,
            res,
            &detail,
        )
        .await;
    }
    result.map_err(|e| e.text)
}
