//! certportal's shared crate: pure domain rules (`domain`), the message catalogue (`i18n`),
//! server functions (`api`), server-side use cases (`ssr`, only with the `ssr` feature) and
//! the Leptos UI (`pages`). Built for the server (`ssr`) and for the browser (`hydrate`).
// Deeply nested views (the certificate list) exceed the default type-query depth.
#![recursion_limit = "256"]

pub mod api;
pub mod domain;
pub mod i18n;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod ssr;
pub mod web;
pub mod zone;

pub use pages::{page_uses_wasm, shell, App};

/// Entry point of the WebAssembly bundle. Pages are server-rendered HTML with plain forms;
/// only the islands (`#[island]` components: the link page's live status and countdown) come
/// alive in the browser, so the bundle holds those and nothing of the other pages.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
}
