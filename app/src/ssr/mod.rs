//! Server-side use cases and adapters (only with the `ssr` feature): the database, the CA,
//! PKCS#12 bundles, the audit log and the services handed to server functions.

pub mod admin;
pub mod audit;
pub mod auth;
pub mod authority;
pub mod bundle;
pub mod ca;
pub mod certs;
pub mod client_addr;
pub mod clock;
pub mod db;
pub mod faults;
pub mod ids;
pub mod links;
pub mod mail;
pub mod mail_text;
pub mod metrics;
pub mod ocsp;
pub mod oidc;
pub mod passwords;
pub mod pin_key;
pub mod profile;
pub mod profile_sign;
pub mod qr;
pub mod read;
pub mod reminders;
pub mod scep;
pub mod scim;
pub mod services;
pub mod setup;

pub use services::Services;
