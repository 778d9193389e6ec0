//! Integration tests: the real connector binary against the fake Intercom workspace
//! over HTTP on 127.0.0.1. One test binary; its tests live under `tests/suite/`, one
//! module per subject, and share the harness in `tests/support/`. Snapshots (insta) are
//! in `tests/suite/snapshots/`.

#[path = "suite/bounds.rs"]
mod bounds;
#[path = "suite/columns.rs"]
mod columns;
#[path = "suite/completeness.rs"]
mod completeness;
#[path = "suite/conformance.rs"]
mod conformance;
#[path = "suite/docs.rs"]
mod docs;
#[path = "suite/errors.rs"]
mod errors;
#[path = "suite/faults.rs"]
mod faults;
#[path = "suite/hostile.rs"]
mod hostile;
#[path = "suite/incremental.rs"]
mod incremental;
#[path = "suite/keys.rs"]
mod keys;
#[path = "suite/leaks.rs"]
mod leaks;
#[path = "suite/pace.rs"]
mod pace;
#[path = "suite/permissions.rs"]
mod permissions;
#[path = "suite/pipeline.rs"]
mod pipeline;
#[path = "suite/protocol.rs"]
mod protocol;
#[path = "suite/relations.rs"]
mod relations;
#[path = "suite/reports.rs"]
mod reports;
#[path = "suite/resumable.rs"]
mod resumable;
#[path = "suite/streams.rs"]
mod streams;
mod support;
#[path = "suite/transcript.rs"]
mod transcript;
