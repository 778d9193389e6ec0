//! `discover`: the catalog of every stream in the stream table, then one `report_<id>`
//! stream per reporting dataset Intercom lists ([`crate::read::reports`]): the one
//! request discover makes. Without it (no permission, no network) the static streams
//! are listed alone, with a warning.

use std::path::Path;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::http::{Client, HttpSettings};
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

pub async fn run(config: &Path, output: &Output) -> Result<()> {
    let config = Config::from_file(config)?;
    let mut catalog = catalog()?;
    match Client::new(&config, HttpSettings::for_config(&config)) {
        Ok(client) => catalog
            .streams
            .extend(crate::read::reports::discover(&client).await),
        Err(e) => tracing::warn!("no report_* streams are listed: {e}"),
    }
    output.emit(&Message::Catalog { catalog })
}
