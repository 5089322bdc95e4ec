//! What every table module shares: the connection type and small column helpers. The SQL
//! lives in one module per table (`users`, `settings`, `cas`, `enrollments`, `certificates`,
//! `setup_tokens`, `audit_rows`); every function takes a connection so the caller decides the
//! transaction, and state changes are compare-and-set on the old state so two racing
//! requests cannot both win.

use super::{get_str, DbError};
pub(super) use crate::domain::lifecycle::{RevocationReason, State};
pub(super) use sqlx::any::AnyRow;
use sqlx::AnyConnection;

pub type Conn = AnyConnection;

pub(super) fn flag(b: bool) -> i64 {
    i64::from(b)
}

pub(super) fn state_of(row: &AnyRow, col: &str) -> Result<State, DbError> {
    let code = get_str(row, col)?;
    State::from_code(&code).ok_or_else(|| DbError::Corrupt(format!("unknown state {code:?}")))
}
