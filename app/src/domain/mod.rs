//! Pure domain rules, compiled for the server and the browser: the lifecycle, the policy,
//! and PIN formatting.

pub mod actions;
pub mod directory;
pub mod error_code;
pub mod lifecycle;
pub mod pin;
pub mod platform;
pub mod policy;
pub mod reminders;
pub mod throttle;
pub mod validate;
