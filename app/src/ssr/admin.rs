//! Administrators' use cases over many users (issue 5): bulk create with "remove existing",
//! "Create & Download" (sign at once, hand the bundle over with its PIN), and revoking every
//! active certificate of users. Each user's change is its own transaction: a failure for one
//! user leaves that user unchanged and the others done (seed 000, SPEC rule 2).

use super::audit::{self, action, Actor};
use super::certs::{self, CertError, NewEnrollment};
use super::db;
use super::faults::FailPoint;
use super::services::{publish_crl, Services};
use crate::domain::error_code::ErrorCode;
use crate::domain::lifecycle::RevocationReason;
use crate::domain::policy::{P12Form, Policy};

/// What happened for one user of a bulk run.
#[derive(Debug)]
pub struct UserOutcome<T> {
    pub user_id: String,
    pub login: String,
    pub result: Result<T, CertError>,
}

/// Rule 12 for a whole bulk run: an end date in the past or beyond the policy maximum is
/// refused before anything changes.
pub async fn check_end_date(s: &Services, not_after: Option<i64>) -> Result<(), CertError> {
    if let Some(end) = not_after {
        let mut c = s.conn().await?;
        let policy = s.policy(&mut c).await?;
        policy.not_after(s.now(), Some(end))?;
    }
    Ok(())
}

/// Rule 2 for each user: a `ready` enrollment (the user picks it up through a link), with or
/// without removing their existing certificates first.
pub async fn bulk_create(
    s: &Services,
    actor: &Actor,
    user_ids: &[String],
    not_after: Option<i64>,
    remove_existing: bool,
) -> Vec<UserOutcome<db::EnrollmentRow>> {
    let nothing =
        |batch: Vec<String>| -> Prep<()> { Box::pin(std::future::ready(vec![(); batch.len()])) };
    let (s2, actor) = (s.clone(), actor.clone());
    in_batches(
        s,
        user_ids,
        (BULK_BATCH, BULK_BATCH_MAX),
        nothing,
        move |tx, id, (), policy| {
            let (s, actor) = (s2.clone(), actor.clone());
            let req = admin_enrollment(id, not_after, remove_existing);
            Box::pin(async move {
                certs::create_enrollment_unpublished(&s, tx, &actor, &req, policy).await
            })
        },
    )
    .await
}

/// Runs `change` for each user in turn (each its own transaction) and collects a result per
/// user.
async fn for_each_user<'a, T, F, Fut>(
    s: &Services,
    user_ids: &'a [String],
    change: F,
) -> Vec<UserOutcome<T>>
where
    F: Fn(&'a str) -> Fut,
    Fut: std::future::Future<Output = Result<T, CertError>>,
{
    let mut results = Vec::with_capacity(user_ids.len());
    for id in user_ids {
        results.push(change(id).await);
    }
    let logins = logins_of(s, user_ids).await;
    user_ids
        .iter()
        .zip(results)
        .map(|(id, result)| UserOutcome {
            login: logins.get(id).cloned().unwrap_or_default(),
            user_id: id.clone(),
            result,
        })
        .collect()
}

/// The logins of `ids`, in one query, to name a bulk run's results by (a user whose login
/// cannot be read is named by id alone: the run itself is already done).
async fn logins_of(s: &Services, ids: &[String]) -> std::collections::HashMap<String, String> {
    match s.conn().await {
        Ok(mut c) => db::logins_by_id(&mut c, ids).await.unwrap_or_default(),
        Err(_) => Default::default(),
    }
}

/// Users per transaction in a bulk run, at least: each batch holds the write lock for a
/// moment, so other requests go on between batches. A batch grows to a quarter of the
/// entries of the CRL it republishes (at most [`BULK_BATCH_MAX`]): signing a CRL costs in
/// proportion to its entries, so the CRLs a run signs cost in proportion to the run, not to
/// the run times the CRL.
pub const BULK_BATCH: usize = 100;
pub const BULK_BATCH_MAX: usize = 1_000;
/// The same for "Create & Download", whose every user also costs a key, a signature and a
/// PKCS#12 (about 2.5 ms, made before the batch's transaction) and a bundle held in memory
/// until the ZIP is written.
pub const BUNDLE_BATCH: usize = 20;
pub const BUNDLE_BATCH_MAX: usize = 200;

/// What a batch makes ready for each of its users before its transaction (e.g. the signed
/// bundles of "Create & Download", made on every core while nothing is locked).
type Prep<P> = std::pin::Pin<Box<dyn std::future::Future<Output = Vec<P>> + Send>>;

/// One user's change inside a batch's transaction (given the policy read once in that
/// transaction): its result and the CAs whose CRL must be republished.
type BatchStep<'c, T> = std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<(T, Vec<String>), CertError>> + Send + 'c>,
>;

/// Runs `change` for each user, `batch.0` to `batch.1` users per transaction (see
/// [`BULK_BATCH`]), with what `prepare` made for the batch beforehand, each user inside its
/// own savepoint (a refused user changes nothing and does not stop the others). Each
/// affected CA's CRL is republished once per batch, in the batch's transaction, so the
/// revocations and the CRL that lists them commit together — and a run of n users signs
/// a few CRLs, not n. The batches run [`on_one_core`].
async fn in_batches<T, P, G, F>(
    s: &Services,
    user_ids: &[String],
    (least, most): (usize, usize),
    prepare: G,
    change: F,
) -> Vec<UserOutcome<T>>
where
    T: Send + 'static,
    P: Send + 'static,
    G: Fn(Vec<String>) -> Prep<P> + Send + 'static,
    F: for<'c> Fn(&'c mut db::Conn, String, P, &'c Policy) -> BatchStep<'c, T>
        + Send
        + Sync
        + 'static,
{
    let (least, most) = (least.max(1), most.max(least).max(1));
    let (s2, ids) = (s.clone(), user_ids.to_vec());
    let run = move |writer: db::Db| async move {
        let s = &s2;
        let mut out = Vec::with_capacity(ids.len());
        let mut rest = &ids[..];
        let mut size = least;
        while !rest.is_empty() {
            let (batch, next) = rest.split_at(size.min(rest.len()));
            rest = next;
            let prepared = prepare(batch.to_vec()).await;
            let (results, crl_entries) = run_batch(s, &writer, batch, prepared, &change).await;
            size = (crl_entries / 4).clamp(least, most);
            let logins = logins_of(s, batch).await;
            for (id, result) in batch.iter().zip(results) {
                out.push(UserOutcome {
                    login: logins.get(id).cloned().unwrap_or_default(),
                    user_id: id.clone(),
                    result,
                });
            }
        }
        out
    };
    match on_one_core(&s.db, run).await {
        Some(out) => out,
        None => user_ids
            .iter()
            .map(|id| UserOutcome {
                user_id: id.clone(),
                login: String::new(),
                result: Err(CertError::Internal("the bulk run's thread failed".into())),
            })
            .collect(),
    }
}

/// Runs `run` — a bulk run's batches, a conversation of some ten statements per user with
/// the database — on a thread of its own, held on one core together with the worker thread
/// of its own SQLite connection (which the driver starts from that thread, so it inherits
/// the affinity). Each statement is a hand-off between the two threads; left to the
/// scheduler they sat on different cores, and each hand-off woke an idle core (on a 2-core
/// VM the same 1,000-user batch took 0.45 s to 1.7 s, 11.8 s for 10,000 users; on one core
/// 0.4 s every time, 5.4 s). The other core stays free for everyone else's requests. The
/// run's writes still take the process's writer gate batch by batch. On PostgreSQL (no
/// worker thread; the server is another process) `run` is awaited here, on the shared pool.
/// `None` if the thread could not run it (nothing was started then, or it stopped midway).
async fn on_one_core<T, F, Fut>(db: &db::Db, run: F) -> Option<T>
where
    F: FnOnce(db::Db) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = T> + Send,
    T: Send + 'static,
{
    if db.backend() != db::Backend::Sqlite {
        return Some(run(db.clone()).await);
    }
    let shared = db.clone();
    let (done, result) = tokio::sync::oneshot::channel();
    let thread = std::thread::Builder::new()
        .name("certportal-bulk".into())
        .spawn(move || {
            hold_this_thread_on_its_core();
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime,
                Err(e) => return tracing::error!("bulk run: no runtime: {e}"),
            };
            let out = runtime.block_on(async move {
                let own = match shared.own_sqlite_connection().await {
                    Ok(own) => own,
                    Err(e) => {
                        tracing::warn!("bulk run: no connection of its own ({e}); shared pool");
                        None
                    }
                };
                let out = run(own.clone().unwrap_or(shared)).await;
                if let Some(own) = own {
                    own.close().await;
                }
                out
            });
            let _ = done.send(out);
        });
    if let Err(e) = thread {
        tracing::error!("bulk run: cannot start its thread: {e}");
        return None;
    }
    result.await.ok()
}

/// Holds the calling thread on the core it runs on now (Linux; elsewhere, and if the
/// system refuses, the thread runs where the scheduler puts it).
fn hold_this_thread_on_its_core() {
    #[cfg(target_os = "linux")]
    {
        use nix::sched::{sched_getcpu, sched_setaffinity, CpuSet};
        let held = sched_getcpu().and_then(|cpu| {
            let mut set = CpuSet::new();
            set.set(cpu)?;
            sched_setaffinity(nix::unistd::Pid::from_raw(0), &set)
        });
        if let Err(e) = held {
            tracing::debug!("bulk run: not held on one core: {e}");
        }
    }
}

/// One batch of [`in_batches`], written through `writer`: a result per user, in order.
async fn run_batch<T, P, F>(
    s: &Services,
    writer: &db::Db,
    batch: &[String],
    prepared: Vec<P>,
    change: &F,
) -> (Vec<Result<T, CertError>>, usize)
where
    F: for<'c> Fn(&'c mut db::Conn, String, P, &'c Policy) -> BatchStep<'c, T>,
{
    use sqlx::Acquire;
    let failed = |n: usize, e: &dyn std::fmt::Display| -> (Vec<Result<T, CertError>>, usize) {
        let all = (0..n)
            .map(|_| Err(CertError::Internal(e.to_string())))
            .collect();
        (all, 0)
    };
    let mut tx = match writer.begin().await {
        Ok(tx) => tx,
        Err(e) => return failed(batch.len(), &e),
    };
    let policy = match s.policy(&mut tx).await {
        Ok(policy) => policy,
        Err(e) => return failed(batch.len(), &e),
    };
    let mut results = Vec::with_capacity(batch.len());
    let mut crl_cas: Vec<String> = Vec::new();
    for (id, ready) in batch.iter().zip(prepared) {
        let mut sp = match (*tx).begin().await {
            Ok(sp) => sp,
            Err(e) => return failed(batch.len(), &e),
        };
        match change(&mut sp, id.clone(), ready, &policy).await {
            Ok((value, cas)) => {
                if let Err(e) = sp.commit().await {
                    return failed(batch.len(), &e);
                }
                for ca in cas {
                    if !crl_cas.contains(&ca) {
                        crl_cas.push(ca);
                    }
                }
                results.push(Ok(value));
            }
            Err(e) => {
                if let Err(e) = sp.rollback().await {
                    return failed(batch.len(), &e);
                }
                results.push(Err(e));
            }
        }
    }
    let published = async {
        let now = s.now();
        let mut largest = 0;
        for ca_id in &crl_cas {
            let signer = s.signer_in(&mut tx, ca_id).await?;
            let entries = publish_crl(&mut tx, &signer, now, policy.crl_next_update_days).await?;
            largest = largest.max(entries);
        }
        tx.commit().await?;
        Ok::<usize, CertError>(largest)
    }
    .await;
    match published {
        Ok(largest) => (results, largest),
        Err(e) => failed(batch.len(), &e),
    }
}

/// A bundle made by "Create & Download" for one user: the PKCS#12 and its PIN.
pub struct HandOver {
    pub login: String,
    pub serial_hex: String,
    pub not_after: i64,
    pub pin: String,
    pub p12: Vec<u8>,
}

impl std::fmt::Debug for HandOver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HandOver")
            .field("login", &self.login)
            .field("serial_hex", &self.serial_hex)
            .finish_non_exhaustive()
    }
}

/// "Create & Download" for one user: the enrollment is created and picked up at once, in one
/// transaction, under a random PIN. Nothing is stored that could rebuild the bundle.
pub async fn create_and_download(
    s: &Services,
    actor: &Actor,
    user_id: &str,
    not_after: Option<i64>,
    remove_existing: bool,
    form: Option<P12Form>,
) -> Result<HandOver, CertError> {
    create_and_deliver(
        s,
        actor,
        user_id,
        not_after,
        remove_existing,
        form,
        &mut |_| Ok(()),
    )
    .await
}

/// [`create_and_download`] that hands the bundle to `deliver` (the CLI writes its file)
/// before the transaction commits: if delivering fails, nothing changes.
pub async fn create_and_deliver(
    s: &Services,
    actor: &Actor,
    user_id: &str,
    not_after: Option<i64>,
    remove_existing: bool,
    form: Option<P12Form>,
    deliver: &mut (dyn FnMut(&[u8]) -> std::io::Result<()> + Send),
) -> Result<HandOver, CertError> {
    let req = admin_enrollment(user_id.to_string(), not_after, remove_existing);
    let mut attempt = 0;
    let (mut tx, handed, crl_cas, policy) = loop {
        let signed = sign_handover(s, user_id, not_after, form).await?;
        let mut tx = s.db.begin().await?;
        let policy = s.policy(&mut tx).await?;
        match hand_over_in(s, &mut tx, actor, &req, signed, &policy).await {
            Ok((handed, cas)) => break (tx, handed, cas, policy),
            // Something it was signed from changed meanwhile: sign again, once.
            Err(CertError::Conflict) if attempt == 0 => attempt += 1,
            Err(e) => return Err(e),
        }
    };
    for ca_id in crl_cas {
        let signer = s.signer_in(&mut tx, &ca_id).await?;
        publish_crl(&mut tx, &signer, s.now(), policy.crl_next_update_days).await?;
    }
    deliver(&handed.p12)
        .map_err(|e| CertError::Internal(format!("cannot deliver the bundle: {e}")))?;
    tx.commit().await?;
    Ok(handed)
}

/// An enrollment an administrator makes for a user (bulk Create, Create & Download).
fn admin_enrollment(
    user_id: String,
    not_after: Option<i64>,
    remove_existing: bool,
) -> NewEnrollment {
    NewEnrollment {
        user_id,
        device_label: Default::default(),
        not_after,
        remove_existing,
        renews_certificate_id: None,
    }
}

/// A "Create & Download" bundle signed ahead of its transaction: the enrollment id its PIN is
/// derived from, the PIN, and the certificate and PKCS#12 made for the user.
struct SignedHandOver {
    enrollment_id: String,
    pin: String,
    signed: certs::Signed,
}

/// Signs a hand-over for `user_id` (on a blocking thread, nothing locked, nothing written).
async fn sign_handover(
    s: &Services,
    user_id: &str,
    not_after: Option<i64>,
    form: Option<P12Form>,
) -> Result<SignedHandOver, CertError> {
    let user = {
        let mut c = s.conn().await?;
        db::user_by_id(&mut c, user_id)
            .await?
            .ok_or(CertError::NotFound("user"))?
    };
    let enrollment_id = super::ids::new_id();
    // Derived, not stored: the PIN list is a second download (see `handover_pins`).
    let pin = s.authority.pin_for_handover(&enrollment_id)?;
    let keying = certs::Keying::Bundle {
        pin: zeroize::Zeroizing::new(pin.clone()),
        form,
    };
    let signed = certs::sign_for(s, &user, not_after, keying).await?;
    Ok(SignedHandOver {
        enrollment_id,
        pin,
        signed,
    })
}

/// "Create & Download" inside the caller's transaction: the enrollment, picked up at once
/// with the bundle signed beforehand. Returns the bundle and the CAs whose CRL the caller
/// must republish in the same transaction.
async fn hand_over_in(
    s: &Services,
    tx: &mut db::Conn,
    actor: &Actor,
    req: &NewEnrollment,
    signed: SignedHandOver,
    policy: &Policy,
) -> Result<(HandOver, Vec<String>), CertError> {
    let (e, cas) =
        certs::create_enrollment_with_id(s, tx, actor, req, signed.enrollment_id, policy).await?;
    let picked = certs::record_pickup(s, tx, actor, &e.id, signed.signed).await?;
    db::mark_handover(tx, &picked.certificate.id).await?;
    let handed = HandOver {
        login: picked.user.login.clone(),
        serial_hex: picked.certificate.serial_hex.clone(),
        not_after: picked.certificate.not_after,
        pin: signed.pin,
        p12: picked.p12,
    };
    Ok((handed, cas))
}

/// "Create & Download" for each user, in batches like [`bulk_create`]; each batch's bundles
/// are signed first, on every core, and then recorded in the batch's transaction.
pub async fn bulk_create_and_download(
    s: &Services,
    actor: &Actor,
    user_ids: &[String],
    not_after: Option<i64>,
    remove_existing: bool,
) -> Vec<UserOutcome<HandOver>> {
    // The bundles are signed on the portal's runtime (every core), not on the bulk run's
    // thread, which is held on one core (see `on_one_core`).
    let (portal, signing) = (tokio::runtime::Handle::current(), s.clone());
    let sign_all = move |ids: Vec<String>| -> Prep<Result<SignedHandOver, CertError>> {
        let (s, portal) = (signing.clone(), portal.clone());
        Box::pin(async move {
            let mut jobs = tokio::task::JoinSet::new();
            for (i, id) in ids.into_iter().enumerate() {
                let s = s.clone();
                jobs.spawn_on(
                    async move { (i, sign_handover(&s, &id, not_after, None).await) },
                    &portal,
                );
            }
            let mut out: Vec<Option<Result<SignedHandOver, CertError>>> =
                (0..jobs.len()).map(|_| None).collect();
            while let Some(done) = jobs.join_next().await {
                match done {
                    Ok((i, r)) => out[i] = Some(r),
                    Err(e) => tracing::error!("a signing job failed: {e}"),
                }
            }
            out.into_iter()
                .map(|r| r.unwrap_or_else(|| Err(CertError::Internal("signing job failed".into()))))
                .collect()
        })
    };
    let (s2, actor) = (s.clone(), actor.clone());
    in_batches(
        s,
        user_ids,
        (BUNDLE_BATCH, BUNDLE_BATCH_MAX),
        sign_all,
        move |tx, id, signed, policy| {
            let (s, actor) = (s2.clone(), actor.clone());
            let req = admin_enrollment(id, not_after, remove_existing);
            Box::pin(async move { hand_over_in(&s, tx, &actor, &req, signed?, policy).await })
        },
    )
    .await
}

/// Revokes every active certificate of one user with `reason`, republishing the CRLs, in one
/// transaction. Returns how many were revoked (0 is not an error).
pub async fn revoke_user(
    s: &Services,
    actor: &Actor,
    user_id: &str,
    reason: RevocationReason,
) -> Result<usize, CertError> {
    if !actor.is_admin {
        return Err(CertError::Forbidden);
    }
    let now = s.now();
    let mut tx = s.db.begin().await?;
    db::user_by_id(&mut tx, user_id)
        .await?
        .ok_or(CertError::NotFound("user"))?;
    db::lock_user(&mut tx, user_id).await?;
    let (n, crl_cas) =
        certs::revoke_all_active(&mut tx, actor, user_id, reason, now, "admin").await?;
    if n > 0 {
        s.faults.check(FailPoint::AfterRevoke, user_id)?;
    }
    let policy = s.policy(&mut tx).await?;
    for ca_id in crl_cas {
        let signer = s.signer_in(&mut tx, &ca_id).await?;
        publish_crl(&mut tx, &signer, now, policy.crl_next_update_days).await?;
    }
    tx.commit().await?;
    Ok(n)
}

/// [`revoke_user`] for each user in turn.
pub async fn bulk_revoke(
    s: &Services,
    actor: &Actor,
    user_ids: &[String],
    reason: RevocationReason,
) -> Vec<UserOutcome<usize>> {
    for_each_user(s, user_ids, |id| revoke_user(s, actor, id, reason)).await
}

/// Rule 7: an administrator approves (→ `ready`, with a fresh pickup deadline) or rejects
/// (→ `rejected`, final) a pending request, with a note. One transaction with the audit row.
pub async fn decide(
    s: &Services,
    actor: &Actor,
    enrollment_id: &str,
    approve: bool,
    note: &str,
) -> Result<db::EnrollmentRow, CertError> {
    use crate::domain::lifecycle::{transition, Event};
    if !actor.is_admin {
        return Err(CertError::Forbidden);
    }
    let note = note.trim();
    // Line breaks are fine in a note; other control characters are not.
    if note.chars().count() > 500
        || note
            .chars()
            .any(|c| c != '\n' && c != '\r' && crate::domain::validate::is_unsafe_char(c))
    {
        return Err(CertError::Invalid(ErrorCode::NoteTooLong));
    }
    if !approve && note.is_empty() {
        return Err(CertError::Invalid(ErrorCode::RejectNoteRequired));
    }
    let now = s.now();
    let mut tx = s.db.begin().await?;
    let e = db::enrollment_by_id(&mut tx, enrollment_id)
        .await?
        .ok_or(CertError::NotFound("enrollment"))?;
    db::lock_user(&mut tx, &e.user_id).await?;
    let to = transition(
        e.state,
        if approve {
            Event::Approve
        } else {
            Event::Reject
        },
    )
    .map_err(CertError::Lifecycle)?;
    let policy = s.policy(&mut tx).await?;
    let by = actor.user_id.clone().unwrap_or_else(|| actor.label.clone());
    if !db::decide_enrollment(
        &mut tx,
        &e.id,
        to,
        &by,
        now,
        note,
        policy.pickup_deadline(now),
    )
    .await?
    {
        return Err(CertError::Conflict);
    }
    audit::record(
        &mut tx,
        now,
        actor,
        if approve {
            action::ENROLLMENT_APPROVE
        } else {
            action::ENROLLMENT_REJECT
        },
        Some(&e.user_id),
        None,
        Some(&e.id),
        note,
    )
    .await?;
    let updated = db::enrollment_by_id(&mut tx, &e.id)
        .await?
        .ok_or(CertError::NotFound("enrollment"))?;
    tx.commit().await?;
    Ok(updated)
}

/// What an administrator may change on a user (rule 3's flag, the role, the account).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserFlags {
    /// `None`: follow the global default.
    pub reissue_allowed: Option<bool>,
    pub is_admin: bool,
    pub active: bool,
    /// When this deactivates the user: also revoke every active certificate
    /// (`affiliationChanged`), so relying parties stop accepting them at once.
    pub revoke_on_deactivate: bool,
}

/// Changes a user's flags in one transaction with an audit row naming what changed.
/// Deactivating ends the user's sessions, voids their open links and — unless the
/// administrator chose otherwise — revokes their active certificates (`affiliationChanged`)
/// with the CRLs republished in the same transaction. The last active
/// administrator cannot be demoted or deactivated (nobody could administer the portal).
pub async fn update_user(
    s: &Services,
    actor: &Actor,
    user_id: &str,
    flags: &UserFlags,
) -> Result<Vec<String>, CertError> {
    if !actor.is_admin {
        return Err(CertError::Forbidden);
    }
    let now = s.now();
    let mut tx = s.db.begin().await?;
    let before = db::user_by_id(&mut tx, user_id)
        .await?
        .ok_or(CertError::NotFound("user"))?;
    // Two administrators demoting each other at once must not leave none: any change that
    // could take an administrator away (a role of "user", a deactivation; the user may have
    // been promoted since `before` was read) holds the `admins` lock — before the user's,
    // the order every use case takes them in — while it counts.
    if !flags.is_admin || !flags.active {
        db::lock_named(&mut tx, "admins").await?;
    }
    db::lock_user(&mut tx, &before.id).await?;
    let u = db::user_by_id(&mut tx, user_id)
        .await?
        .ok_or(CertError::NotFound("user"))?;
    let mut changed = Vec::new();
    if u.reissue_allowed != flags.reissue_allowed {
        changed.push(format!(
            "reissue_allowed={}",
            flags
                .reissue_allowed
                .map_or("default".to_string(), |b| b.to_string())
        ));
    }
    if u.is_admin != flags.is_admin {
        changed.push(format!("is_admin={}", flags.is_admin));
    }
    if u.active != flags.active {
        changed.push(format!("active={}", flags.active));
    }
    if changed.is_empty() {
        return Ok(changed);
    }
    let loses_admin = u.is_admin && u.active && (!flags.is_admin || !flags.active);
    if loses_admin && db::admin_rows::count_active_admins(&mut tx).await? <= 1 {
        return Err(CertError::Invalid(ErrorCode::LastAdmin));
    }
    db::admin_rows::set_user_flags(
        &mut tx,
        &u.id,
        flags.reissue_allowed,
        flags.is_admin,
        flags.active,
        now,
    )
    .await?;
    if u.active && !flags.active {
        changed.extend(leave(&mut tx, s, actor, &u.id, flags.revoke_on_deactivate, now).await?);
    }
    audit::record(
        &mut tx,
        now,
        actor,
        action::USER_UPDATE,
        Some(&u.id),
        None,
        None,
        &changed.join(" "),
    )
    .await?;
    tx.commit().await?;
    Ok(changed)
}

/// What a leaver loses, inside the caller's transaction (which holds the user's lock): their
/// sessions end, their open pickup and activation links stop working and, when `revoke`, every
/// active certificate is revoked `affiliationChanged` with each affected CA's CRL republished
/// in the same transaction. Returns what happened, for the caller's audit row.
pub(crate) async fn leave(
    tx: &mut db::Conn,
    s: &Services,
    actor: &Actor,
    user_id: &str,
    revoke: bool,
    now: i64,
) -> Result<Vec<String>, CertError> {
    let sessions = db::auth_rows::delete_user_sessions(tx, user_id).await?;
    let links = db::link_rows::void_open_links_for_user(tx, user_id, now).await?;
    db::auth_rows::void_activations(tx, user_id, now).await?;
    let mut changed = vec![format!("sessions_ended={sessions} links_voided={links}")];
    if revoke {
        let (revoked, crl_cas) = certs::revoke_all_active(
            tx,
            actor,
            user_id,
            RevocationReason::AffiliationChanged,
            now,
            "deactivated",
        )
        .await?;
        changed.push(format!("certificates_revoked={revoked}"));
        let policy = s.policy(tx).await?;
        for ca_id in crl_cas {
            let signer = s.signer_in(tx, &ca_id).await?;
            publish_crl(tx, &signer, now, policy.crl_next_update_days).await?;
        }
    }
    Ok(changed)
}

/// Stores a new policy after checking it, with an audit row listing every changed setting
/// (old → new), in one transaction. Returns the changed settings.
pub async fn update_policy(
    s: &Services,
    actor: &Actor,
    new: &crate::domain::policy::Policy,
) -> Result<Vec<String>, CertError> {
    if !actor.is_admin {
        return Err(CertError::Forbidden);
    }
    new.validate().map_err(CertError::Policy)?;
    if new.key_algorithm == crate::domain::policy::KeyAlgorithm::Rsa2048
        && !super::ca::RSA_AVAILABLE
    {
        return Err(CertError::Invalid(ErrorCode::RsaUnavailable));
    }
    let now = s.now();
    let mut tx = s.db.begin().await?;
    let old = s.policy(&mut tx).await?;
    let (old_v, new_v) = (
        serde_json::to_value(&old).map_err(|e| CertError::Internal(e.to_string()))?,
        serde_json::to_value(new).map_err(|e| CertError::Internal(e.to_string()))?,
    );
    let mut changed = Vec::new();
    if let (Some(o), Some(n)) = (old_v.as_object(), new_v.as_object()) {
        for (k, nv) in n {
            let ov = o.get(k).cloned().unwrap_or(serde_json::Value::Null);
            if &ov != nv {
                changed.push(format!("{k}: {ov} -> {nv}"));
            }
        }
    }
    if changed.is_empty() {
        return Ok(changed);
    }
    db::put_setting(
        &mut tx,
        "policy",
        &serde_json::to_string(new).map_err(|e| CertError::Internal(e.to_string()))?,
    )
    .await?;
    audit::record(
        &mut tx,
        now,
        actor,
        action::SETTINGS_UPDATE,
        None,
        None,
        None,
        &changed.join("; "),
    )
    .await?;
    tx.commit().await?;
    Ok(changed)
}

/// The files of a "Create & Download" ZIP: `<login>.p12` for each bundle made and
/// `RESULTS.csv` (every user; a failure with its code). The PINs are not in it: they are a
/// second download ([`handover_pins`]), so the ZIP alone opens nothing.
pub fn download_files(out: Vec<UserOutcome<HandOver>>) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    let mut results = String::from("login,result,detail\n");
    for o in out {
        match o.result {
            Ok(h) => {
                results.push_str(&format!("{},ok,{}\n", h.login, h.serial_hex));
                files.push((format!("{}.p12", h.login), h.p12));
            }
            Err(e) => {
                let e = crate::api::AppError::from(e);
                results.push_str(&format!(
                    "{},{},\"{}\"\n",
                    o.login,
                    e.code,
                    e.to_string().replace('"', "'")
                ));
            }
        }
    }
    files.push(("RESULTS.csv".into(), results.into_bytes()));
    files
}

/// How long after "Create & Download" its PIN list can be downloaded.
pub const HANDOVER_PIN_SECS: i64 = 3600;

/// The second download of "Create & Download": `PINS.csv` (login, serial, expiry, PIN) for
/// the bundles this administrator made in the last hour, derived again from the PIN key
/// (nothing stored). Recorded in the history.
pub async fn handover_pins(s: &Services, actor: &Actor) -> Result<String, CertError> {
    let Some(admin_id) = actor.user_id.clone().filter(|_| actor.is_admin) else {
        return Err(CertError::Forbidden);
    };
    let now = s.now();
    let rows = {
        let mut c = s.conn().await?;
        db::handover_certificates(&mut c, &admin_id, now - HANDOVER_PIN_SECS).await?
    };
    let mut csv = String::from("login,serial,expires,pin\n");
    for r in &rows {
        csv.push_str(&format!(
            "{},{},{},{}\n",
            r.login,
            r.serial_hex,
            crate::i18n::fmt_date(r.not_after),
            s.authority.pin_for_handover(&r.enrollment_id)?
        ));
    }
    let mut tx = s.db.begin().await?;
    audit::record(
        &mut tx,
        now,
        actor,
        action::HANDOVER_PINS,
        None,
        None,
        None,
        &format!("bundles={}", rows.len()),
    )
    .await?;
    tx.commit().await?;
    Ok(csv)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The CPUs a thread may run on, as `/proc` lists them ("0" or "0-1"); `task` is a
    /// thread of this process, or `None` for the calling thread.
    fn cpus_of(task: Option<&str>) -> String {
        let path = match task {
            Some(tid) => format!("/proc/self/task/{tid}/status"),
            None => "/proc/thread-self/status".to_string(),
        };
        let status = std::fs::read_to_string(path).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
            .unwrap()
            .trim()
            .to_string()
    }

    /// The SQLite driver's worker threads of this process (named "sqlx-sqlite-worker-N",
    /// which the kernel cuts to 15 characters).
    fn sqlite_workers() -> std::collections::BTreeSet<String> {
        std::fs::read_dir("/proc/self/task")
            .unwrap()
            .filter_map(|t| {
                let tid = t.ok()?.file_name().into_string().ok()?;
                let name = std::fs::read_to_string(format!("/proc/self/task/{tid}/comm")).ok()?;
                name.starts_with("sqlx-sqlite-wor").then_some(tid)
            })
            .collect()
    }

    /// A bulk run's thread and the worker thread of its own SQLite connection are held on
    /// the same single core, while the portal's threads keep every core; the run writes
    /// through the process's writer gate and its commits are counted.
    #[cfg(target_os = "linux")]
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_bulk_run_and_its_sqlite_worker_share_one_core() {
        let (_dir, db) = crate::ssr::db::migrated_sqlite().await;
        let everywhere = cpus_of(None);
        let before = db.commits();
        let (shared, portal_workers) = (db.clone(), sqlite_workers());
        let seen = on_one_core(&db, move |writer| async move {
            let tx = writer.begin().await.unwrap();
            // The shared handle's writers queue behind this one (one gate).
            let gate_taken = shared.begin_would_wait();
            let workers: Vec<String> = sqlite_workers()
                .difference(&portal_workers)
                .map(|tid| cpus_of(Some(tid)))
                .collect();
            let seen = (gate_taken, cpus_of(None), workers);
            tx.commit().await.unwrap();
            seen
        })
        .await
        .unwrap();
        let (gate_taken, run, workers) = seen;
        assert!(gate_taken, "the run holds the process's writer gate");
        assert_eq!(db.commits(), before + 1, "its commit is counted");
        assert!(!run.contains(['-', ',']), "held on one core: {run}");
        assert_eq!(
            workers,
            [run],
            "its own connection's worker is on the run's core"
        );
        // The portal's own threads were not touched.
        assert_eq!(cpus_of(None), everywhere);
    }
}
