//! Port of the change types of tools/cache/delta_fifo.go: [`Delta`], [`DeltaType`], [`Deltas`],
//! [`DeletedFinalStateUnknown`] and its typed "either", [`ObjectOrTombstone`].
//!
//! Data flow: a FIFO ([`crate::DeltaFifo`] or [`crate::RealFifo`]) turns each reflector call
//! into a [`Delta`]; the informer's loop pops [`Deltas`] and applies them to the cache
//! ([`crate::process_deltas`]); a `Deleted` delta carries either the object's final state or a
//! [`DeletedFinalStateUnknown`] tombstone, which is what `on_delete` receives.
//!
//! These types sit at the bottom of the crate's module graph: they depend on nothing but
//! [`crate::error`], so the FIFOs, the store and the handlers can all use them without a cycle.
//!
//! ```
//! use std::sync::Arc;
//! use informer::{Delta, DeltaType, DeletedFinalStateUnknown, ObjectOrTombstone};
//! let gone: Delta<apimachinery::ObjectMeta> = Delta::Deleted(ObjectOrTombstone::Tombstone(
//!     DeletedFinalStateUnknown { key: "ns/web".into(), obj: None },
//! ));
//! assert_eq!(gone.kind(), DeltaType::Deleted);
//! let key_func = informer::store::default_key_func();
//! assert_eq!(gone.key(&key_func)?, "ns/web");
//! # Ok::<(), informer::Error>(())
//! ```

use std::sync::Arc;

use crate::error::{BoxError, Error, Result};

/// A key function as a trait object. `Arc<DynKeyFunc<K>>` is the same type as
/// [`KeyFunc<K>`](crate::store::KeyFunc); spelling it here keeps this module free of
/// [`crate::store`].
pub type DynKeyFunc<K> = dyn Fn(&K) -> Result<String, BoxError> + Send + Sync;

/// An object whose deletion was noticed by a relist rather than a watch event, so its final
/// state is unknown: `obj` is the last state the client knew (possibly stale, possibly none).
/// Port of `DeletedFinalStateUnknown`.
#[doc(alias = "tombstone")]
#[derive(Debug)]
pub struct DeletedFinalStateUnknown<K> {
    /// The store key of the deleted object.
    pub key: String,
    /// The last known state, if any.
    pub obj: Option<Arc<K>>,
}

impl<K> Clone for DeletedFinalStateUnknown<K> {
    fn clone(&self) -> Self {
        DeletedFinalStateUnknown {
            key: self.key.clone(),
            obj: self.obj.clone(),
        }
    }
}

/// What `on_delete` receives, and what a `Deleted` delta holds: the final object, or a
/// tombstone. Port of Go's `interface{}` that is either an object or a
/// `DeletedFinalStateUnknown`; here the "either" is a type.
#[derive(Debug)]
pub enum ObjectOrTombstone<K> {
    /// The object's final state, from a watch `DELETED` event.
    Object(Arc<K>),
    /// A deletion detected by a relist.
    Tombstone(DeletedFinalStateUnknown<K>),
}

impl<K> Clone for ObjectOrTombstone<K> {
    fn clone(&self) -> Self {
        match self {
            ObjectOrTombstone::Object(o) => ObjectOrTombstone::Object(o.clone()),
            ObjectOrTombstone::Tombstone(t) => ObjectOrTombstone::Tombstone(t.clone()),
        }
    }
}

impl<K> ObjectOrTombstone<K> {
    /// The object, or the tombstone's last known object.
    pub fn object(&self) -> Option<&Arc<K>> {
        match self {
            ObjectOrTombstone::Object(o) => Some(o),
            ObjectOrTombstone::Tombstone(t) => t.obj.as_ref(),
        }
    }

    /// True for a tombstone.
    pub fn is_tombstone(&self) -> bool {
        matches!(self, ObjectOrTombstone::Tombstone(_))
    }
}

/// The kind of a change. Port of `DeltaType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DeltaType {
    /// From a watch `ADDED` event.
    Added,
    /// From a watch `MODIFIED` event.
    Updated,
    /// From a watch `DELETED` event, or a deletion found by a relist.
    Deleted,
    /// From a relist: the object is present; it may or may not have changed.
    Replaced,
    /// From a periodic resync: the cached object, re-delivered.
    Sync,
}

/// One change to one object, with the object's state after it (its last state for a
/// deletion). Port of `Delta`.
///
/// Differs from Go: an enum, so only `Deleted` can carry a tombstone.
#[derive(Debug)]
pub enum Delta<K> {
    /// See [`DeltaType::Added`].
    Added(Arc<K>),
    /// See [`DeltaType::Updated`].
    Updated(Arc<K>),
    /// See [`DeltaType::Deleted`].
    Deleted(ObjectOrTombstone<K>),
    /// See [`DeltaType::Replaced`].
    Replaced(Arc<K>),
    /// See [`DeltaType::Sync`].
    Sync(Arc<K>),
}

impl<K> Clone for Delta<K> {
    fn clone(&self) -> Self {
        match self {
            Delta::Added(o) => Delta::Added(o.clone()),
            Delta::Updated(o) => Delta::Updated(o.clone()),
            Delta::Deleted(o) => Delta::Deleted(o.clone()),
            Delta::Replaced(o) => Delta::Replaced(o.clone()),
            Delta::Sync(o) => Delta::Sync(o.clone()),
        }
    }
}

impl<K> Delta<K> {
    /// The kind of change.
    pub fn kind(&self) -> DeltaType {
        match self {
            Delta::Added(_) => DeltaType::Added,
            Delta::Updated(_) => DeltaType::Updated,
            Delta::Deleted(_) => DeltaType::Deleted,
            Delta::Replaced(_) => DeltaType::Replaced,
            Delta::Sync(_) => DeltaType::Sync,
        }
    }

    /// The object (a tombstone's last known object for a relist deletion).
    pub fn object(&self) -> Option<&Arc<K>> {
        match self {
            Delta::Added(o) | Delta::Updated(o) | Delta::Replaced(o) | Delta::Sync(o) => Some(o),
            Delta::Deleted(d) => d.object(),
        }
    }

    /// The key of this delta's object: a tombstone's recorded key, else `key_func`.
    ///
    /// `key_func` is a [`KeyFunc`](crate::store::KeyFunc).
    pub fn key(&self, key_func: &Arc<DynKeyFunc<K>>) -> Result<String> {
        match self {
            Delta::Deleted(ObjectOrTombstone::Tombstone(t)) => Ok(t.key.clone()),
            Delta::Added(o)
            | Delta::Updated(o)
            | Delta::Replaced(o)
            | Delta::Sync(o)
            | Delta::Deleted(ObjectOrTombstone::Object(o)) => {
                key_func(o).map_err(|source| Error::Key { source })
            }
        }
    }
}

/// The changes to one object, oldest first. Port of `Deltas` (`Oldest()`/`Newest()` are
/// `first()`/`last()`).
pub type Deltas<K> = Vec<Delta<K>>;
