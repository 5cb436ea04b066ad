//! Sharing strings never changes a value: many threads decode overlapping objects at once
//! (every decode looks strings up in, and adds them to, the one process-wide table), and
//! every object still equals, and re-encodes to, what one thread alone decodes.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use api::core::v1::Pod;

fn pod_json(i: usize) -> String {
    serde_json::json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {
            "name": format!("web-{i}"), "namespace": format!("ns-{}", i % 3),
            "uid": format!("uid-{i:08}"), "resourceVersion": (100 + i).to_string(),
            "labels": {"app": format!("app-{}", i % 5), "tier": "web", "index": i.to_string()},
            "managedFields": [{"manager": "m", "operation": "Update", "apiVersion": "v1",
                "fieldsType": "FieldsV1", "fieldsV1": {"f:metadata": {"f:labels": {".": {}, format!("f:app-{}", i % 4): {}}}}}]
        },
        "spec": {"containers": [
            {"name": "main", "image": format!("registry.example/app:{}", i % 7),
             "env": [{"name": "MODE", "value": format!("mode-{}", i % 2)}],
             "resources": {"requests": {"cpu": format!("{}m", 100 + i % 3)}}}
        ]},
        "status": {"phase": if i.is_multiple_of(2) { "Running" } else { "Pending" }}
    })
    .to_string()
}

#[test]
fn objects_decoded_concurrently_equal_those_decoded_alone() {
    let texts: Arc<Vec<String>> = Arc::new((0..300).map(pod_json).collect());
    let alone: Arc<Vec<serde_json::Value>> = Arc::new(
        texts
            .iter()
            .map(|t| serde_json::from_str(t).unwrap())
            .collect(),
    );
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let (texts, alone) = (texts.clone(), alone.clone());
            std::thread::spawn(move || {
                let mut kept = Vec::new();
                for round in 0..5 {
                    // Each thread walks the objects in its own order.
                    for k in 0..texts.len() {
                        let i = (k * (2 * t + 1) + round * 7) % texts.len();
                        let pod: Pod = serde_json::from_str(&texts[i]).unwrap();
                        assert_eq!(serde_json::to_value(&pod).unwrap(), alone[i], "pod {i}");
                        if round == 0 {
                            kept.push((i, pod));
                        }
                    }
                }
                kept
            })
        })
        .collect();
    let results: Vec<Vec<(usize, Pod)>> = threads.into_iter().map(|h| h.join().unwrap()).collect();
    // The objects each thread kept are still intact after all the other decoding, and equal
    // across threads; their shared strings are one allocation.
    let first: std::collections::HashMap<usize, &Pod> =
        results[0].iter().map(|(i, p)| (*i, p)).collect();
    for kept in &results {
        for (i, pod) in kept {
            assert_eq!(serde_json::to_value(pod).unwrap(), alone[*i]);
            assert_eq!(pod, first[i]);
            let image = |p: &Pod| {
                p.spec.as_ref().unwrap().containers[0]
                    .image
                    .clone()
                    .unwrap()
            };
            assert!(std::ptr::eq(
                image(pod).as_str().as_ptr(),
                image(first[i]).as_str().as_ptr()
            ));
        }
    }
}
