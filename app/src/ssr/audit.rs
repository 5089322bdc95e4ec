//! Operation history (rule 10): who did what to whom, written in the same transaction as the
//! change it describes. The actor is carried from the transport down to the use case.

use super::db::{append_audit, AuditEntry, Conn, DbError};

/// Who performs an action: a signed-in person, the command line, or the portal itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user_id: Option<String>,
    pub label: String,
    pub is_admin: bool,
    pub ip: Option<String>,
}

impl Actor {
    /// An administrator at the server's command line.
    pub fn cli() -> Actor {
        let who = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
        Actor {
            user_id: None,
            label: format!("cli:{who}"),
            is_admin: true,
            ip: None,
        }
    }
    /// The portal's own background work (deadlines, CRL refresh).
    pub fn system() -> Actor {
        Actor {
            user_id: None,
            label: "system".into(),
            is_admin: true,
            ip: None,
        }
    }
    /// Somebody not (yet) signed in, e.g. a failed sign-in.
    pub fn anonymous(ip: Option<String>) -> Actor {
        Actor {
            user_id: None,
            label: "anonymous".into(),
            is_admin: false,
            ip,
        }
    }
    /// A person with an account.
    pub fn user(id: &str, login: &str, is_admin: bool, ip: Option<String>) -> Actor {
        Actor {
            user_id: Some(id.to_string()),
            label: login.to_string(),
            is_admin,
            ip,
        }
    }
}

/// Stable action names in the history.
pub mod action {
    pub use crate::domain::actions::*;
}

/// Appends one record of a refused or failed attempt (no certificate or enrollment involved).
pub async fn record_result(
    c: &mut Conn,
    at: i64,
    actor: &Actor,
    action: &str,
    subject_user_id: Option<&str>,
    result: &str,
    detail: &str,
) -> Result<(), DbError> {
    append_audit(
        c,
        at,
        &entry(actor, action, subject_user_id, None, None, result, detail),
    )
    .await
}

/// Appends one record of a successful action for `actor`.
#[allow(clippy::too_many_arguments)]
pub async fn record(
    c: &mut Conn,
    at: i64,
    actor: &Actor,
    action: &str,
    subject_user_id: Option<&str>,
    certificate_id: Option<&str>,
    enrollment_id: Option<&str>,
    detail: &str,
) -> Result<(), DbError> {
    append_audit(
        c,
        at,
        &entry(
            actor,
            action,
            subject_user_id,
            certificate_id,
            enrollment_id,
            "ok",
            detail,
        ),
    )
    .await
}

fn entry(
    actor: &Actor,
    action: &str,
    subject_user_id: Option<&str>,
    certificate_id: Option<&str>,
    enrollment_id: Option<&str>,
    result: &str,
    detail: &str,
) -> AuditEntry {
    AuditEntry {
        actor_id: actor.user_id.clone(),
        actor_label: actor.label.clone(),
        subject_user_id: subject_user_id.map(str::to_string),
        certificate_id: certificate_id.map(str::to_string),
        enrollment_id: enrollment_id.map(str::to_string),
        action: action.to_string(),
        result: result.to_string(),
        detail: detail.to_string(),
        ip: actor.ip.clone(),
    }
}
