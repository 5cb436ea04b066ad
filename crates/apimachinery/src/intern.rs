//! [`Str`]: the string type of every API object field, shared across objects.
//!
//! No Go counterpart: Go gives each decoded object its own copy of every string. Across
//! 10,000 pods of a cluster only three strings per pod are unique (name, uid,
//! resourceVersion); the other ~90 (image, labels, ports' protocol, `IfNotPresent`, …) repeat
//! from pod to pod. Here decoding looks each string up in a process-wide table and keeps a
//! reference to the one shared copy, so a cache of many similar objects holds each distinct
//! string once.
//!
//! Data flow: serde hands a decoded `&str` to [`Str::deserialize`] → [`intern`] hashes it and
//! looks it up in one of [`SHARDS`] mutex-guarded sets → a hit clones the shared `ArcStr`
//! (one atomic increment), a miss allocates it and inserts it. A `Str` is 8 bytes (a thin
//! pointer); `Option<Str>` is 8 bytes too.
//!
//! Invariant: the table never changes a value: a `Str` always reads as the bytes it was made
//! from, whoever else shares it (tested with eight threads decoding pods at once in
//! `crates/api/tests/sharing.rs`). The table keeps a string alive only while some object does:
//! when a shard has doubled since its last sweep, the insert that finds it so drops every entry
//! nobody else holds, so the table stays within about twice the live distinct strings, and
//! amortised sweeping costs O(1) per insert.
//!
//! Strings unique by nature (an object's name, uid and resourceVersion) skip the table
//! ([`Str::unshared`]): an entry would cost memory and a lock and never be shared.

use std::borrow::Borrow;
use std::collections::HashSet;
use std::fmt;
use std::hash::{BuildHasher, Hash};
use std::ops::Deref;
use std::sync::{LazyLock, Mutex, PoisonError};

use arcstr::ArcStr;
use serde::de::{self, Deserialize, Deserializer, Visitor};
use serde::{Serialize, Serializer};

/// An immutable, shared string: what Go's `string` fields are in this crate's types.
///
/// Reads like a `&str` (it derefs to one); equal strings made by decoding share one
/// allocation. Cloning is an atomic increment. Differs from Go: immutable, so changing a field
/// means assigning a new `Str` (`meta.name = Some("web".into())`).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Str(ArcStr);

/// Number of independently locked parts of the table; decoding threads rarely contend.
const SHARDS: usize = 16;

/// A shard below this size is never swept.
const MIN_SWEEP: usize = 1024;

struct Shard {
    set: HashSet<ArcStr, foldhash::fast::FixedState>,
    /// Size after the last sweep; the next sweep runs at twice this.
    swept_at: usize,
}

struct Table {
    hasher: foldhash::fast::FixedState,
    shards: [Mutex<Shard>; SHARDS],
}

static TABLE: LazyLock<Table> = LazyLock::new(|| Table {
    hasher: foldhash::fast::FixedState::with_seed(0x6b38),
    shards: std::array::from_fn(|_| {
        Mutex::new(Shard {
            set: HashSet::with_hasher(foldhash::fast::FixedState::with_seed(0x6b38)),
            swept_at: 0,
        })
    }),
});

/// Returns the shared copy of `s`, adding it to the table if it is new. The empty string is
/// a static and never enters the table.
pub fn intern(s: &str) -> Str {
    if s.is_empty() {
        return Str::default();
    }
    let table = &*TABLE;
    let h = table.hasher.hash_one(s);
    // A hit in this thread's recent strings skips the shard's lock and probe.
    let slot = (h as usize) % RECENT_SLOTS;
    if let Ok(Some(hit)) = RECENT.try_with(|r| match &r.borrow()[slot] {
        Some((rh, rs)) if *rh == h && rs.as_str() == s => Some(Str(rs.clone())),
        _ => None,
    }) {
        return hit;
    }
    let found = intern_in_table(table, h, s);
    let _ = RECENT.try_with(|r| r.borrow_mut()[slot] = Some((h, found.0.clone())));
    found
}

/// Slots of the per-thread cache of recently interned strings.
const RECENT_SLOTS: usize = 256;

thread_local! {
    /// This thread's recently interned strings, by hash: a direct-mapped cache in front of
    /// the table. Each slot holds a reference, so a cached string is never swept while cached;
    /// that keeps at most [`RECENT_SLOTS`] strings per thread alive beyond their objects.
    static RECENT: std::cell::RefCell<[Option<(u64, ArcStr)>; RECENT_SLOTS]> =
        const { std::cell::RefCell::new([const { None }; RECENT_SLOTS]) };
}

fn intern_in_table(table: &Table, h: u64, s: &str) -> Str {
    // The high bits pick the shard; the set rehashes with the same hasher for its buckets.
    let shard = &table.shards[(h >> 60) as usize % SHARDS];
    // A poisoned shard only means another thread panicked mid-insert; the set is still valid.
    let mut g = shard.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(hit) = g.set.get(s) {
        return Str(hit.clone());
    }
    let new = ArcStr::from(s);
    if g.set.len() >= MIN_SWEEP.max(g.swept_at * 2) {
        // Entries only the table holds have a strong count of 1.
        g.set
            .retain(|e| ArcStr::strong_count(e).is_none_or(|c| c > 1));
        g.swept_at = g.set.len();
        // A sweep walks every bucket, so give back the room a burst left behind.
        let keep = (2 * g.swept_at).max(MIN_SWEEP);
        if g.set.capacity() > 4 * keep {
            g.set.shrink_to(keep);
        }
    }
    g.set.insert(new.clone());
    Str(new)
}

/// Number of strings the table holds and the bytes of their text: what sharing costs.
/// Used by benchmarks that count everything a cache keeps alive.
pub fn table_stats() -> (usize, usize) {
    TABLE.shards.iter().fold((0, 0), |(n, b), s| {
        let g = s.lock().unwrap_or_else(PoisonError::into_inner);
        (
            n + g.set.len(),
            b + g.set.iter().map(|e| e.len()).sum::<usize>(),
        )
    })
}

impl Str {
    /// The shared copy of `s` (interned).
    pub fn new(s: &str) -> Str {
        intern(s)
    }

    /// A copy of `s` that is not shared through the table: for strings that are unique by
    /// nature (an object's name, uid and resourceVersion), where a table entry would cost
    /// memory and a lock without ever being shared.
    pub fn unshared(s: &str) -> Str {
        if s.is_empty() {
            return Str::default();
        }
        Str(ArcStr::from(s))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Deref for Str {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Str {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for Str {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Str {
    fn from(s: &str) -> Str {
        intern(s)
    }
}

impl From<&String> for Str {
    fn from(s: &String) -> Str {
        intern(s)
    }
}

impl From<String> for Str {
    fn from(s: String) -> Str {
        intern(&s)
    }
}

impl From<&Str> for Str {
    fn from(s: &Str) -> Str {
        s.clone()
    }
}

impl From<Str> for String {
    fn from(s: Str) -> String {
        s.0.as_str().to_owned()
    }
}

impl PartialEq<str> for Str {
    fn eq(&self, other: &str) -> bool {
        self.0.as_str() == other
    }
}

impl PartialEq<&str> for Str {
    fn eq(&self, other: &&str) -> bool {
        self.0.as_str() == *other
    }
}

impl PartialEq<String> for Str {
    fn eq(&self, other: &String) -> bool {
        self.0.as_str() == other.as_str()
    }
}

impl PartialEq<Str> for str {
    fn eq(&self, other: &Str) -> bool {
        self == other.0.as_str()
    }
}

impl PartialEq<Str> for &str {
    fn eq(&self, other: &Str) -> bool {
        *self == other.0.as_str()
    }
}

impl fmt::Debug for Str {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.0.as_str(), f)
    }
}

impl fmt::Display for Str {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Str {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Str {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Str, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Str;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Str, E> {
                Ok(intern(s))
            }
        }
        d.deserialize_str(V)
    }
}

/// Decodes an optional string without sharing it (see [`Str::unshared`]); for
/// `#[serde(deserialize_with = "...")]` on fields whose values are unique per object.
pub fn opt_unshared<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Str>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Option<Str>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string or null")
        }
        fn visit_str<E: de::Error>(self, s: &str) -> Result<Option<Str>, E> {
            Ok(Some(Str::unshared(s)))
        }
        fn visit_none<E: de::Error>(self) -> Result<Option<Str>, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Option<Str>, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Option<Str>, D::Error> {
            d.deserialize_str(self)
        }
    }
    d.deserialize_option(V)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn equal_strings_share_one_allocation() {
        let a = Str::from("registry.example/main:1.2-shared-test");
        let b: Str = serde_json::from_str("\"registry.example/main:1.2-shared-test\"").unwrap();
        assert_eq!(a, b);
        assert!(std::ptr::eq(a.as_str().as_ptr(), b.as_str().as_ptr()));
    }

    #[test]
    fn unshared_strings_stay_out_of_the_table() {
        let a = Str::unshared("unshared-test-uid-0001");
        let b = Str::unshared("unshared-test-uid-0001");
        assert_eq!(a, b);
        assert!(!std::ptr::eq(a.as_str().as_ptr(), b.as_str().as_ptr()));
        let m: Option<Str> =
            opt_unshared(&mut serde_json::Deserializer::from_str("\"x-1\"")).unwrap();
        assert_eq!(m.as_deref(), Some("x-1"));
        let n: Option<Str> = opt_unshared(&mut serde_json::Deserializer::from_str("null")).unwrap();
        assert_eq!(n, None);
    }

    #[test]
    fn a_set_of_strs_is_queried_with_a_plain_str() {
        // Borrow<str> requires Str to hash and compare as its text does.
        let set: std::collections::HashSet<Str> =
            ["web", "api"].into_iter().map(Str::from).collect();
        assert!(set.contains("web") && !set.contains("db"));
    }

    #[test]
    fn a_str_is_one_pointer_and_its_option_too() {
        assert_eq!(size_of::<Str>(), 8);
        assert_eq!(size_of::<Option<Str>>(), 8);
    }

    #[test]
    fn strings_nobody_holds_are_swept_once_a_shard_doubles() {
        // Fill well past the sweep threshold with strings dropped at once.
        for i in 0..(SHARDS * MIN_SWEEP * 4) {
            drop(intern(&format!("sweep-test-{i}")));
        }
        let kept = Str::from("sweep-test-kept");
        for i in 0..(SHARDS * MIN_SWEEP * 4) {
            drop(intern(&format!("sweep-test-b-{i}")));
        }
        let (n, _) = table_stats();
        // Without sweeping the table would hold 2 × 4 × SHARDS × MIN_SWEEP entries.
        assert!(n < SHARDS * MIN_SWEEP * 4, "table holds {n}");
        assert_eq!(kept, "sweep-test-kept");
    }

    #[test]
    fn the_empty_string_is_never_in_the_table() {
        assert_eq!(Str::default(), "");
        assert_eq!(Str::from(""), Str::default());
    }
}
