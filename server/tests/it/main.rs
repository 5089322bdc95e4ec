//! Integration tests: each test starts the real portal on an ephemeral port with its own data
//! directory and its own database (a SQLite file, or a fresh PostgreSQL database on the server
//! named by `CERTPORTAL_TEST_POSTGRES_URL`), and checks outputs with independent tools.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod helpers;

mod admin;
mod auth;
mod bad_input;
mod cli;
mod crash;
mod crypto;
mod errors;
mod hardening;
mod lifecycle;
mod mail;
mod oidc;
mod pickup;
mod pin_key;
mod revocation;
mod routes;
mod scep;
mod scim;
mod setup;
