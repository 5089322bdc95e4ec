//! Fault injection, for the tests that prove a use case is one transaction: a test arms a
//! named point (optionally for one user) and the use case fails there once, after its first
//! write. Arming exists only with the `test-hooks` feature, which the integration tests turn
//! on; in a normal build [`Faults::check`] never fails. One mechanism, held by the services,
//! instead of test arguments threaded through every use case's signature.

/// Where a use case can be made to fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailPoint {
    /// In "create", after the user's existing certificates were revoked (rule 2).
    AfterRemoveExisting,
    /// In "create", after the new enrollment was written.
    AfterEnrollment,
    /// In a pickup, after the certificate was signed and stored.
    AfterIssue,
    /// In a user's bulk revocation, after their certificates were revoked.
    AfterRevoke,
    /// In a reminder run, after a mail was claimed and before it was sent: the sender "dies".
    AfterMailClaim,
}

/// The failure a fault produces.
#[derive(Debug, thiserror::Error)]
#[error("injected fault at {0:?}")]
pub struct Injected(pub FailPoint);

/// An armed fault: where, and for which user (any when `None`).
#[cfg(feature = "test-hooks")]
type Armed = Vec<(FailPoint, Option<String>)>;

/// The armed faults of one portal (shared by its clones).
#[derive(Debug, Clone, Default)]
pub struct Faults {
    #[cfg(feature = "test-hooks")]
    armed: std::sync::Arc<std::sync::Mutex<Armed>>,
}

impl Faults {
    /// Makes the next use case that reaches `point` (for `user_id`, or for anyone) fail there.
    #[cfg(feature = "test-hooks")]
    pub fn arm(&self, point: FailPoint, user_id: Option<&str>) {
        if let Ok(mut a) = self.armed.lock() {
            a.push((point, user_id.map(str::to_string)));
        }
    }

    /// Fails (once) if a fault is armed at `point` for `user_id`.
    pub fn check(&self, point: FailPoint, user_id: &str) -> Result<(), Injected> {
        #[cfg(feature = "test-hooks")]
        if let Ok(mut a) = self.armed.lock() {
            if let Some(i) = a
                .iter()
                .position(|(p, u)| *p == point && u.as_deref().is_none_or(|u| u == user_id))
            {
                a.remove(i);
                return Err(Injected(point));
            }
        }
        let _ = (point, user_id);
        Ok(())
    }
}
