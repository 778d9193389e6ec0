//! `spec`: print the connection specification (`src/spec.json`).

use serde_json::Value;

use crate::error::{Error, Result};
use crate::output::Output;
use crate::protocol::Message;

/// The connector specification.
pub fn specification() -> Result<Value> {
    serde_json::from_str(include_str!("../spec.json"))
        .map_err(|e| Error::Internal(format!("the built-in spec is not JSON: {e}")))
}

pub fn run(output: &Output) -> Result<()> {
    output.emit(&Message::Spec {
        spec: specification()?,
    })
}
