//! The error type of this crate: what a cache, a FIFO, a lister or an informer can refuse.
//!
//! Go returns loose `error` values (`KeyError`, `fmt.Errorf("indexer conflict: ...")`,
//! `apierrors.NewNotFound`, ...) and panics where an index function fails. Here every failure
//! is one [`Error`] variant with context, and index-function failures are returned.

/// A boxed error from user code (a key function or an index function).
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything this crate can fail with.
///
/// Differs from Go: one enum instead of ad-hoc `error` values, and index functions that fail
/// produce [`Error::Index`] instead of a panic inside the store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A key function could not compute a key. Port of `KeyError`. Not retryable.
    #[error("couldn't create key for object: {source}")]
    Key {
        /// What the key function reported.
        #[source]
        source: BoxError,
    },
    /// An index function failed for an object; the store was left unchanged. Not retryable.
    /// Go panics here (`updateSingleIndex`).
    #[error("unable to calculate an index entry for key {key:?} on index {index:?}: {source}")]
    Index {
        /// The index name.
        index: String,
        /// The store key of the object.
        key: String,
        /// What the index function reported.
        #[source]
        source: BoxError,
    },
    /// No indexer is registered under that name. Not retryable.
    #[error("index with name {0} does not exist")]
    IndexNotFound(String),
    /// `add_indexers` was given names that already exist. Not retryable.
    #[error("indexer conflict: {0:?}")]
    IndexerConflict(Vec<String>),
    /// A lister's `get` found nothing. Port of `apierrors.NewNotFound`; see
    /// [`Error::is_not_found`].
    #[error("{resource} {name:?} not found")]
    NotFound {
        /// The resource (plural, with group if any), e.g. `pods`.
        resource: String,
        /// The name looked up.
        name: String,
    },
    /// The informer was already started (or stopped), so the call is refused. Not retryable.
    #[error("informer has already started")]
    AlreadyStarted,
    /// The informer has stopped; no handler can be added. Not retryable.
    #[error("handler was not added to shared informer because it has stopped already")]
    Stopped,
    /// The queue was closed. Port of `ErrFIFOClosed`.
    #[error("DeltaFIFO: manipulating with closed queue")]
    FifoClosed,
    /// A list or watch call failed. Retryable according to the API error's predicates.
    #[error("failed to {verb} {resource}: {source}")]
    Api {
        /// `list` or `watch`.
        verb: &'static str,
        /// What was being listed or watched.
        resource: String,
        /// The client error.
        #[source]
        source: apimachinery::Error,
    },
}

impl Error {
    /// True for [`Error::NotFound`]. Port of `apierrors.IsNotFound` on a lister's error.
    #[doc(alias = "IsNotFound")]
    pub fn is_not_found(&self) -> bool {
        match self {
            Error::NotFound { .. } => true,
            Error::Api { source, .. } => source.is_not_found(),
            _ => false,
        }
    }
}
