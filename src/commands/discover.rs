//! `discover`: the catalog of every stream in the stream table. Needs a valid config
//! (as the protocol requires) but makes no request: the streams are static.

use std::path::Path;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::output::Output;
use crate::protocol::{Catalog, Message};
use crate::streams::STREAMS;

/// The discovered catalog.
pub fn catalog() -> Result<Catalog> {
    let streams = STREAMS
        .iter()
        .map(|s| s.catalog_entry().map_err(Error::Internal))
        .collect::<Result<Vec<_>>>()?;
    Ok(Catalog { streams })
}

pub fn run(config: &Path, output: &Output) -> Result<()> {
    Config::from_file(config)?;
    output.emit(&Message::Catalog {
        catalog: catalog()?,
    })
}
