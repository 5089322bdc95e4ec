//! The lifecycle use cases against real databases: every state change commits with its audit
//! record, multi-step changes are atomic, final states stay final, and CRLs follow.

use crate::both;
use crate::helpers::{spawn, spawn_on, spawn_on_with, Backend, TestApp, T0};
use app::domain::lifecycle::{LifecycleError, RevocationReason, State};
use app::ssr::certs::{self, CertError, NewEnrollment};
use app::ssr::db;
use app::ssr::faults::FailPoint;
use x509_parser::prelude::FromDer;

const PIN: &str = "ABCD2345";

fn req(user_id: &str) -> NewEnrollment {
    NewEnrollment {
        user_id: user_id.into(),
        device_label: app::domain::validate::DeviceLabel::parse("phone").unwrap(),
        ..Default::default()
    }
}

async fn issue(app: &TestApp, admin: &app::ssr::db::UserRow, user_id: &str) -> db::CertificateRow {
    let e = certs::create_enrollment(&app.services, &app.actor(admin), &req(user_id))
        .await
        .unwrap();
    certs::pick_up(&app.services, &app.actor(admin), &e.id, PIN, None)
        .await
        .unwrap()
        .certificate
}

async fn crl_serials(app: &TestApp, ca_id: &str) -> (i64, Vec<(String, Option<u8>)>) {
    let mut c = app.services.conn().await.unwrap();
    let ca = db::ca_by_id(&mut c, ca_id).await.unwrap().unwrap();
    let der = ca.crl_der.unwrap();
    let (_, crl) = x509_parser::revocation_list::CertificateRevocationList::from_der(&der).unwrap();
    let entries = crl
        .iter_revoked_certificates()
        .map(|r| {
            let reason = r.reason_code().map(|(_, rc)| rc.0);
            (hex::encode_upper(r.raw_serial()), reason)
        })
        .collect();
    (ca.crl_number, entries)
}

async fn create_pickup_revoke(backend: Backend) {
    let app = spawn(backend).await;
    let admin = app.add_user("admin", true).await;
    let user = app.add_user("taro", false).await;
    let e = certs::create_enrollment(&app.services, &app.actor(&user), &req(&user.id))
        .await
        .unwrap();
    assert_eq!(
        e.state,
        State::Ready,
        "auto mode: a user's request is ready at once"
    );
    let picked = certs::pick_up(&app.services, &app.actor(&user), &e.id, PIN, None)
        .await
        .unwrap();
    let cert = picked.certificate;
    assert_eq!(cert.state, State::Issued);
    assert_eq!(
        cert.not_after,
        T0 + 365 * 86_400,
        "default validity is one year from issuance"
    );
    let (n0, entries) = crl_serials(&app, &cert.ca_id).await;
    assert!(entries.is_empty());

    // Another user may not revoke it; the owner may.
    let other = app.add_user("jiro", false).await;
    let err = certs::revoke_certificate(
        &app.services,
        &app.actor(&other),
        &cert.id,
        RevocationReason::KeyCompromise,
    )
    .await;
    assert!(matches!(err, Err(CertError::Forbidden)), "{err:?}");
    let revoked = certs::revoke_certificate(
        &app.services,
        &app.actor(&user),
        &cert.id,
        RevocationReason::KeyCompromise,
    )
    .await
    .unwrap();
    assert_eq!(revoked.state, State::Revoked);
    assert_eq!(revoked.revocation_reason.as_deref(), Some("keyCompromise"));
    let (n1, entries) = crl_serials(&app, &cert.ca_id).await;
    assert!(n1 > n0, "CRL numbers only grow");
    assert_eq!(entries, vec![(cert.serial_hex.clone(), Some(1))]);

    // Rule 1: final. Not even an admin gets it back or revokes it twice; nothing is written.
    let before = app.audit_actions().await;
    let again = certs::revoke_certificate(
        &app.services,
        &app.actor(&admin),
        &cert.id,
        RevocationReason::Unspecified,
    )
    .await;
    assert!(
        matches!(
            again,
            Err(CertError::Lifecycle(LifecycleError::Final(State::Revoked)))
        ),
        "{again:?}"
    );
    let repick = certs::pick_up(&app.services, &app.actor(&admin), &e.id, PIN, None).await;
    assert!(
        matches!(repick, Err(CertError::Lifecycle(LifecycleError::NotReady))),
        "{repick:?}"
    );
    assert_eq!(app.audit_actions().await, before);

    let actions = app.audit_actions().await;
    for a in [
        "ca.create",
        "crl.publish",
        "enrollment.create",
        "certificate.issue",
        "certificate.revoke",
    ] {
        assert!(actions.iter().any(|x| x == a), "missing {a} in {actions:?}");
    }
    app.stop().await;
}
both!(create_pickup_revoke_is_audited, create_pickup_revoke);

/// A revocation whose CA this process has not unlocked yet (retired before it started) reads
/// that CA's key in its own transaction: with a pool of two and one connection taken, it still
/// has all it needs. It asked the pool for a second connection while holding its
/// transaction's before, and waited until the pool's timeout.
async fn retired_ca_unlocked_in_the_transaction(backend: Backend) {
    let app = spawn(backend).await;
    let admin = app.add_user("admin", true).await;
    let user = app.add_user("taro", false).await;
    let cert = issue(&app, &admin, &user.id).await;
    app.services
        .rotate_ca(&app::ssr::audit::Actor::cli(), None)
        .await
        .unwrap();
    let (n0, _) = crl_serials(&app, &cert.ca_id).await;

    // Another portal on the database: at its start it unlocked only the current CA.
    let second = spawn_on_with(
        app.database_url.clone(),
        &[("CERTPORTAL_DATABASE_MAX_CONNECTIONS", "2".into())],
    )
    .await;
    assert_eq!(second.services.db.max_connections(), 2);
    let held = second.services.conn().await.unwrap();
    let revoked = certs::revoke_certificate(
        &second.services,
        &second.actor(&admin),
        &cert.id,
        RevocationReason::KeyCompromise,
    )
    .await;
    drop(held);
    assert_eq!(revoked.unwrap().state, State::Revoked);
    let (n1, entries) = crl_serials(&second, &cert.ca_id).await;
    assert!(n1 > n0, "the retired CA's CRL was signed again");
    assert_eq!(entries, vec![(cert.serial_hex.clone(), Some(1))]);
    second.stop().await;
}
both!(
    a_retired_ca_is_unlocked_inside_the_transaction,
    retired_ca_unlocked_in_the_transaction
);

async fn remove_existing(backend: Backend) {
    let app = spawn(backend).await;
    let admin = app.add_user("admin", true).await;
    let user = app.add_user("hanako", false).await;
    let a = issue(&app, &admin, &user.id).await;
    let b = issue(&app, &admin, &user.id).await;

    // Rule 2 without the option: the third is refused and nothing changes.
    let before = app.audit_actions().await;
    let refused = certs::create_enrollment(&app.services, &app.actor(&admin), &req(&user.id)).await;
    assert!(matches!(refused, Err(CertError::Quota(_))), "{refused:?}");
    assert_eq!(app.audit_actions().await, before);

    // A failure after revoking the old ones rolls everything back.
    let with = NewEnrollment {
        remove_existing: true,
        ..req(&user.id)
    };
    app.services
        .faults
        .arm(FailPoint::AfterRemoveExisting, Some(&user.id));
    let failed = certs::create_enrollment(&app.services, &app.actor(&admin), &with).await;
    assert!(failed.is_err());
    let mut c = app.services.conn().await.unwrap();
    for id in [&a.id, &b.id] {
        assert_eq!(
            db::certificate_by_id(&mut c, id)
                .await
                .unwrap()
                .unwrap()
                .state,
            State::Issued
        );
    }
    assert_eq!(
        db::enrollments_for_user(&mut c, &user.id)
            .await
            .unwrap()
            .len(),
        2
    );
    drop(c);
    assert_eq!(app.audit_actions().await, before);

    // The real thing: both superseded, a new ready enrollment, both serials on the CRL.
    let e = certs::create_enrollment(&app.services, &app.actor(&admin), &with)
        .await
        .unwrap();
    assert_eq!(e.state, State::Ready);
    let mut c = app.services.conn().await.unwrap();
    for id in [&a.id, &b.id] {
        let row = db::certificate_by_id(&mut c, id).await.unwrap().unwrap();
        assert_eq!(row.state, State::Superseded);
        assert_eq!(row.revocation_reason.as_deref(), Some("superseded"));
    }
    drop(c);
    let (_, entries) = crl_serials(&app, &a.ca_id).await;
    let mut serials: Vec<_> = entries.iter().map(|(s, r)| (s.clone(), *r)).collect();
    serials.sort();
    let mut want = vec![
        (a.serial_hex.clone(), Some(4)),
        (b.serial_hex.clone(), Some(4)),
    ];
    want.sort();
    assert_eq!(serials, want);
    app.stop().await;
}
both!(remove_existing_is_one_transaction, remove_existing);

async fn renewal(backend: Backend) {
    let app = spawn(backend).await;
    let admin = app.add_user("admin", true).await;
    let user = app.add_user("saburo", false).await;
    let old = issue(&app, &admin, &user.id).await;
    // Expired certificates can still be renewed (rule 4).
    app.clock.advance(366 * 86_400);
    let r = NewEnrollment {
        renews_certificate_id: Some(old.id.clone()),
        ..req(&user.id)
    };
    let e = certs::create_enrollment(&app.services, &app.actor(&user), &r)
        .await
        .unwrap();
    assert_eq!(e.kind, "renewal");

    // A failure after signing leaves no certificate and the enrollment ready.
    app.services
        .faults
        .arm(FailPoint::AfterIssue, Some(&user.id));
    let failed = certs::pick_up(&app.services, &app.actor(&user), &e.id, PIN, None).await;
    assert!(failed.is_err());
    let mut c = app.services.conn().await.unwrap();
    assert_eq!(
        db::certificates_for_user(&mut c, &user.id)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        db::enrollment_by_id(&mut c, &e.id)
            .await
            .unwrap()
            .unwrap()
            .state,
        State::Ready
    );
    drop(c);

    let new = certs::pick_up(&app.services, &app.actor(&user), &e.id, PIN, None)
        .await
        .unwrap()
        .certificate;
    let mut c = app.services.conn().await.unwrap();
    let old_now = db::certificate_by_id(&mut c, &old.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(old_now.state, State::Superseded);
    assert_eq!(new.state, State::Issued);
    let actions = app.audit_actions().await;
    assert!(actions.contains(&"certificate.supersede".to_string()));
    app.stop().await;
}
both!(renewal_supersedes_the_old_certificate, renewal);

async fn concurrent_pickups(backend: Backend) {
    let app = spawn(backend).await;
    let admin = app.add_user("admin", true).await;
    let user = app.add_user("shiro", false).await;
    let e = certs::create_enrollment(&app.services, &app.actor(&admin), &req(&user.id))
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let s = app.services.clone();
        let actor = app.actor(&user);
        let id = e.id.clone();
        tasks.push(tokio::spawn(async move {
            certs::pick_up(&s, &actor, &id, PIN, None).await
        }));
    }
    let mut ok = 0;
    for t in tasks {
        if t.await.unwrap().is_ok() {
            ok += 1;
        }
    }
    assert_eq!(ok, 1, "exactly one pickup wins");
    let mut c = app.services.conn().await.unwrap();
    assert_eq!(
        db::certificates_for_user(&mut c, &user.id)
            .await
            .unwrap()
            .len(),
        1
    );
    drop(c);
    app.stop().await;
}
both!(concurrent_pickups_issue_exactly_one, concurrent_pickups);

async fn lapse(backend: Backend) {
    let app = spawn(backend).await;
    let admin = app.add_user("admin", true).await;
    let user = app.add_user("goro", false).await;
    let e = certs::create_enrollment(&app.services, &app.actor(&admin), &req(&user.id))
        .await
        .unwrap();
    app.clock.advance(7 * 86_400 - 1);
    assert_eq!(certs::lapse_overdue(&app.services).await.unwrap(), 0);
    app.clock.advance(1);
    assert_eq!(certs::lapse_overdue(&app.services).await.unwrap(), 1);
    let mut c = app.services.conn().await.unwrap();
    assert_eq!(
        db::enrollment_by_id(&mut c, &e.id)
            .await
            .unwrap()
            .unwrap()
            .state,
        State::Lapsed
    );
    drop(c);
    let late = certs::pick_up(&app.services, &app.actor(&user), &e.id, PIN, None).await;
    assert!(
        matches!(
            late,
            Err(CertError::Lifecycle(LifecycleError::Final(State::Lapsed)))
        ),
        "{late:?}"
    );
    assert!(app
        .audit_actions()
        .await
        .contains(&"enrollment.lapse".to_string()));
    app.stop().await;
}
both!(ready_enrollments_lapse_after_the_deadline, lapse);

async fn append_only(backend: Backend) {
    let app = spawn(backend).await;
    let n = app.audit_actions().await.len();
    assert!(n >= 2);
    let upd = sqlx::query("UPDATE audit SET result = 'forged'")
        .execute(app.services.db.pool())
        .await;
    assert!(upd.is_err(), "the database refuses to edit history");
    let del = sqlx::query("DELETE FROM audit")
        .execute(app.services.db.pool())
        .await;
    assert!(del.is_err(), "the database refuses to delete history");
    assert_eq!(app.audit_actions().await.len(), n);
    app.stop().await;
}
both!(audit_is_append_only, append_only);

async fn second_instance(backend: Backend) {
    let first = spawn(backend).await;
    let ca_id = {
        let mut c = first.services.conn().await.unwrap();
        db::current_ca_id(&mut c).await.unwrap().unwrap()
    };
    // A second instance (or a restart) on the same database uses the same CA.
    let dir = tempfile::tempdir().unwrap();
    let url = first.database_url.clone();
    let second = spawn_on(dir, url).await;
    let mut c = second.services.conn().await.unwrap();
    assert_eq!(db::current_ca_id(&mut c).await.unwrap().unwrap(), ca_id);
    assert_eq!(db::list_cas(&mut c).await.unwrap().len(), 1);
    drop(c);
    second.stop().await;
    first.stop().await;
}
both!(instances_share_one_ca, second_instance);
