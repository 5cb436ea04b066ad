//! The HTTP types of apiclient's public API, re-exported so callers name them through
//! apiclient (`apiclient::http::Method`) and need not depend on the same HTTP client crate
//! version. Port of the `net/http` and `net/url` types client-go's API takes (`http.Method*`
//! strings such as `http.MethodGet`, `*url.URL`, `http.Header`, status codes).
//!
//! Differs from Go: the types come from the HTTP client this crate uses (reqwest, itself
//! re-exporting the `http` and `url` crates); they change only with a major version of
//! apiclient.

/// An HTTP method. Port of Go's `http.Method*` strings, as taken by rest.RESTClient.Verb.
pub use reqwest::Method;
/// An HTTP status code.
pub use reqwest::StatusCode;
/// A URL. Port of Go's `url.URL`, as returned by rest.Request.URL.
pub use reqwest::Url;
/// Header names and values. Port of Go's `http.Header`.
pub use reqwest::header;
