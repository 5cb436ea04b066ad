//! Port of client-go `rest/config.go: ContentConfig` and the content negotiation of
//! `rest/client.go` (`ClientContentConfig`, the `Accept` header) and `rest/request.go`
//! (`transformResponse` picking a decoder by the response's `Content-Type`).
//!
//! Data flow: a [`ContentConfig`] on [`crate::Config`] (or on one typed client) says what a
//! request body is encoded in and what `Accept` asks for. A typed client whose type has a
//! protobuf form ([`crate::meta::Resource::protobuf`]) builds a [`ProtobufTarget`] and, when
//! its content type is protobuf, sends `Accept` from the config and protobuf bodies; the
//! response is decoded by its own `Content-Type`, so a server that answers JSON anyway still
//! works. Types without a protobuf form (custom resources, the dynamic and metadata clients)
//! always ask for and send JSON, as in Go.

use std::sync::Arc;

use apimachinery::runtime::protobuf::{self as pb, ProtobufCodec};

use crate::error::{Error, Result};
use crate::meta::Resource;

/// JSON's media type. Go: `runtime.ContentTypeJSON`.
pub const CONTENT_TYPE_JSON: &str = "application/json";

/// Protobuf's media type. Go: `runtime.ContentTypeProtobuf`.
pub const CONTENT_TYPE_PROTOBUF: &str = pb::CONTENT_TYPE;

/// What a client sends and asks for. Port of `rest.ContentConfig`.
///
/// The default is client-go's: JSON both ways. [`ContentConfig::protobuf`] is what
/// kube-controller-manager, kube-scheduler and kubectl set, and what this workspace's informer
/// factory and pod controller use.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ContentConfig {
    /// The `Accept` header, e.g. `application/vnd.kubernetes.protobuf,application/json`;
    /// empty means `content_type`. Go: `AcceptContentTypes`.
    pub accept_content_types: String,
    /// The media type of request bodies and the preferred answer; empty means JSON.
    /// Go: `ContentType`.
    pub content_type: String,
}

impl ContentConfig {
    /// Protobuf for built-in types with JSON as the fallback in `Accept`, as
    /// kube-controller-manager configures its clients.
    pub fn protobuf() -> Self {
        ContentConfig {
            accept_content_types: format!("{CONTENT_TYPE_PROTOBUF},{CONTENT_TYPE_JSON}"),
            content_type: CONTENT_TYPE_PROTOBUF.to_owned(),
        }
    }

    /// True when bodies are sent (and answers preferred) in protobuf.
    pub fn is_protobuf(&self) -> bool {
        media_type(&self.content_type) == CONTENT_TYPE_PROTOBUF
    }

    /// The `Accept` header. Go: `AcceptContentTypes`, defaulting to `ContentType`.
    pub fn accept(&self) -> &str {
        if !self.accept_content_types.is_empty() {
            &self.accept_content_types
        } else if !self.content_type.is_empty() {
            &self.content_type
        } else {
            CONTENT_TYPE_JSON
        }
    }

    /// Checks the media types. Go refuses unknown ones when it builds serializers
    /// (`rest.RESTClientFor`: "no serializers registered for ...").
    pub fn validate(&self) -> Result<()> {
        for t in std::iter::once(self.content_type.as_str())
            .chain(self.accept_content_types.split(','))
            .map(media_type)
            .filter(|t| !t.is_empty())
        {
            if t != CONTENT_TYPE_JSON && t != CONTENT_TYPE_PROTOBUF && t != "*/*" {
                return Err(Error::config(
                    None,
                    "content_type",
                    format!("no serializer for media type {t:?} (use JSON or protobuf)"),
                ));
            }
        }
        Ok(())
    }
}

/// The media type without parameters, lowercased-insensitive compare left to callers.
pub(crate) fn media_type(header: &str) -> &str {
    header.split(';').next().unwrap_or("").trim()
}

/// True if a response `Content-Type` is protobuf (object or watch stream).
pub(crate) fn is_protobuf_response(content_type: Option<&str>) -> bool {
    content_type
        .map(media_type)
        .is_some_and(|t| t.eq_ignore_ascii_case(CONTENT_TYPE_PROTOBUF))
}

/// The protobuf side of a typed client: the type's codec and the names its envelopes carry.
pub struct ProtobufTarget<T> {
    pub(crate) codec: ProtobufCodec<T>,
    names: Arc<(String, String, String)>,
}

impl<T> Clone for ProtobufTarget<T> {
    fn clone(&self) -> Self {
        ProtobufTarget {
            codec: self.codec,
            names: self.names.clone(),
        }
    }
}

impl<T> std::fmt::Debug for ProtobufTarget<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProtobufTarget")
            .field("api_version", &self.names.0)
            .field("kind", &self.names.1)
            .finish()
    }
}

impl<T: Resource> ProtobufTarget<T> {
    /// The target of a built-in type; `None` for a type without a protobuf form.
    pub fn of() -> Option<Self> {
        let codec = T::protobuf()?;
        let api_version = if T::GROUP.is_empty() {
            T::VERSION.to_owned()
        } else {
            format!("{}/{}", T::GROUP, T::VERSION)
        };
        Some(ProtobufTarget {
            codec,
            names: Arc::new((api_version, T::KIND.to_owned(), format!("{}List", T::KIND))),
        })
    }
}

impl<T> ProtobufTarget<T> {
    /// (apiVersion, kind) of one object.
    pub(crate) fn object(&self) -> (&str, &str) {
        (&self.names.0, &self.names.1)
    }

    /// (apiVersion, kind) of a list.
    pub(crate) fn list(&self) -> (&str, &str) {
        (&self.names.0, &self.names.2)
    }

    /// Encodes a request body.
    pub(crate) fn encode(&self, obj: &T) -> Vec<u8> {
        self.codec.encode_object(obj, &self.names.0, &self.names.1)
    }

    /// Decodes one object body.
    pub(crate) fn decode(&self, body: &[u8], strip: bool, context: &str) -> Result<T> {
        pb::decode_envelope(body)
            .and_then(|u| self.codec.decode_unknown(&u, self.object(), strip))
            .map_err(|e| Error::decode_protobuf(context, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_defaults_to_the_content_type_then_json() {
        assert_eq!(ContentConfig::default().accept(), "application/json");
        let c = ContentConfig {
            content_type: CONTENT_TYPE_PROTOBUF.into(),
            ..Default::default()
        };
        assert_eq!(c.accept(), CONTENT_TYPE_PROTOBUF);
        assert!(c.is_protobuf());
        assert_eq!(
            ContentConfig::protobuf().accept(),
            "application/vnd.kubernetes.protobuf,application/json"
        );
    }

    #[test]
    fn an_unknown_media_type_is_refused() {
        let c = ContentConfig {
            content_type: "application/yaml".into(),
            ..Default::default()
        };
        assert!(matches!(c.validate(), Err(Error::Config(_))));
        assert!(ContentConfig::protobuf().validate().is_ok());
    }

    #[test]
    fn watch_content_type_is_protobuf() {
        assert!(is_protobuf_response(Some(
            "application/vnd.kubernetes.protobuf;stream=watch"
        )));
        assert!(!is_protobuf_response(Some("application/json")));
        assert!(!is_protobuf_response(None));
    }
}
