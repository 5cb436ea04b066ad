//! Port of client-go `plugin/pkg/client/auth/exec/metrics.go`: what exec plugin runs report
//! to [`crate::metrics`]: each run (`ExecPluginCalls`), the earliest expiry of the client
//! certificates plugins handed out (`ClientCertExpiry`), and how long a certificate had been
//! valid when a plugin replaced it (`ClientCertRotationAge`).
//!
//! Data flow: [`super::exec::ExecAuthenticator`] calls [`report_call`] after each run and
//! [`CertTracker::refreshed`] with each new credential; the tracker keeps this
//! authenticator's certificate expiry in a process-wide table (Go's
//! `certificateExpirationTracker`) and reports the earliest of the table.
//!
//! Differs from Go: an authenticator's entry leaves the table when it is dropped (Go's
//! authenticators live in a global cache forever). Certificate dates are read by a small DER
//! walk of the validity field, not a full X.509 parse.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use apimachinery::util::sync::MutexExt as _;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject as _;

use crate::metrics::exec_call_status as status;
use crate::metrics::report;

/// Counts one run of a plugin. Port of incrementCallsMetric, with Go's "binary not found"
/// (`exec.Error`, `fs.PathError`) read as a spawn error of kind `NotFound` or
/// `PermissionDenied`, and a death by signal as exit code -1 (Go's `ExitCode()`).
pub(crate) fn report_call(out: &std::io::Result<std::process::Output>) {
    match out {
        Ok(o) if o.status.success() => report::exec_plugin_call(0, status::NO_ERROR),
        Ok(o) => report::exec_plugin_call(
            o.status.code().unwrap_or(-1),
            status::PLUGIN_EXECUTION_ERROR,
        ),
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied
            ) =>
        {
            report::exec_plugin_call(1, status::PLUGIN_NOT_FOUND_ERROR)
        }
        Err(_) => report::exec_plugin_call(1, status::CLIENT_INTERNAL_ERROR),
    }
}

/// Expiry of each live authenticator's client certificate (absent: none). Port of
/// certificateExpirationTracker.m.
static EXPIRIES: Mutex<BTreeMap<u64, SystemTime>> = Mutex::new(BTreeMap::new());
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// Sets (or clears) `id`'s expiry and reports the earliest. Port of
/// certificateExpirationTracker.set.
fn set_expiry(id: u64, expiry: Option<SystemTime>) {
    let mut m = EXPIRIES.lock_unpoisoned();
    match expiry {
        Some(t) => m.insert(id, t),
        None => m.remove(&id),
    };
    report::client_cert_expiry(m.values().min().copied());
}

/// One authenticator's certificate bookkeeping.
#[derive(Debug)]
pub(crate) struct CertTracker {
    id: u64,
    /// The last certificate (PEM) a plugin returned, and its notBefore.
    last: Option<(String, Option<SystemTime>)>,
}

impl CertTracker {
    pub(crate) fn new() -> Self {
        CertTracker {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            last: None,
        }
    }

    /// After a run returned `cert_pem` (or no certificate): reports the age of a replaced
    /// certificate and this authenticator's new expiry. Port of the end of
    /// refreshCredsLocked.
    pub(crate) fn refreshed(&mut self, cert_pem: Option<&str>) {
        if let Some((old, not_before)) = &self.last
            && cert_pem != Some(old.as_str())
            && let Some(nb) = not_before
        {
            report::client_cert_rotation_age(
                SystemTime::now().duration_since(*nb).unwrap_or_default(),
            );
        }
        let validity = cert_pem.and_then(|p| validity(p.as_bytes()));
        self.last = cert_pem.map(|p| (p.to_owned(), validity.map(|v| v.0)));
        set_expiry(self.id, validity.map(|v| v.1));
    }
}

impl Drop for CertTracker {
    fn drop(&mut self) {
        if self.last.is_some() {
            set_expiry(self.id, None);
        }
    }
}

/// `(notBefore, notAfter)` of the first certificate of a PEM chain (the leaf, as Go's
/// `cert.Leaf`); `None` if it does not parse.
pub(crate) fn validity(pem: &[u8]) -> Option<(SystemTime, SystemTime)> {
    let der = CertificateDer::pem_slice_iter(pem).next()?.ok()?;
    // Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { [0] version OPTIONAL,
    //   serialNumber INTEGER, signature SEQUENCE, issuer SEQUENCE, validity SEQUENCE, ... } }
    let (tag, cert, _) = tlv(&der)?;
    (tag == 0x30).then_some(())?;
    let (tag, mut tbs, _) = tlv(cert)?;
    (tag == 0x30).then_some(())?;
    let mut next = || -> Option<(u8, &[u8])> {
        let (tag, value, rest) = tlv(tbs)?;
        tbs = rest;
        Some((tag, value))
    };
    let (mut tag, _) = next()?;
    if tag == 0xA0 {
        (tag, _) = next()?; // serialNumber
    }
    (tag == 0x02).then_some(())?;
    let _signature = next()?;
    let _issuer = next()?;
    let (tag, validity) = next()?;
    (tag == 0x30).then_some(())?;
    let (t1, v1, rest) = tlv(validity)?;
    let (t2, v2, _) = tlv(rest)?;
    Some((time_of(t1, v1)?, time_of(t2, v2)?))
}

/// One DER tag-length-value: `(tag, value, rest)`.
fn tlv(b: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, b) = b.split_first()?;
    let (&len0, mut b) = b.split_first()?;
    let len = if len0 < 0x80 {
        usize::from(len0)
    } else {
        let n = usize::from(len0 & 0x7f);
        if n == 0 || n > 4 || b.len() < n {
            return None;
        }
        let (digits, rest) = b.split_at(n);
        b = rest;
        digits
            .iter()
            .fold(0usize, |acc, d| (acc << 8) | usize::from(*d))
    };
    (b.len() >= len).then(|| (tag, &b[..len], &b[len..]))
}

/// A UTCTime (`YYMMDDHHMMSSZ`, years 1950–2049) or GeneralizedTime (`YYYYMMDDHHMMSSZ`).
fn time_of(tag: u8, v: &[u8]) -> Option<SystemTime> {
    let s = std::str::from_utf8(v).ok()?.strip_suffix('Z')?;
    let (year, rest) = match (tag, s.len()) {
        (0x17, 12) => {
            let yy: i32 = s.get(..2)?.parse().ok()?;
            (if yy < 50 { 2000 + yy } else { 1900 + yy }, s.get(2..)?)
        }
        (0x18, 14) => (s.get(..4)?.parse().ok()?, s.get(4..)?),
        _ => return None,
    };
    let num = |i: usize| -> Option<u8> { rest.get(i..i + 2)?.parse().ok() };
    let date =
        time::Date::from_calendar_date(year, time::Month::try_from(num(0)?).ok()?, num(2)?).ok()?;
    let t = time::Time::from_hms(num(4)?, num(6)?, num(8)?).ok()?;
    Some(SystemTime::from(
        time::PrimitiveDateTime::new(date, t).assume_utc(),
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn cert(not_before: time::OffsetDateTime, not_after: time::OffsetDateTime) -> String {
        let mut params = rcgen::CertificateParams::new(vec!["exec".into()]).unwrap();
        params.not_before = not_before;
        params.not_after = not_after;
        let key = rcgen::KeyPair::generate().unwrap();
        params.self_signed(&key).unwrap().pem()
    }

    #[test]
    fn reads_utc_and_generalized_validity_times() {
        let nb = time::macros::datetime!(2024-02-29 12:34:56 UTC);
        let na = time::macros::datetime!(2051-01-02 03:04:05 UTC); // GeneralizedTime from 2050
        let (b, a) = validity(cert(nb, na).as_bytes()).unwrap();
        assert_eq!(b, SystemTime::from(nb));
        assert_eq!(a, SystemTime::from(na));
        assert_eq!(validity(b"not a certificate"), None);
        assert_eq!(tlv(&[0x30, 0x85, 1, 1, 1, 1, 1]), None, "length too long");
        assert_eq!(tlv(&[0x30, 0x05, 1]), None, "value cut short");
    }

    #[test]
    fn the_earliest_live_expiry_is_tracked_and_dropped_trackers_leave() {
        // Whole seconds: certificates carry no fractions.
        let now = time::OffsetDateTime::now_utc()
            .replace_nanosecond(0)
            .unwrap();
        let soon = now + time::Duration::days(1);
        let later = soon + time::Duration::days(30);
        let past = now - time::Duration::days(1);
        let mut a = CertTracker::new();
        let mut b = CertTracker::new();
        a.refreshed(Some(&cert(past, later)));
        b.refreshed(Some(&cert(past, soon)));
        let earliest = |ids: [u64; 2]| {
            let m = EXPIRIES.lock_unpoisoned();
            ids.iter().filter_map(|i| m.get(i)).min().copied()
        };
        let ids = [a.id, b.id];
        assert_eq!(earliest(ids), Some(SystemTime::from(soon)));
        drop(b);
        assert_eq!(earliest(ids), Some(SystemTime::from(later)));
        a.refreshed(None);
        assert_eq!(
            earliest(ids),
            None,
            "a token-only credential clears the expiry"
        );
    }
}
