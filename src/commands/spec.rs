//! `spec`: print the connection specification (`src/spec.json`).

use serde_json::Value;

use crate::error::{Error, Result};
use crate::output::Output;
use crate::protocol::Message;

/// The connector specification: `src/spec.json` for words and layout, with the bounds
/// and defaults of integer fields from [`crate::config::INT_FIELDS`], the same constants
/// the config is checked against.
pub fn specification() -> Result<Value> {
    let mut spec: Value = serde_json::from_str(include_str!("../spec.json"))
        .map_err(|e| Error::Internal(format!("the built-in spec is not JSON: {e}")))?;
    for f in crate::config::INT_FIELDS {
        let prop = spec
            .pointer_mut(&format!("/connectionSpecification/properties/{}", f.key))
            .and_then(Value::as_object_mut)
            .ok_or_else(|| Error::Internal(format!("the spec has no field `{}`", f.key)))?;
        prop.insert("type".into(), "integer".into());
        prop.insert("minimum".into(), f.min.into());
        prop.insert("maximum".into(), f.max.into());
        if let Some(d) = f.default {
            prop.insert("default".into(), d.into());
        }
    }
    Ok(spec)
}

pub fn run(output: &Output) -> Result<()> {
    output.emit(&Message::Spec {
        spec: specification()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_bounds_come_from_the_config_constants() {
        let spec = specification().unwrap();
        let props = &spec["connectionSpecification"]["properties"];
        for f in crate::config::INT_FIELDS {
            assert_eq!(props[f.key]["minimum"], f.min, "{}", f.key);
            assert_eq!(props[f.key]["maximum"], f.max, "{}", f.key);
            match f.default {
                Some(d) => assert_eq!(props[f.key]["default"], d, "{}", f.key),
                None => assert!(props[f.key].get("default").is_none(), "{}", f.key),
            }
            assert!(props[f.key]["title"].is_string(), "{}", f.key);
            assert!(props[f.key]["description"].is_string(), "{}", f.key);
        }
    }
}
