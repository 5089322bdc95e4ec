//! The names of the actions in the operation history: one list, for the server that writes
//! them and for the history filter that searches them (a name changed here changes both).

pub const CA_CREATE: &str = "ca.create";
pub const CA_ROTATE: &str = "ca.rotate";
pub const CRL_PUBLISH: &str = "crl.publish";
pub const ENROLLMENT_CREATE: &str = "enrollment.create";
pub const ENROLLMENT_WITHDRAW: &str = "enrollment.withdraw";
pub const ENROLLMENT_LAPSE: &str = "enrollment.lapse";
pub const CERT_ISSUE: &str = "certificate.issue";
pub const CERT_REVOKE: &str = "certificate.revoke";
pub const CERT_SUPERSEDE: &str = "certificate.supersede";
pub const LINK_CREATE: &str = "link.create";
pub const LINK_REDEEM: &str = "link.redeem";
pub const LINK_UNLOCK: &str = "link.unlock";
pub const LINK_PIN_FAILED: &str = "link.pin_failed";
pub const LINK_LOCKED: &str = "link.locked";
pub const LINK_PROFILE: &str = "link.profile";
pub const SCEP_ENROLL: &str = "scep.enroll";
pub const PIN_KEY_CREATE: &str = "pin_key.create";
pub const LOST_DEVICE: &str = "user.lost_device";
pub const HANDOVER_PINS: &str = "handover.pins";
pub const USER_UPDATE: &str = "user.update";
pub const ENROLLMENT_APPROVE: &str = "enrollment.approve";
pub const ENROLLMENT_REJECT: &str = "enrollment.reject";
pub const SETTINGS_UPDATE: &str = "settings.update";
pub const SETUP_LINK: &str = "setup.link";
pub const SETUP_ADMIN: &str = "setup.admin_created";
pub const LOGIN: &str = "auth.login";
pub const LOGIN_FAILED: &str = "auth.login_failed";
pub const LOGIN_THROTTLED: &str = "auth.login_throttled";
pub const LOGOUT: &str = "auth.logout";
pub const LOGOUT_ALL: &str = "auth.logout_all";
pub const SESSION_EXPIRED: &str = "auth.session_expired";
pub const REAUTH: &str = "auth.reauth";
pub const REAUTH_FAILED: &str = "auth.reauth_failed";
pub const PASSWORD_CHANGE: &str = "auth.password_change";
pub const PASSKEY_ADD: &str = "auth.passkey_add";
pub const PASSKEY_RENAME: &str = "auth.passkey_rename";
pub const PASSKEY_REMOVE: &str = "auth.passkey_remove";
pub const USER_CREATE: &str = "user.create";
pub const USER_ACTIVATE: &str = "user.activate";
pub const USER_ACTIVATION_LINK: &str = "user.activation_link";
pub const MAIL_SENT: &str = "mail.sent";
pub const MAIL_FAILED: &str = "mail.failed";
pub const MAIL_ABANDONED: &str = "mail.abandoned";
pub const MAIL_CANCELLED: &str = "mail.cancelled";
pub const USER_DELETE: &str = "user.delete";
pub const GROUP_CHANGE: &str = "group.change";
pub const SCIM_TOKEN_CREATE: &str = "scim.token_create";
pub const SCIM_TOKEN_REVOKE: &str = "scim.token_revoke";

/// Every action name.
pub const ALL: &[&str] = &[
    CA_CREATE,
    CA_ROTATE,
    CRL_PUBLISH,
    ENROLLMENT_CREATE,
    ENROLLMENT_WITHDRAW,
    ENROLLMENT_LAPSE,
    CERT_ISSUE,
    CERT_REVOKE,
    CERT_SUPERSEDE,
    LINK_CREATE,
    LINK_REDEEM,
    LINK_UNLOCK,
    LINK_PIN_FAILED,
    LINK_LOCKED,
    LINK_PROFILE,
    SCEP_ENROLL,
    PIN_KEY_CREATE,
    LOST_DEVICE,
    HANDOVER_PINS,
    USER_UPDATE,
    ENROLLMENT_APPROVE,
    ENROLLMENT_REJECT,
    SETTINGS_UPDATE,
    SETUP_LINK,
    SETUP_ADMIN,
    LOGIN,
    LOGIN_FAILED,
    LOGIN_THROTTLED,
    LOGOUT,
    LOGOUT_ALL,
    SESSION_EXPIRED,
    REAUTH,
    REAUTH_FAILED,
    PASSWORD_CHANGE,
    PASSKEY_ADD,
    PASSKEY_RENAME,
    PASSKEY_REMOVE,
    USER_CREATE,
    USER_ACTIVATE,
    USER_ACTIVATION_LINK,
    MAIL_SENT,
    MAIL_FAILED,
    MAIL_ABANDONED,
    MAIL_CANCELLED,
    USER_DELETE,
    GROUP_CHANGE,
    SCIM_TOKEN_CREATE,
    SCIM_TOKEN_REVOKE,
];

/// What the history filter offers: everything (""), a family ("auth." for every sign-in
/// event) or one action.
pub const HISTORY_FILTER: &[&str] = &[
    "",
    "auth.",
    LOGIN,
    LOGIN_FAILED,
    LOGIN_THROTTLED,
    "enrollment.",
    ENROLLMENT_CREATE,
    ENROLLMENT_APPROVE,
    ENROLLMENT_REJECT,
    "certificate.",
    CERT_ISSUE,
    CERT_REVOKE,
    "link.",
    "user.",
    LOST_DEVICE,
    USER_UPDATE,
    USER_DELETE,
    GROUP_CHANGE,
    SETTINGS_UPDATE,
    CA_ROTATE,
    CRL_PUBLISH,
    "mail.",
    MAIL_SENT,
    MAIL_FAILED,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_filter_finds_records_of_a_real_action() {
        for f in HISTORY_FILTER.iter().filter(|f| !f.is_empty()) {
            let hit = if f.ends_with('.') {
                ALL.iter().any(|a| a.starts_with(f))
            } else {
                ALL.contains(f)
            };
            assert!(hit, "the filter {f:?} names no action that is ever written");
        }
        let mut sorted = ALL.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), ALL.len(), "each name once");
    }
}
