//! Content negotiation: which encoding a response is written in (`Accept`), and which request
//! bodies are decoded (`Content-Type`).
//!
//! Port of apiserver `endpoints/handlers/negotiation/negotiate.go` (`NegotiateMediaTypeOptions`,
//! `acceptMediaTypeOptions`, `NegotiateInputSerializerForMediaType`) with the clause parsing of
//! `goautoneg.ParseAccept`.
//!
//! Data flow: `api` asks [`output`] once per resource request, passing whether the resource's
//! kind has a protobuf form (built-in kinds the scheme knows; never custom resources). The
//! `Accept` clauses are taken in order of preference (`q`, then specificity, then as written);
//! the first one the server can serve wins:
//!
//! - `application/json` (or `application/*`, `*/*`) → [`Format::Json`]; with
//!   `as=Table;g=meta.k8s.io` → [`Format::Table`].
//! - `application/vnd.kubernetes.protobuf` → [`Format::Protobuf`], only if the kind has a
//!   protobuf form. Otherwise the clause does not match, so `protobuf,json` falls back to JSON
//!   and protobuf alone gets 406 NotAcceptable, as kube-apiserver answers for a custom resource.
//! - A clause asking for a conversion the server does not do (`as=PartialObjectMetadata`, a
//!   Table in protobuf), a stream other than `watch`, or a server version (`sv=`) is skipped.
//!
//! No `Accept` header means JSON. A 406 itself is written as JSON (Go's
//! `WriteObjectNegotiated` falls back to raw JSON when negotiation fails).
//!
//! Differs from Go: `application/yaml` is accepted but answered in JSON (which is YAML), since
//! the server does not write YAML.

use apimachinery::runtime::protobuf::CONTENT_TYPE as PROTOBUF;

use crate::status::ApiError;

/// The JSON media type.
pub(crate) const JSON: &str = "application/json";
/// The YAML media type (accepted, answered in JSON).
const YAML: &str = "application/yaml";

/// How a response body is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    /// `application/json`.
    Json,
    /// `application/vnd.kubernetes.protobuf` (`;stream=watch` for watches).
    Protobuf,
    /// A `meta.k8s.io` Table, in JSON.
    Table,
}

impl Format {
    /// The encoding of a `Status` error under this format: Tables are not made of errors.
    pub fn for_errors(self) -> Format {
        match self {
            Format::Table => Format::Json,
            other => other,
        }
    }
}

/// One `Accept` clause. Port of `goautoneg.Accept`.
#[derive(Debug)]
struct Clause<'a> {
    ty: &'a str,
    sub: &'a str,
    q: f64,
    params: Vec<(&'a str, &'a str)>,
}

impl Clause<'_> {
    fn param(&self, key: &str) -> Option<&str> {
        self.params.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
    }

    /// Wildcards count: 0 for `*/*`, 1 for `type/*`, 2 for `type/subtype`.
    fn specificity(&self) -> u8 {
        u8::from(self.ty != "*") + u8::from(self.sub != "*")
    }

    fn matches(&self, media: &str) -> bool {
        let (ty, sub) = media.split_once('/').unwrap_or((media, "*"));
        (self.ty == ty && (self.sub == sub || self.sub == "*"))
            || (self.ty == "*" && self.sub == "*")
    }
}

/// Parses an `Accept` header into clauses, most preferred first. Port of
/// `goautoneg.ParseAccept`: higher `q` first, then more specific, then in written order.
fn parse_accept(header: &str) -> Vec<Clause<'_>> {
    let mut clauses: Vec<Clause<'_>> = header
        .split(',')
        .filter_map(|part| {
            let mut pieces = part.split(';').map(str::trim);
            let media = pieces.next().filter(|m| !m.is_empty())?;
            let (ty, sub) = match media.split_once('/') {
                Some((t, s)) => (t.trim(), s.trim()),
                None if media == "*" => ("*", "*"),
                None => return None,
            };
            let mut clause = Clause {
                ty,
                sub,
                q: 1.0,
                params: Vec::new(),
            };
            for param in pieces {
                let (k, v) = param.split_once('=').unwrap_or((param, ""));
                let (k, v) = (k.trim(), v.trim().trim_matches('"'));
                if k == "q" {
                    clause.q = v.parse().unwrap_or(0.0);
                } else if !k.is_empty() {
                    clause.params.push((k, v));
                }
            }
            Some(clause)
        })
        .collect();
    // A stable sort keeps the written order among equals.
    clauses.sort_by(|a, b| {
        b.q.partial_cmp(&a.q)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(b.specificity().cmp(&a.specificity()))
    });
    clauses
}

/// What a clause asks of `media`, if the server can serve it. Port of
/// `acceptMediaTypeOptions` with the resource handler's `EndpointRestrictions`: Table is the
/// only conversion, in JSON only; `stream` must be `watch` (YAML has no stream form); `sv` is
/// never allowed.
fn accept_options(clause: &Clause<'_>, media: &str) -> Option<Format> {
    if clause.param("sv").is_some_and(|v| !v.is_empty()) {
        return None;
    }
    if let Some(stream) = clause.param("stream").filter(|v| !v.is_empty())
        && (stream != "watch" || media == YAML)
    {
        return None;
    }
    let convert = ["as", "g", "v"].iter().any(|k| clause.param(k).is_some());
    let format = if media == PROTOBUF {
        Format::Protobuf
    } else {
        Format::Json
    };
    if !convert {
        return Some(format);
    }
    let table = clause.param("as") == Some("Table")
        && clause.param("g") == Some("meta.k8s.io")
        && matches!(clause.param("v"), None | Some("v1" | "v1beta1"));
    (table && media == JSON).then_some(Format::Table)
}

/// The media types a resource is served in, in the server's order (the first is the default).
fn supported(protobuf: bool) -> &'static [&'static str] {
    if protobuf {
        &[JSON, YAML, PROTOBUF]
    } else {
        &[JSON, YAML]
    }
}

/// Negotiates the response format for a resource request from its `Accept` header. `protobuf`:
/// the resource's kind has a protobuf form. `Err` is 406 NotAcceptable.
pub(crate) fn output(accept: Option<&str>, protobuf: bool) -> Result<Format, ApiError> {
    let supported = supported(protobuf);
    let Some(header) = accept.filter(|h| !h.trim().is_empty()) else {
        return Ok(Format::Json);
    };
    for clause in parse_accept(header) {
        for media in supported {
            if clause.matches(media)
                && let Some(format) = accept_options(&clause, media)
            {
                return Ok(format);
            }
        }
    }
    Err(ApiError::not_acceptable(supported))
}

/// How a create or update body is encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Input {
    Json,
    Protobuf,
}

/// Classifies a create/update body's `Content-Type`. Port of
/// `NegotiateInputSerializerForMediaType`: no content type means JSON; protobuf only for kinds
/// that have a protobuf form; anything else is 415.
///
/// Differs from Go: YAML bodies are not decoded (415), as before protobuf was spoken.
pub(crate) fn input(content_type: &str, protobuf: bool) -> Result<Input, ApiError> {
    let media = content_type.split(';').next().unwrap_or_default().trim();
    match media {
        "" | JSON | "*/*" => Ok(Input::Json),
        PROTOBUF if protobuf => Ok(Input::Protobuf),
        _ => {
            let accepted: &[&str] = if protobuf { &[JSON, PROTOBUF] } else { &[JSON] };
            Err(ApiError::unsupported_body_type(content_type, accepted))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &str = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";

    #[test]
    fn the_first_acceptable_clause_wins() {
        let pb_json = "application/vnd.kubernetes.protobuf,application/json";
        assert_eq!(output(Some(pb_json), true).ok(), Some(Format::Protobuf));
        assert_eq!(output(Some(pb_json), false).ok(), Some(Format::Json));
        assert_eq!(
            output(
                Some("application/json, application/vnd.kubernetes.protobuf"),
                true
            )
            .ok(),
            Some(Format::Json)
        );
        assert_eq!(output(Some("*/*"), true).ok(), Some(Format::Json));
        assert_eq!(output(None, true).ok(), Some(Format::Json));
        assert_eq!(output(Some(""), true).ok(), Some(Format::Json));
        assert_eq!(
            output(
                Some("application/json;q=0.5, application/vnd.kubernetes.protobuf"),
                true
            )
            .ok(),
            Some(Format::Protobuf)
        );
        assert_eq!(
            output(
                Some("application/vnd.kubernetes.protobuf;stream=watch"),
                true
            )
            .ok(),
            Some(Format::Protobuf)
        );
    }

    #[test]
    fn protobuf_alone_is_not_acceptable_without_a_protobuf_form() {
        let err = output(Some("application/vnd.kubernetes.protobuf"), false).err();
        assert_eq!(err.as_ref().map(|e| e.code), Some(406));
        assert_eq!(
            err.map(|e| e.message),
            Some(
                "only the following media types are accepted: application/json, application/yaml"
                    .to_owned()
            )
        );
        assert_eq!(
            output(Some("text/html"), true).err().map(|e| e.code),
            Some(406)
        );
    }

    #[test]
    fn tables_are_json_and_other_conversions_are_skipped() {
        assert_eq!(output(Some(TABLE), true).ok(), Some(Format::Table));
        let meta = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json";
        assert_eq!(output(Some(meta), true).ok(), Some(Format::Json));
        let pb_table =
            "application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io,application/json";
        assert_eq!(output(Some(pb_table), true).ok(), Some(Format::Json));
        assert_eq!(Format::Table.for_errors(), Format::Json);
    }

    #[test]
    fn request_bodies_are_json_or_protobuf_for_kinds_that_have_it() {
        assert_eq!(input("", true).ok(), Some(Input::Json));
        assert_eq!(
            input("application/json; charset=utf-8", false).ok(),
            Some(Input::Json)
        );
        assert_eq!(
            input("application/vnd.kubernetes.protobuf", true).ok(),
            Some(Input::Protobuf)
        );
        assert_eq!(
            input("application/vnd.kubernetes.protobuf", false)
                .err()
                .map(|e| e.code),
            Some(415)
        );
        assert_eq!(
            input("application/yaml", true).err().map(|e| e.code),
            Some(415)
        );
    }

    proptest::proptest! {
        #[test]
        fn any_accept_header_negotiates_without_panicking(h in "[a-z/*;=,. 0-9]{0,40}") {
            let _ = output(Some(&h), true);
            let _ = output(Some(&h), false);
        }
    }
}
