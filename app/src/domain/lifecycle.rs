//! The certificate lifecycle (SPEC.md "Certificate lifecycle"): states, events and the one
//! transition function that both the server and the UI consult.
//!
//! Pure: no I/O, no clock. `expired` is never stored; it is derived from `not_after` and a
//! time the caller passes in (see [`effective_state`]).

use super::error_code::ErrorCode;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Every state a certificate or enrollment can be in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// A user's request waiting for an administrator (approval mode).
    Pending,
    /// An administrator refused the request.
    Rejected,
    /// Authorised to be picked up through a one-time link.
    Ready,
    /// The pickup deadline passed before anyone picked it up.
    Lapsed,
    /// Signed and delivered; valid.
    Issued,
    /// Replaced by a renewal (revoked with reason `superseded`).
    Superseded,
    /// Revoked by an administrator or the user.
    Revoked,
    /// `not_after` has passed. Derived, never stored.
    Expired,
}

impl State {
    pub const ALL: [State; 8] = [
        State::Pending,
        State::Rejected,
        State::Ready,
        State::Lapsed,
        State::Issued,
        State::Superseded,
        State::Revoked,
        State::Expired,
    ];

    /// The stable code used in the database and on the wire.
    pub fn code(self) -> &'static str {
        match self {
            State::Pending => "pending",
            State::Rejected => "rejected",
            State::Ready => "ready",
            State::Lapsed => "lapsed",
            State::Issued => "issued",
            State::Superseded => "superseded",
            State::Revoked => "revoked",
            State::Expired => "expired",
        }
    }

    /// Parses a stored code. `expired` is accepted for completeness but is never written.
    pub fn from_code(code: &str) -> Option<State> {
        State::ALL.into_iter().find(|s| s.code() == code)
    }

    /// Final states: no event leads out of them (rule 1).
    pub fn is_final(self) -> bool {
        match self {
            State::Rejected | State::Lapsed | State::Superseded | State::Revoked => true,
            State::Pending | State::Ready | State::Issued | State::Expired => false,
        }
    }

    /// Shown in the user's list only with "Show all" off (rule 4).
    pub fn visible_by_default(self) -> bool {
        match self {
            State::Pending | State::Ready | State::Issued => true,
            State::Rejected
            | State::Lapsed
            | State::Superseded
            | State::Revoked
            | State::Expired => false,
        }
    }

    /// A state that may be stored in the database (everything but the derived `expired`).
    pub fn is_storable(self) -> bool {
        self != State::Expired
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// RFC 5280 CRLReason values certportal offers. `certificateHold` (6) and `removeFromCRL` (8)
/// are deliberately absent: revocation is final (rule 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum RevocationReason {
    Unspecified,
    KeyCompromise,
    CaCompromise,
    AffiliationChanged,
    Superseded,
    CessationOfOperation,
    PrivilegeWithdrawn,
    AaCompromise,
}

impl RevocationReason {
    pub const ALL: [RevocationReason; 8] = [
        RevocationReason::Unspecified,
        RevocationReason::KeyCompromise,
        RevocationReason::CaCompromise,
        RevocationReason::AffiliationChanged,
        RevocationReason::Superseded,
        RevocationReason::CessationOfOperation,
        RevocationReason::PrivilegeWithdrawn,
        RevocationReason::AaCompromise,
    ];

    /// The RFC 5280 name, used on the wire, in the CLI and in the database.
    pub fn code(self) -> &'static str {
        match self {
            RevocationReason::Unspecified => "unspecified",
            RevocationReason::KeyCompromise => "keyCompromise",
            RevocationReason::CaCompromise => "cACompromise",
            RevocationReason::AffiliationChanged => "affiliationChanged",
            RevocationReason::Superseded => "superseded",
            RevocationReason::CessationOfOperation => "cessationOfOperation",
            RevocationReason::PrivilegeWithdrawn => "privilegeWithdrawn",
            RevocationReason::AaCompromise => "aACompromise",
        }
    }

    /// The RFC 5280 numeric value (`CRLReason ::= ENUMERATED`).
    pub fn rfc5280_value(self) -> u8 {
        match self {
            RevocationReason::Unspecified => 0,
            RevocationReason::KeyCompromise => 1,
            RevocationReason::CaCompromise => 2,
            RevocationReason::AffiliationChanged => 3,
            RevocationReason::Superseded => 4,
            RevocationReason::CessationOfOperation => 5,
            RevocationReason::PrivilegeWithdrawn => 9,
            RevocationReason::AaCompromise => 10,
        }
    }

    /// Parses a reason name (case-insensitive). `certificateHold` and `removeFromCRL` are
    /// refused with their own error so the caller can say why.
    pub fn parse(name: &str) -> Result<RevocationReason, LifecycleError> {
        let lower = name.trim().to_ascii_lowercase();
        if lower == "certificatehold" || lower == "removefromcrl" {
            return Err(LifecycleError::ReasonNotOffered);
        }
        RevocationReason::ALL
            .into_iter()
            .find(|r| r.code().to_ascii_lowercase() == lower)
            .ok_or(LifecycleError::UnknownReason)
    }
}

/// Everything that can happen to a certificate or enrollment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Event {
    /// An administrator approves a pending request.
    Approve,
    /// An administrator refuses a pending request.
    Reject,
    /// The one-time link is redeemed: a key is made and the certificate signed.
    PickUp,
    /// The pickup deadline passed.
    DeadlinePassed,
    /// Revoked (or, for an enrollment not yet picked up, withdrawn) with a reason.
    Revoke(RevocationReason),
    /// A renewal of this certificate was picked up.
    Supersede,
    /// A one-time pickup link is made for this enrollment (no state change).
    MakeLink,
    /// A renewal of this certificate is requested (no state change).
    RequestRenewal,
}

impl Event {
    /// One representative of every event kind, for exhaustive tests and UI enumeration.
    pub const SAMPLES: [Event; 8] = [
        Event::Approve,
        Event::Reject,
        Event::PickUp,
        Event::DeadlinePassed,
        Event::Revoke(RevocationReason::Unspecified),
        Event::Supersede,
        Event::MakeLink,
        Event::RequestRenewal,
    ];
}

/// Why an event is not allowed in a state. Each variant has a stable code for the UI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum LifecycleError {
    #[error("this certificate is {0} and that is final: revoked, renewed, rejected and lapsed entries can never be re-enabled")]
    Final(State),
    #[error("only a request awaiting approval can be approved or rejected")]
    NotPending,
    #[error("only an enrollment that is ready to install can be picked up or get a link")]
    NotReady,
    #[error("only an issued certificate can be revoked or renewed")]
    NotIssued,
    #[error("the certificate has already expired")]
    AlreadyExpired,
    #[error("the request has not been approved yet")]
    AwaitingApproval,
    #[error("certificateHold and removeFromCRL are not offered: revocation is final")]
    ReasonNotOffered,
    #[error("unknown revocation reason")]
    UnknownReason,
}

impl LifecycleError {
    /// The stable code the UI translates.
    pub fn code(self) -> ErrorCode {
        match self {
            LifecycleError::Final(_) => ErrorCode::LifecycleFinal,
            LifecycleError::NotPending => ErrorCode::LifecycleNotPending,
            LifecycleError::NotReady => ErrorCode::LifecycleNotReady,
            LifecycleError::NotIssued => ErrorCode::LifecycleNotIssued,
            LifecycleError::AlreadyExpired => ErrorCode::LifecycleAlreadyExpired,
            LifecycleError::AwaitingApproval => ErrorCode::LifecycleAwaitingApproval,
            LifecycleError::ReasonNotOffered => ErrorCode::RevocationReasonNotOffered,
            LifecycleError::UnknownReason => ErrorCode::RevocationReasonUnknown,
        }
    }
}

/// Who gives a revocation reason: a user for their own certificates, or an administrator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReasonGiver {
    User,
    Admin,
}

/// The reasons a user may give for their own certificates.
pub const USER_REASONS: [RevocationReason; 4] = [
    RevocationReason::KeyCompromise,
    RevocationReason::CessationOfOperation,
    RevocationReason::AffiliationChanged,
    RevocationReason::Unspecified,
];

impl RevocationReason {
    /// Whether `giver` may revoke with this reason. `superseded` is only ever set by a
    /// renewal or "remove existing", never chosen (web, CLI or API alike).
    pub fn may_be_given_by(self, giver: ReasonGiver) -> bool {
        match giver {
            ReasonGiver::User => USER_REASONS.contains(&self),
            ReasonGiver::Admin => self != RevocationReason::Superseded,
        }
    }

    /// Parses a reason a person chose: known, offered (rule 1), and allowed for `giver`.
    pub fn chosen(code: &str, giver: ReasonGiver) -> Result<RevocationReason, LifecycleError> {
        let r = RevocationReason::parse(code)?;
        if r.may_be_given_by(giver) {
            Ok(r)
        } else {
            Err(LifecycleError::UnknownReason)
        }
    }
}

/// The one transition function. Returns the state after `event`, or why it is refused.
///
/// `MakeLink` and `RequestRenewal` leave the state as it is; they are here so that every
/// question "may this happen now?" has one answer.
pub fn transition(state: State, event: Event) -> Result<State, LifecycleError> {
    use Event as E;
    use State as S;
    match (state, event) {
        // Rule 1: nothing leaves a final state.
        (S::Rejected | S::Lapsed | S::Superseded | S::Revoked, _) => {
            Err(LifecycleError::Final(state))
        }

        (S::Pending, E::Approve) => Ok(S::Ready),
        (S::Pending, E::Reject) => Ok(S::Rejected),
        (S::Pending, E::PickUp | E::MakeLink) => Err(LifecycleError::AwaitingApproval),
        (S::Pending, E::DeadlinePassed) => Err(LifecycleError::NotReady),
        // A user or admin may withdraw a request before it is decided.
        (S::Pending, E::Revoke(_)) => Ok(S::Revoked),
        (S::Pending, E::Supersede | E::RequestRenewal) => Err(LifecycleError::NotIssued),

        (S::Ready, E::Approve | E::Reject) => Err(LifecycleError::NotPending),
        (S::Ready, E::PickUp) => Ok(S::Issued),
        (S::Ready, E::DeadlinePassed) => Ok(S::Lapsed),
        // Withdrawing an enrollment nobody picked up ("remove existing", lost device).
        (S::Ready, E::Revoke(_)) => Ok(S::Revoked),
        (S::Ready, E::MakeLink) => Ok(S::Ready),
        (S::Ready, E::Supersede | E::RequestRenewal) => Err(LifecycleError::NotIssued),

        (S::Issued, E::Approve | E::Reject) => Err(LifecycleError::NotPending),
        (S::Issued, E::PickUp | E::DeadlinePassed | E::MakeLink) => Err(LifecycleError::NotReady),
        (S::Issued, E::Revoke(RevocationReason::Superseded)) => Ok(S::Superseded),
        (S::Issued, E::Revoke(_)) => Ok(S::Revoked),
        (S::Issued, E::Supersede) => Ok(S::Superseded),
        (S::Issued, E::RequestRenewal) => Ok(S::Issued),

        (S::Expired, E::Approve | E::Reject) => Err(LifecycleError::NotPending),
        (S::Expired, E::PickUp | E::DeadlinePassed | E::MakeLink) => Err(LifecycleError::NotReady),
        // An expired certificate no longer authenticates; revoking it adds nothing.
        (S::Expired, E::Revoke(_)) => Err(LifecycleError::AlreadyExpired),
        // Rule 4: an expired certificate can still be renewed; the renewal replaces it.
        (S::Expired, E::Supersede) => Ok(S::Superseded),
        (S::Expired, E::RequestRenewal) => Ok(S::Expired),
    }
}

/// The state to show and to act on: a stored `issued` whose `not_after` has passed is
/// `expired`. `now` and `not_after` are Unix seconds.
pub fn effective_state(stored: State, not_after: Option<i64>, now: i64) -> State {
    match (stored, not_after) {
        (State::Issued, Some(end)) if now >= end => State::Expired,
        _ => stored,
    }
}

/// What a person may do with an entry, as offered in the UI and checked by the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Action {
    Approve,
    Reject,
    ShowLink,
    Renew,
    Revoke,
}

impl Action {
    pub const ALL: [Action; 5] = [
        Action::Approve,
        Action::Reject,
        Action::ShowLink,
        Action::Renew,
        Action::Revoke,
    ];

    fn event(self) -> Event {
        match self {
            Action::Approve => Event::Approve,
            Action::Reject => Event::Reject,
            Action::ShowLink => Event::MakeLink,
            Action::Renew => Event::RequestRenewal,
            Action::Revoke => Event::Revoke(RevocationReason::Unspecified),
        }
    }
}

/// Who is asking, for [`allowed_actions`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    pub is_admin: bool,
    pub owns_entry: bool,
    /// The owner's `reissue_allowed` flag (rule 3).
    pub reissue_allowed: bool,
}

/// Why an actor may not take an action (besides the lifecycle itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum PermissionError {
    #[error("you may only act on your own certificates")]
    NotOwner,
    #[error("only an administrator can do this")]
    AdminOnly,
    #[error("renewal is not allowed for this user; ask an administrator")]
    ReissueNotAllowed,
    #[error(transparent)]
    Lifecycle(#[from] LifecycleError),
}

/// Checks one action for one actor in one state: authorization first (rule 11), then the
/// renewal flag (rule 3), then the lifecycle.
pub fn check_action(actor: Actor, state: State, action: Action) -> Result<(), PermissionError> {
    if !actor.is_admin && !actor.owns_entry {
        return Err(PermissionError::NotOwner);
    }
    match action {
        Action::Approve | Action::Reject if !actor.is_admin => {
            return Err(PermissionError::AdminOnly)
        }
        Action::Renew if !actor.reissue_allowed && !actor.is_admin => {
            transition(state, action.event())?;
            return Err(PermissionError::ReissueNotAllowed);
        }
        _ => {}
    }
    transition(state, action.event())?;
    Ok(())
}

/// The actions to offer, in display order.
pub fn allowed_actions(actor: Actor, state: State) -> Vec<Action> {
    Action::ALL
        .into_iter()
        .filter(|a| check_action(actor, state, *a).is_ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn expected(state: State, event: Event) -> Result<State, LifecycleError> {
        // The table of SPEC.md written out independently of `transition`'s match.
        use Event as E;
        use State as S;
        if state.is_final() {
            return Err(LifecycleError::Final(state));
        }
        let table: &[(State, Event, Result<State, LifecycleError>)] = &[
            (S::Pending, E::Approve, Ok(S::Ready)),
            (S::Pending, E::Reject, Ok(S::Rejected)),
            (S::Pending, E::PickUp, Err(LifecycleError::AwaitingApproval)),
            (S::Pending, E::DeadlinePassed, Err(LifecycleError::NotReady)),
            (
                S::Pending,
                E::Revoke(RevocationReason::Unspecified),
                Ok(S::Revoked),
            ),
            (S::Pending, E::Supersede, Err(LifecycleError::NotIssued)),
            (
                S::Pending,
                E::MakeLink,
                Err(LifecycleError::AwaitingApproval),
            ),
            (
                S::Pending,
                E::RequestRenewal,
                Err(LifecycleError::NotIssued),
            ),
            (S::Ready, E::Approve, Err(LifecycleError::NotPending)),
            (S::Ready, E::Reject, Err(LifecycleError::NotPending)),
            (S::Ready, E::PickUp, Ok(S::Issued)),
            (S::Ready, E::DeadlinePassed, Ok(S::Lapsed)),
            (
                S::Ready,
                E::Revoke(RevocationReason::Unspecified),
                Ok(S::Revoked),
            ),
            (S::Ready, E::Supersede, Err(LifecycleError::NotIssued)),
            (S::Ready, E::MakeLink, Ok(S::Ready)),
            (S::Ready, E::RequestRenewal, Err(LifecycleError::NotIssued)),
            (S::Issued, E::Approve, Err(LifecycleError::NotPending)),
            (S::Issued, E::Reject, Err(LifecycleError::NotPending)),
            (S::Issued, E::PickUp, Err(LifecycleError::NotReady)),
            (S::Issued, E::DeadlinePassed, Err(LifecycleError::NotReady)),
            (
                S::Issued,
                E::Revoke(RevocationReason::Unspecified),
                Ok(S::Revoked),
            ),
            (S::Issued, E::Supersede, Ok(S::Superseded)),
            (S::Issued, E::MakeLink, Err(LifecycleError::NotReady)),
            (S::Issued, E::RequestRenewal, Ok(S::Issued)),
            (S::Expired, E::Approve, Err(LifecycleError::NotPending)),
            (S::Expired, E::Reject, Err(LifecycleError::NotPending)),
            (S::Expired, E::PickUp, Err(LifecycleError::NotReady)),
            (S::Expired, E::DeadlinePassed, Err(LifecycleError::NotReady)),
            (
                S::Expired,
                E::Revoke(RevocationReason::Unspecified),
                Err(LifecycleError::AlreadyExpired),
            ),
            (S::Expired, E::Supersede, Ok(S::Superseded)),
            (S::Expired, E::MakeLink, Err(LifecycleError::NotReady)),
            (S::Expired, E::RequestRenewal, Ok(S::Expired)),
        ];
        table
            .iter()
            .find(|(s, e, _)| *s == state && *e == event)
            .map(|(_, _, r)| *r)
            .unwrap_or(Err(LifecycleError::NotReady))
    }

    #[test]
    fn every_state_and_event_matches_the_spec_table() {
        let mut checked = 0;
        for state in State::ALL {
            for event in Event::SAMPLES {
                assert_eq!(
                    transition(state, event),
                    expected(state, event),
                    "{state:?} × {event:?}"
                );
                checked += 1;
            }
        }
        assert_eq!(checked, State::ALL.len() * Event::SAMPLES.len());
    }

    #[test]
    fn every_revocation_reason_from_every_state() {
        for state in State::ALL {
            for reason in RevocationReason::ALL {
                let got = transition(state, Event::Revoke(reason));
                let want = match state {
                    s if s.is_final() => Err(LifecycleError::Final(s)),
                    State::Issued if reason == RevocationReason::Superseded => {
                        Ok(State::Superseded)
                    }
                    State::Issued | State::Pending | State::Ready => Ok(State::Revoked),
                    State::Expired => Err(LifecycleError::AlreadyExpired),
                    _ => unreachable!(),
                };
                assert_eq!(got, want, "{state:?} revoke {reason:?}");
            }
        }
    }

    #[test]
    fn final_states_are_exactly_the_four_of_rule_1() {
        let finals: Vec<State> = State::ALL.into_iter().filter(|s| s.is_final()).collect();
        assert_eq!(
            finals,
            vec![
                State::Rejected,
                State::Lapsed,
                State::Superseded,
                State::Revoked
            ]
        );
    }

    #[test]
    fn codes_round_trip_and_expired_is_not_storable() {
        for s in State::ALL {
            assert_eq!(State::from_code(s.code()), Some(s));
        }
        assert_eq!(State::from_code("bogus"), None);
        assert!(!State::Expired.is_storable());
        assert!(State::ALL.iter().filter(|s| s.is_storable()).count() == 7);
    }

    #[test]
    fn expired_is_derived_from_the_clock() {
        assert_eq!(effective_state(State::Issued, Some(100), 99), State::Issued);
        assert_eq!(
            effective_state(State::Issued, Some(100), 100),
            State::Expired
        );
        assert_eq!(
            effective_state(State::Revoked, Some(100), 200),
            State::Revoked
        );
        assert_eq!(effective_state(State::Ready, None, 200), State::Ready);
    }

    #[test]
    fn show_all_hides_the_right_states() {
        let hidden: Vec<State> = State::ALL
            .into_iter()
            .filter(|s| !s.visible_by_default())
            .collect();
        assert_eq!(
            hidden,
            vec![
                State::Rejected,
                State::Lapsed,
                State::Superseded,
                State::Revoked,
                State::Expired
            ]
        );
    }

    #[test]
    fn reasons_parse_and_hold_is_refused() {
        for r in RevocationReason::ALL {
            assert_eq!(RevocationReason::parse(r.code()), Ok(r));
        }
        assert_eq!(
            RevocationReason::parse("certificateHold"),
            Err(LifecycleError::ReasonNotOffered)
        );
        assert_eq!(
            RevocationReason::parse("removeFromCRL"),
            Err(LifecycleError::ReasonNotOffered)
        );
        assert_eq!(
            RevocationReason::parse("nonsense"),
            Err(LifecycleError::UnknownReason)
        );
        let values: Vec<u8> = RevocationReason::ALL
            .iter()
            .map(|r| r.rfc5280_value())
            .collect();
        assert_eq!(values, vec![0, 1, 2, 3, 4, 5, 9, 10]);
    }

    #[test]
    fn who_may_give_which_reason() {
        for r in RevocationReason::ALL {
            let admin = RevocationReason::chosen(r.code(), ReasonGiver::Admin);
            assert_eq!(admin.is_ok(), r != RevocationReason::Superseded, "{r:?}");
            let user = RevocationReason::chosen(r.code(), ReasonGiver::User);
            assert_eq!(user.is_ok(), USER_REASONS.contains(&r), "{r:?}");
        }
        assert_eq!(
            RevocationReason::chosen("certificateHold", ReasonGiver::Admin),
            Err(LifecycleError::ReasonNotOffered)
        );
    }

    #[test]
    fn authorization_comes_before_the_lifecycle() {
        let stranger = Actor {
            is_admin: false,
            owns_entry: false,
            reissue_allowed: true,
        };
        for s in State::ALL {
            for a in Action::ALL {
                assert_eq!(check_action(stranger, s, a), Err(PermissionError::NotOwner));
            }
        }
        let owner = Actor {
            is_admin: false,
            owns_entry: true,
            reissue_allowed: true,
        };
        assert_eq!(
            check_action(owner, State::Pending, Action::Approve),
            Err(PermissionError::AdminOnly)
        );
        let admin = Actor {
            is_admin: true,
            owns_entry: false,
            reissue_allowed: false,
        };
        assert_eq!(check_action(admin, State::Pending, Action::Approve), Ok(()));
    }

    #[test]
    fn renewal_needs_the_reissue_flag() {
        let no = Actor {
            is_admin: false,
            owns_entry: true,
            reissue_allowed: false,
        };
        let yes = Actor {
            reissue_allowed: true,
            ..no
        };
        assert_eq!(
            check_action(no, State::Issued, Action::Renew),
            Err(PermissionError::ReissueNotAllowed)
        );
        assert_eq!(check_action(yes, State::Expired, Action::Renew), Ok(()));
        // A lifecycle refusal wins over the flag: the user learns the real reason.
        assert_eq!(
            check_action(no, State::Revoked, Action::Renew),
            Err(PermissionError::Lifecycle(LifecycleError::Final(
                State::Revoked
            )))
        );
    }

    #[test]
    fn offered_actions_follow_the_lifecycle() {
        let owner = Actor {
            is_admin: false,
            owns_entry: true,
            reissue_allowed: true,
        };
        assert_eq!(
            allowed_actions(owner, State::Ready),
            vec![Action::ShowLink, Action::Revoke]
        );
        assert_eq!(
            allowed_actions(owner, State::Issued),
            vec![Action::Renew, Action::Revoke]
        );
        assert_eq!(allowed_actions(owner, State::Expired), vec![Action::Renew]);
        assert_eq!(allowed_actions(owner, State::Pending), vec![Action::Revoke]);
        for s in [
            State::Revoked,
            State::Superseded,
            State::Rejected,
            State::Lapsed,
        ] {
            assert!(allowed_actions(owner, s).is_empty(), "{s:?}");
        }
        let admin = Actor {
            is_admin: true,
            owns_entry: false,
            reissue_allowed: false,
        };
        assert_eq!(
            allowed_actions(admin, State::Pending),
            vec![Action::Approve, Action::Reject, Action::Revoke]
        );
    }

    fn any_event() -> impl Strategy<Value = Event> {
        prop_oneof![
            Just(Event::Approve),
            Just(Event::Reject),
            Just(Event::PickUp),
            Just(Event::DeadlinePassed),
            proptest::sample::select(RevocationReason::ALL.to_vec()).prop_map(Event::Revoke),
            Just(Event::Supersede),
            Just(Event::MakeLink),
            Just(Event::RequestRenewal),
        ]
    }

    proptest! {
        #[test]
        fn no_sequence_leaves_a_final_state(
            start in proptest::sample::select(State::ALL.to_vec()),
            events in proptest::collection::vec(any_event(), 0..40),
        ) {
            let mut state = start;
            let mut reached_final = state.is_final();
            for e in events {
                match transition(state, e) {
                    Ok(next) => {
                        prop_assert!(!reached_final, "left final state {state:?} via {e:?}");
                        state = next;
                    }
                    Err(err) => {
                        if reached_final {
                            prop_assert_eq!(err, LifecycleError::Final(state));
                        }
                    }
                }
                reached_final = reached_final || state.is_final();
            }
        }

        #[test]
        fn no_sequence_stores_expired(
            events in proptest::collection::vec(any_event(), 0..40),
        ) {
            // Starting from any storable state, no event produces the derived state.
            for start in State::ALL.into_iter().filter(|s| s.is_storable()) {
                let mut state = start;
                for e in &events {
                    if let Ok(next) = transition(state, *e) { state = next; }
                    prop_assert!(state.is_storable());
                }
            }
        }
    }
}
