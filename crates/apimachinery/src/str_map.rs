//! [`StrMap`]: the map type of API objects (`map[string]string` labels and annotations,
//! `map[string]resource.Quantity` requests and limits, ConfigMap data, …).
//!
//! No single Go counterpart: Go uses its built-in hash map. Object maps are small (a pod's
//! labels hold about five entries) and read far more often than written, so here a map is one
//! exact-size, key-sorted boxed slice of `(Str, V)` pairs: 16 bytes for the handle (also for
//! `Option<StrMap>`), 16 bytes per string entry, no per-node or per-bucket overhead. Lookups are
//! binary searches; inserts and removes rebuild the slice, which is fine for maps of this size.
//!
//! Invariant: keys are strictly increasing (sorted, no duplicates). Decoding a JSON object
//! with a repeated key keeps the last value, as Go's `encoding/json` does.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::Str;

/// A compact map from `Str` keys to `V`, sorted by key. `StrMap` alone maps strings to strings.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct StrMap<V = Str> {
    /// Sorted by key, keys unique.
    entries: Box<[(Str, V)]>,
}

impl<V> Default for StrMap<V> {
    fn default() -> Self {
        StrMap {
            entries: Box::new([]),
        }
    }
}

impl<V> StrMap<V> {
    /// An empty map (no allocation).
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn find(&self, key: &str) -> Result<usize, usize> {
        self.entries.binary_search_by(|(k, _)| k.as_str().cmp(key))
    }

    /// The value under `key`.
    pub fn get(&self, key: &str) -> Option<&V> {
        self.find(key).ok().map(|i| &self.entries[i].1)
    }

    /// The value under `key`, mutably.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut V> {
        self.find(key).ok().map(|i| &mut self.entries[i].1)
    }

    /// True when `key` has a value.
    pub fn contains_key(&self, key: &str) -> bool {
        self.find(key).is_ok()
    }

    /// Sets `key` to `value`, returning the previous value.
    pub fn insert(&mut self, key: impl Into<Str>, value: V) -> Option<V> {
        let key = key.into();
        match self.find(&key) {
            Ok(i) => Some(std::mem::replace(&mut self.entries[i].1, value)),
            Err(i) => {
                let mut v = std::mem::take(&mut self.entries).into_vec();
                v.insert(i, (key, value));
                self.entries = v.into_boxed_slice();
                None
            }
        }
    }

    /// Removes `key`, returning its value.
    pub fn remove(&mut self, key: &str) -> Option<V> {
        let i = self.find(key).ok()?;
        let mut v = std::mem::take(&mut self.entries).into_vec();
        let (_, value) = v.remove(i);
        self.entries = v.into_boxed_slice();
        Some(value)
    }

    /// Entries in key order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &V)> + '_ {
        self.entries.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Keys in order.
    pub fn keys(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.entries.iter().map(|(k, _)| k.as_str())
    }

    /// Values in key order.
    pub fn values(&self) -> impl ExactSizeIterator<Item = &V> + '_ {
        self.entries.iter().map(|(_, v)| v)
    }

    /// The entries as a sorted slice.
    pub fn as_slice(&self) -> &[(Str, V)] {
        &self.entries
    }

    /// Builds the map from pairs in any order; a repeated key keeps its last value.
    pub(crate) fn from_vec(mut v: Vec<(Str, V)>) -> Self {
        // Go's encoders write map keys sorted, so the usual input needs no work at all.
        if v.windows(2).all(|w| w[0].0 < w[1].0) {
            return StrMap {
                entries: v.into_boxed_slice(),
            };
        }
        // A stable sort keeps repeated keys in input order, so the last one is last.
        v.sort_by(|a, b| a.0.cmp(&b.0));
        let mut out: Vec<(Str, V)> = Vec::with_capacity(v.len());
        for (k, val) in v {
            match out.last_mut() {
                Some(last) if last.0 == k => last.1 = val,
                _ => out.push((k, val)),
            }
        }
        StrMap {
            entries: out.into_boxed_slice(),
        }
    }
}

impl<K: Into<Str>, V> FromIterator<(K, V)> for StrMap<V> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Self::from_vec(iter.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }
}

impl<K: Into<Str>, V: Into<Str>, const N: usize> From<[(K, V); N]> for StrMap {
    /// `StrMap::from([("app", "web")])`, as `BTreeMap::from` builds a map.
    fn from(pairs: [(K, V); N]) -> Self {
        pairs.into_iter().map(|(k, v)| (k, v.into())).collect()
    }
}

impl<'a, V> IntoIterator for &'a StrMap<V> {
    type Item = (&'a str, &'a V);
    type IntoIter =
        std::iter::Map<std::slice::Iter<'a, (Str, V)>, fn(&'a (Str, V)) -> (&'a str, &'a V)>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter().map(|(k, v)| (k.as_str(), v))
    }
}

impl<V> std::ops::Index<&str> for StrMap<V> {
    type Output = V;
    /// # Panics
    /// When `key` is absent, as `BTreeMap`'s indexing does.
    fn index(&self, key: &str) -> &V {
        match self.get(key) {
            Some(v) => v,
            None => panic!("no entry for key {key:?} in StrMap"),
        }
    }
}

impl<V: fmt::Debug> fmt::Debug for StrMap<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<V: Serialize> Serialize for StrMap<V> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.len()))?;
        for (k, v) in self.iter() {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for StrMap<V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Vis<V>(PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for Vis<V> {
            type Value = StrMap<V>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<StrMap<V>, A::Error> {
                // Small maps are the rule: a stack-sized start avoids regrowth for most.
                let mut v = Vec::with_capacity(map.size_hint().unwrap_or(8).min(64));
                while let Some((k, val)) = map.next_entry::<Str, V>()? {
                    v.push((k, val));
                }
                Ok(StrMap::from_vec(v))
            }
        }
        d.deserialize_map(Vis(PhantomData))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn keys_come_out_sorted_and_a_repeated_key_keeps_its_last_value() {
        let m: StrMap = serde_json::from_str(r#"{"b":"1","a":"2","b":"3"}"#).unwrap();
        assert_eq!(m.keys().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(m.get("b").map(Str::as_str), Some("3"));
        assert_eq!(serde_json::to_string(&m).unwrap(), r#"{"a":"2","b":"3"}"#);
    }

    #[test]
    fn insert_and_remove_keep_the_order() {
        let mut m = StrMap::new();
        assert_eq!(m.insert("z", 1), None);
        assert_eq!(m.insert("a", 2), None);
        assert_eq!(m.insert("m", 3), None);
        assert_eq!(m.insert("a", 4), Some(2));
        assert_eq!(m.keys().collect::<Vec<_>>(), ["a", "m", "z"]);
        assert_eq!(m.remove("m"), Some(3));
        assert_eq!(m.remove("m"), None);
        assert_eq!(m.len(), 2);
        assert!(m.contains_key("z") && !m.contains_key("m"));
    }

    #[test]
    fn the_handle_is_two_words_with_or_without_option() {
        assert_eq!(size_of::<StrMap>(), 16);
        assert_eq!(size_of::<Option<StrMap>>(), 16);
    }
}
