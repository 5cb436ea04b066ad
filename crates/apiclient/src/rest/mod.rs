//! Port of client-go `rest/`: the REST client ([`RestClient`]), its request builder
//! ([`Request`]), the retry rules ([`with_retry`]), watch decoding ([`watch`]) and TLS setup.
//!
//! Data flow: `RestClient::new(&config)` → `client.get().group_version("", "v1")
//! .namespace("default").resource("pods").into_json::<List<T>>()` → throttle → send → retry →
//! decode.

pub mod client;
pub mod content;
pub(crate) mod list_stream;
pub(crate) mod list_stream_protobuf;
pub mod request;
pub(crate) mod server_name;
pub mod tls;
pub mod watch;
pub mod with_retry;

pub use client::RestClient;
pub use content::{ContentConfig, ProtobufTarget};
pub use request::Request;
pub use watch::WatchStream;
