//! Port of kubernetes' `pkg/apis/events/v1/conversion.go`: `events.k8s.io/v1` Events and core
//! `v1` Events are one object in two representations, kept once in the store as a core Event.
//!
//! Field mapping (events.k8s.io ↔ core): `note`↔`message`, `regarding`↔`involvedObject`,
//! `deprecatedSource`↔`source`, `deprecatedCount`↔`count`,
//! `deprecatedFirstTimestamp`/`deprecatedLastTimestamp`↔`firstTimestamp`/`lastTimestamp`,
//! `reportingController`↔`reportingComponent`; `eventTime`, `series`, `related`, `action`,
//! `reportingInstance`, `type`, `reason` and `metadata` carry over as they are.
//!
//! Differs from Go: converts JSON maps rather than typed structs, so unknown fields of one
//! representation are dropped when read in the other.

use std::sync::Arc;

use serde_json::{Map, Value};

use crate::resources::ResourceInfo;
use crate::store::StoredObject;

/// `(events.k8s.io field, core field)` pairs that are renamed.
const RENAMED: [(&str, &str); 7] = [
    ("note", "message"),
    ("regarding", "involvedObject"),
    ("deprecatedSource", "source"),
    ("deprecatedCount", "count"),
    ("deprecatedFirstTimestamp", "firstTimestamp"),
    ("deprecatedLastTimestamp", "lastTimestamp"),
    ("reportingController", "reportingComponent"),
];

/// Fields both representations share.
const SHARED: [&str; 8] = [
    "metadata",
    "eventTime",
    "series",
    "related",
    "action",
    "reportingInstance",
    "type",
    "reason",
];

/// True for the `events.k8s.io` Event resource, whose objects are stored as core Events.
pub(crate) fn converts(res: &ResourceInfo) -> bool {
    res.group == "events.k8s.io" && res.kind == "Event" && !res.custom
}

/// Port of `Convert_core_Event_To_v1_Event`: a stored core Event as `events.k8s.io/v1`.
pub(crate) fn to_events_v1(core: &Value) -> Value {
    let mut out = Map::new();
    out.insert("kind".into(), Value::String("Event".into()));
    out.insert(
        "apiVersion".into(),
        Value::String("events.k8s.io/v1".into()),
    );
    copy(core, &mut out, SHARED.iter().map(|f| (*f, *f)));
    copy(core, &mut out, RENAMED.iter().map(|(v1, c)| (*c, *v1)));
    // `eventTime` has no omitempty in either version.
    out.entry("eventTime").or_insert(Value::Null);
    // Zero values of the core fields are left out, as `omitempty` does in events.k8s.io/v1.
    for (v1, _) in RENAMED {
        let empty = match out.get(v1) {
            Some(Value::String(s)) => s.is_empty(),
            Some(Value::Number(n)) => n.as_i64() == Some(0),
            Some(Value::Object(m)) => m.is_empty() && v1 != "regarding",
            Some(Value::Null) => {
                v1 != "deprecatedFirstTimestamp" && v1 != "deprecatedLastTimestamp"
            }
            _ => false,
        };
        if empty {
            out.remove(v1);
        }
    }
    for f in ["reportingInstance", "action", "type", "reason"] {
        if out.get(f).and_then(Value::as_str) == Some("") {
            out.remove(f);
        }
    }
    Value::Object(out)
}

/// Port of `Convert_v1_Event_To_core_Event`: an `events.k8s.io/v1` Event body as the core
/// Event it is stored as.
pub(crate) fn to_core(v1: Map<String, Value>) -> Map<String, Value> {
    let v1 = Value::Object(v1);
    let mut out = Map::new();
    out.insert("kind".into(), Value::String("Event".into()));
    out.insert("apiVersion".into(), Value::String("v1".into()));
    copy(&v1, &mut out, SHARED.iter().map(|f| (*f, *f)));
    copy(&v1, &mut out, RENAMED.iter().map(|(v1, c)| (*v1, *c)));
    out
}

/// The object as `res` shows it: converted for `events.k8s.io`, the same object otherwise.
pub(crate) fn view(res: &ResourceInfo, obj: &Arc<StoredObject>) -> Arc<StoredObject> {
    if converts(res) {
        Arc::new(StoredObject::new(to_events_v1(obj.value())))
    } else {
        Arc::clone(obj)
    }
}

fn copy<'a>(
    from: &Value,
    to: &mut Map<String, Value>,
    pairs: impl Iterator<Item = (&'a str, &'a str)>,
) {
    for (src, dst) in pairs {
        if let Some(v) = from.get(src) {
            to.insert(dst.to_owned(), v.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_core_event_round_trips_through_events_v1() {
        let core = json!({"kind": "Event", "apiVersion": "v1", "metadata": {"name": "e"},
            "involvedObject": {"kind": "Pod", "name": "p"}, "message": "m", "count": 2,
            "source": {"component": "c", "host": "h"}, "reportingComponent": "rc",
            "reportingInstance": "ri", "firstTimestamp": "2026-01-01T00:00:00Z",
            "lastTimestamp": null, "eventTime": null, "type": "Normal", "reason": "R"});
        let v1 = to_events_v1(&core);
        assert_eq!(v1["note"], "m");
        assert_eq!(v1["regarding"]["name"], "p");
        assert_eq!(v1["deprecatedSource"]["host"], "h");
        assert_eq!(v1["deprecatedCount"], 2);
        assert_eq!(v1["reportingController"], "rc");
        assert_eq!(v1["reportingInstance"], "ri");
        let Value::Object(map) = v1 else {
            panic!("not an object")
        };
        let back = Value::Object(to_core(map));
        assert_eq!(back["message"], "m");
        assert_eq!(back["source"], core["source"]);
        assert_eq!(back["reportingComponent"], "rc");
        assert_eq!(back["firstTimestamp"], core["firstTimestamp"]);
    }
}
