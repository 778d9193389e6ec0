//! Primary keys that identify a record. A destination that deduplicates (`append_dedup`)
//! keeps one row per primary key, so a key two records share loses one of them. Intercom's
//! data attributes are the case in point: an attribute's `name` is its leaf name, which a
//! nested or custom attribute can share with a top-level one (companies' `plan.name` and
//! `name`, a custom `custom_attributes.phone` and the standard `phone`); its `full_name` is
//! unique within its model.

use std::collections::{BTreeMap, BTreeSet};

use crate::support::*;

/// The streams of data attributes: one per model, and all three models in one.
const ATTRIBUTE_STREAMS: &[&str] = &[
    "company_attributes",
    "contact_attributes",
    "conversation_attributes",
    "data_attributes",
];

/// Reading the attribute streams and deduplicating each by its declared primary key (from
/// `discover`) loses no row: as many distinct keys as records, as many records as the
/// workspace has attributes (archived ones included).
#[test]
fn attribute_streams_keep_every_row_when_deduplicated_by_their_key() {
    let env = Env::start();
    let (held, repeated_names) = env.fake.with_workspace(|w| {
        let models = [
            &w.company_attributes,
            &w.contact_attributes,
            &w.conversation_attributes,
        ];
        // The workspace has what makes `name` ambiguous, or this test could not fail.
        let repeated_names: Vec<usize> = models
            .iter()
            .map(|attributes| {
                let names: BTreeSet<&str> = attributes
                    .iter()
                    .filter_map(|a| a["name"].as_str())
                    .collect();
                attributes.len() - names.len()
            })
            .collect();
        let held = BTreeMap::from([
            ("company_attributes", w.company_attributes.len()),
            ("contact_attributes", w.contact_attributes.len()),
            ("conversation_attributes", w.conversation_attributes.len()),
            ("data_attributes", models.iter().map(|a| a.len()).sum()),
        ]);
        (held, repeated_names)
    });
    assert!(
        repeated_names.iter().all(|n| *n > 0),
        "every model needs an attribute whose name another one has: {repeated_names:?}"
    );

    let run = env.read_streams(ATTRIBUTE_STREAMS, "full_refresh");
    assert_eq!(run.code, 0, "{:?}", run.error_traces());
    let mut problems = vec![];
    for stream in ATTRIBUTE_STREAMS {
        let pk = &primary_keys()[*stream];
        let records = run.records(stream);
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        for r in &records {
            for field in pk {
                if !r[field].is_string() {
                    problems.push(format!(
                        "{stream}: key field {field} is {} in {r}",
                        r[field]
                    ));
                }
            }
            *seen.entry(key_of(r, pk)).or_default() += 1;
        }
        if records.len() != held[stream] {
            problems.push(format!(
                "{stream}: {} records, the workspace has {} attributes",
                records.len(),
                held[stream]
            ));
        }
        if seen.len() != records.len() {
            let shared: Vec<&String> = seen
                .iter()
                .filter(|(_, n)| **n > 1)
                .map(|(k, _)| k)
                .collect();
            problems.push(format!(
                "{stream}: deduplicated by {pk:?}, {} records become {} (keys shared: {shared:?})",
                records.len(),
                seen.len()
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
