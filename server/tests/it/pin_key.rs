//! The PIN key is a secret of its own (issue 11, part 2): PINs are not a function of the CA
//! passphrase, instances sharing a database share the key, the key is stored only sealed,
//! and links made before the key existed are voided (their PINs would no longer match).

use crate::both;
use crate::helpers::{spawn, spawn_on, Backend, TestApp, PASSPHRASE};
use app::ssr::certs::{self, NewEnrollment};
use app::ssr::links::{self, LinkOutcome, LinkProblem, UnlockError};

/// A ready enrollment of a new user and a one-time link to it: (token, PIN).
async fn link(app: &TestApp, login: &str) -> (String, String) {
    let admin = app.add_user(&format!("{login}-admin"), true).await;
    let user = app.add_user(login, false).await;
    let e = certs::create_enrollment(
        &app.services,
        &app.actor(&admin),
        &NewEnrollment {
            user_id: user.id.clone(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    match links::show_link(&app.services, &app.actor(&admin), &e.id)
        .await
        .unwrap()
    {
        LinkOutcome::Link(l) => (l.token.clone(), l.pin.clone()),
        LinkOutcome::AwaitingApproval(_) => panic!("admin enrollments never wait"),
    }
}

async fn stored_key(app: &TestApp) -> Option<String> {
    let mut c = app.services.conn().await.unwrap();
    app::ssr::db::get_setting(&mut c, "pin_key").await.unwrap()
}

async fn pin_key_scenario(backend: Backend) {
    let first = spawn(backend).await;
    let (token, pin) = link(&first, "ann").await;
    assert_eq!(first.services.pin_for_token(&token).unwrap(), pin);

    // Stored sealed (AES-256-GCM under the passphrase), never in clear or as the passphrase.
    let sealed = stored_key(&first)
        .await
        .expect("a PIN key is made at start");
    assert!(sealed.starts_with("v1:"), "{sealed}");
    assert!(!sealed.contains(PASSPHRASE));

    // Another portal with the same passphrase but its own database gives another PIN for the
    // same token: the PIN is not a function of the passphrase (it was HMAC(passphrase, token)).
    let other = spawn(backend).await;
    assert_ne!(other.services.pin_for_token(&token).unwrap(), pin);
    other.stop().await;

    // A second instance on the same database shares the key: the same PIN.
    let dir = tempfile::tempdir().unwrap();
    let second = spawn_on(dir, first.database_url.clone()).await;
    assert_eq!(second.services.pin_for_token(&token).unwrap(), pin);
    assert_eq!(stored_key(&second).await.as_deref(), Some(sealed.as_str()));
    second.stop().await;

    // The upgrade from a version without a PIN key: the first start makes the key and voids
    // the open links, whose PINs would no longer match; the history says so.
    sqlx::query("DELETE FROM settings WHERE key = 'pin_key'")
        .execute(first.services.db.pool())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let upgraded = spawn_on(dir, first.database_url.clone()).await;
    let new_sealed = stored_key(&upgraded).await.unwrap();
    assert_ne!(new_sealed, sealed);
    let r = links::unlock(&upgraded.services, &token, &pin, None).await;
    assert!(
        matches!(r, Err(UnlockError::Link(LinkProblem::Voided))),
        "{:?}",
        r.map(|_| ())
    );
    let actions = upgraded.audit_actions().await;
    assert!(actions.iter().any(|a| a == "pin_key.create"), "{actions:?}");
    // New links work with the new key.
    let (token2, pin2) = link(&upgraded, "bob").await;
    assert_eq!(upgraded.services.pin_for_token(&token2).unwrap(), pin2);
    upgraded.stop().await;
    first.stop().await;
}
both!(the_pin_key_is_its_own_secret, pin_key_scenario);
