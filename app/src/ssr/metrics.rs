//! `/metrics` in the Prometheus text format. Counters and the issuance histogram are per
//! process (each instance counts what it served; sum them across instances); the gauges read
//! at scrape time (certificates by state, pending approvals, CRL age, mails waiting) describe
//! the shared database, so every instance reports the same values (use `max` across
//! instances). The pool gauges are per process.
#![allow(clippy::expect_used)] // metric names are fixed and registered once: a failure is a bug

use super::Services;
use prometheus::{
    Encoder, Histogram, HistogramOpts, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
    TextEncoder,
};
use std::sync::Mutex;

/// The portal's metrics, one registry per running portal.
pub struct Metrics {
    registry: Registry,
    pickups: IntCounterVec,
    scep: IntCounterVec,
    issuance: Histogram,
    sign_ins: IntCounterVec,
    throttled: IntCounterVec,
    mails: IntCounterVec,
    ocsp: IntCounterVec,
    start_page: IntCounterVec,
    certificates: IntGaugeVec,
    approvals: IntGauge,
    mails_waiting: IntGauge,
    crl_age: IntGaugeVec,
    crl_next: IntGaugeVec,
    pool: IntGaugeVec,
    /// Serialises scrapes (the OCSP counters are brought up to date from their atomics).
    scrape: Mutex<()>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

fn counter(r: &Registry, name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    let c = IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric");
    r.register(Box::new(c.clone())).expect("unique metric");
    c
}

fn gauge_vec(r: &Registry, name: &str, help: &str, labels: &[&str]) -> IntGaugeVec {
    let g = IntGaugeVec::new(Opts::new(name, help), labels).expect("valid metric");
    r.register(Box::new(g.clone())).expect("unique metric");
    g
}

fn gauge(r: &Registry, name: &str, help: &str) -> IntGauge {
    let g = IntGauge::new(name, help).expect("valid metric");
    r.register(Box::new(g.clone())).expect("unique metric");
    g
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let r = Registry::new();
        let issuance = Histogram::with_opts(
            HistogramOpts::new(
                "certportal_issuance_seconds",
                "Time to make and sign a certificate and its bundle at pickup.",
            )
            .buckets(vec![
                0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ]),
        )
        .expect("valid metric");
        r.register(Box::new(issuance.clone()))
            .expect("unique metric");
        Metrics {
            pickups: counter(
                &r,
                "certportal_pickups_total",
                "Pickup attempts (PIN unlock and download) by result.",
                &["result"],
            ),
            scep: counter(
                &r,
                "certportal_scep_enrollments_total",
                "SCEP enrollments by result.",
                &["result"],
            ),
            issuance,
            sign_ins: counter(
                &r,
                "certportal_sign_ins_total",
                "Sign-ins by method and result.",
                &["method", "result"],
            ),
            throttled: counter(
                &r,
                "certportal_throttled_total",
                "Requests refused by a throttle, by what was throttled.",
                &["kind"],
            ),
            mails: counter(
                &r,
                "certportal_mails_total",
                "Mail attempts by kind (reminder, digest, test) and result (sent, retry, failed, abandoned, cancelled).",
                &["kind", "result"],
            ),
            ocsp: counter(
                &r,
                "certportal_ocsp_responses_total",
                "OCSP answers by status.",
                &["status"],
            ),
            start_page: counter(
                &r,
                "certportal_start_page_answers_total",
                "Anonymous start pages answered, by whence (cache: kept whole in memory; render).",
                &["from"],
            ),
            certificates: gauge_vec(
                &r,
                "certportal_certificates",
                "Certificates by state (issued counts those not yet expired; expired separately).",
                &["state"],
            ),
            approvals: gauge(
                &r,
                "certportal_pending_approvals",
                "Requests waiting for an administrator's approval.",
            ),
            mails_waiting: gauge(
                &r,
                "certportal_mails_waiting",
                "Mails queued or waiting for a retry.",
            ),
            crl_age: gauge_vec(
                &r,
                "certportal_crl_age_seconds",
                "Seconds since the CA's CRL was signed (thisUpdate).",
                &["ca"],
            ),
            crl_next: gauge_vec(
                &r,
                "certportal_crl_next_update_seconds",
                "Seconds until the CA's CRL reaches its nextUpdate (negative: stale).",
                &["ca"],
            ),
            pool: gauge_vec(
                &r,
                "certportal_db_pool_connections",
                "Database pool connections of this process by state.",
                &["state"],
            ),
            registry: r,
            scrape: Mutex::new(()),
        }
    }

    pub fn pickup(&self, result: &str) {
        self.pickups.with_label_values(&[result]).inc();
    }
    /// An anonymous start page answered from the page cache (`cache`) or rendered (`render`).
    pub fn start_page(&self, from: &str) {
        self.start_page.with_label_values(&[from]).inc();
    }
    pub fn scep(&self, result: &str) {
        self.scep.with_label_values(&[result]).inc();
    }
    pub fn issued_in(&self, seconds: f64) {
        self.issuance.observe(seconds);
    }
    pub fn sign_in(&self, method: &str, result: &str) {
        self.sign_ins.with_label_values(&[method, result]).inc();
    }
    pub fn throttled(&self, kind: &str) {
        self.throttled.with_label_values(&[kind]).inc();
    }
    pub fn mail(&self, kind: &str, result: &str) {
        self.mails.with_label_values(&[kind, result]).inc();
    }

    /// Reads the gauges and renders every metric.
    pub async fn render(&self, s: &Services) -> Result<String, super::db::DbError> {
        let now = s.now();
        let mut c = s.conn().await?;
        let g = super::db::metric_counts(&mut c, now).await?;
        drop(c);
        let text = {
            let _one = self.scrape.lock().unwrap_or_else(|p| p.into_inner());
            let o = s.ocsp_stats.snapshot();
            for (status, n) in [
                ("good", o.good),
                ("revoked", o.revoked),
                ("unknown", o.unknown),
                ("malformed", o.malformed),
                ("unauthorized", o.unauthorized),
                ("error", o.errors),
            ] {
                let c = self.ocsp.with_label_values(&[status]);
                c.inc_by(n.saturating_sub(c.get()));
            }
            for state in ["issued", "expired", "superseded", "revoked"] {
                let n = g
                    .certificates
                    .iter()
                    .find(|(k, _)| k == state)
                    .map_or(0, |(_, n)| *n);
                self.certificates.with_label_values(&[state]).set(n);
            }
            self.approvals.set(g.pending_approvals);
            self.mails_waiting.set(g.mails_waiting);
            self.crl_age.reset();
            self.crl_next.reset();
            for (ca, this, next) in &g.crls {
                self.crl_age.with_label_values(&[ca]).set(now - this);
                self.crl_next.with_label_values(&[ca]).set(next - now);
            }
            let pool = s.db.pool();
            let size = i64::from(pool.size());
            let idle = i64::try_from(pool.num_idle()).unwrap_or(i64::MAX);
            self.pool.with_label_values(&["idle"]).set(idle);
            self.pool
                .with_label_values(&["in_use"])
                .set((size - idle).max(0));
            let mut buf = Vec::new();
            TextEncoder::new()
                .encode(&self.registry.gather(), &mut buf)
                .map_err(|e| super::db::DbError::Corrupt(e.to_string()))?;
            String::from_utf8_lossy(&buf).into_owned()
        };
        Ok(text)
    }
}

/// Whether `given` is the configured `/metrics` token (compared in constant time).
pub fn token_matches(expected: &super::ca::Secret, given: &str) -> bool {
    use hmac::{Hmac, Mac};
    // Both sides through one keyed hash, then a constant-time comparison of the tags.
    let tag = |v: &str| {
        Hmac::<sha2::Sha256>::new_from_slice(b"certportal metrics token").map(|mut m| {
            m.update(v.as_bytes());
            m
        })
    };
    match (tag(expected.expose()), tag(given)) {
        (Ok(e), Ok(g)) => g.verify_slice(&e.finalize().into_bytes()).is_ok(),
        _ => false,
    }
}
