//! The admin directory's per-user certificate status (seed 004's table): the status of the
//! user's newest certificate, or of their open enrollment, or "not issued".

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UserCertStatus {
    NotIssued,
    AwaitingApproval,
    Ready,
    Issued,
    Renewed,
    Expired,
    Revoked,
}

impl UserCertStatus {
    pub const ALL: [UserCertStatus; 7] = [
        UserCertStatus::NotIssued,
        UserCertStatus::AwaitingApproval,
        UserCertStatus::Ready,
        UserCertStatus::Issued,
        UserCertStatus::Renewed,
        UserCertStatus::Expired,
        UserCertStatus::Revoked,
    ];

    /// The stable code used in URLs (`?status=issued`) and the API.
    pub fn code(self) -> &'static str {
        match self {
            UserCertStatus::NotIssued => "not_issued",
            UserCertStatus::AwaitingApproval => "awaiting_approval",
            UserCertStatus::Ready => "ready",
            UserCertStatus::Issued => "issued",
            UserCertStatus::Renewed => "renewed",
            UserCertStatus::Expired => "expired",
            UserCertStatus::Revoked => "revoked",
        }
    }

    pub fn from_code(code: &str) -> Option<UserCertStatus> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    /// From the stored summary (`none`, `pending`, `ready`, `issued`, `superseded`,
    /// `revoked`) and the certificate's end: an issued certificate past `not_after` is expired.
    pub fn from_summary(summary: &str, not_after: Option<i64>, now: i64) -> UserCertStatus {
        match summary {
            "pending" => UserCertStatus::AwaitingApproval,
            "ready" => UserCertStatus::Ready,
            "issued" if not_after.is_some_and(|t| t <= now) => UserCertStatus::Expired,
            "issued" => UserCertStatus::Issued,
            "superseded" => UserCertStatus::Renewed,
            "revoked" => UserCertStatus::Revoked,
            _ => UserCertStatus::NotIssued,
        }
    }

    /// Whether the directory shows the certificate's expiry for this status (seed 004 shows
    /// it for issued and renewed certificates, "-" otherwise).
    pub fn shows_expiry(self) -> bool {
        matches!(self, UserCertStatus::Issued | UserCertStatus::Renewed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_summary_maps_to_its_status() {
        let now = 1_000;
        let cases = [
            ("none", None, UserCertStatus::NotIssued),
            ("pending", None, UserCertStatus::AwaitingApproval),
            ("ready", None, UserCertStatus::Ready),
            ("issued", Some(1_001), UserCertStatus::Issued),
            ("issued", Some(1_000), UserCertStatus::Expired),
            ("superseded", Some(5), UserCertStatus::Renewed),
            ("revoked", Some(5_000), UserCertStatus::Revoked),
            ("garbage", None, UserCertStatus::NotIssued),
        ];
        for (summary, not_after, want) in cases {
            assert_eq!(
                UserCertStatus::from_summary(summary, not_after, now),
                want,
                "{summary}"
            );
        }
    }

    #[test]
    fn codes_round_trip() {
        for s in UserCertStatus::ALL {
            assert_eq!(UserCertStatus::from_code(s.code()), Some(s));
        }
        assert_eq!(UserCertStatus::from_code("nope"), None);
    }
}
