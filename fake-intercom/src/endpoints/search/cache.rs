//! The search cache: per-field columns of the searched records, their
//! sorted indexes (`index`) and each record's JSON text, kept while the
//! workspace does not change. A field read from 100 000 JSON objects costs
//! tens of milliseconds, from a column well under one; a sorted index turns
//! a range query into a binary search; a page of texts is copied, not
//! serialized again.
//!
//! The cache is keyed by the workspace version (bumped after every write),
//! and a different version drops everything. Its lock is held only to find
//! or add an entry: an entry is built outside it, once (concurrent
//! requests for the same entry wait for that one build), so searches do
//! not queue behind each other.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use serde_json::value::RawValue;
use serde_json::Value;

use crate::endpoints::search::eval::walk;
use crate::endpoints::search::index::{IndexKey, SortIndex};
use crate::endpoints::search::parse::{Collection, SearchRequest};

/// An entry, built at most once by whoever asks for it first.
type Entry<T> = Arc<OnceLock<T>>;

/// A column: the value at one path of every record (`null` when missing).
type Column = Arc<Vec<Value>>;

/// Each record's JSON text (as `serde_json` writes the record), made when
/// first needed.
pub(crate) type Texts = Arc<Vec<OnceLock<Box<RawValue>>>>;

/// The JSON text of `rec`.
pub(crate) fn text_of(rec: &Value) -> Box<RawValue> {
    // A `Value` always serializes (its keys are strings).
    serde_json::value::to_raw_value(rec).unwrap_or_default()
}

#[derive(Default)]
struct Entries {
    version: u64,
    columns: HashMap<(Collection, Vec<String>), Entry<Column>>,
    indexes: HashMap<IndexKey, Entry<Option<Arc<SortIndex>>>>,
    texts: HashMap<Collection, Texts>,
}

/// Columns, sorted indexes and record texts of one workspace version (see
/// the module).
#[derive(Default)]
pub(crate) struct SearchCache {
    entries: Mutex<Entries>,
}

impl SearchCache {
    /// The entries of `version` (a different one than cached drops them
    /// all, freed once the lock is released).
    fn entries_of(&self, version: u64) -> MutexGuard<'_, Entries> {
        loop {
            let mut e = self.entries.lock().unwrap_or_else(|e| e.into_inner());
            if e.version == version {
                return e;
            }
            let fresh = Entries {
                version,
                ..Entries::default()
            };
            let stale = std::mem::replace(&mut *e, fresh);
            drop(e);
            drop(stale);
        }
    }

    /// The columns of `req`'s paths over `records`, in [`SearchRequest`]
    /// path order. `version` identifies the workspace state.
    pub(crate) fn columns(
        &self,
        version: u64,
        coll: Collection,
        records: &[Value],
        req: &SearchRequest,
    ) -> Vec<Column> {
        let entries: Vec<Entry<Column>> = {
            let mut e = self.entries_of(version);
            req.paths
                .iter()
                .map(|p| e.columns.entry((coll, p.clone())).or_default().clone())
                .collect()
        };
        let build = |p: &[String]| -> Column {
            Arc::new(
                records
                    .iter()
                    .map(|r| walk(r, p).cloned().unwrap_or(Value::Null))
                    .collect(),
            )
        };
        req.paths
            .iter()
            .zip(entries)
            .map(|(p, entry)| {
                let col = entry.get_or_init(|| build(p));
                if col.len() == records.len() {
                    col.clone()
                } else {
                    build(p)
                }
            })
            .collect()
    }

    /// The index `key` of `version` over `records` records, made by `build`
    /// if not cached (`None`: the records cannot be indexed).
    pub(crate) fn index(
        &self,
        version: u64,
        key: &IndexKey,
        records: usize,
        build: impl Fn() -> Option<SortIndex>,
    ) -> Option<Arc<SortIndex>> {
        let entry = self
            .entries_of(version)
            .indexes
            .entry(key.clone())
            .or_default()
            .clone();
        let ix = entry.get_or_init(|| build().map(Arc::new));
        match ix {
            Some(ix) if ix.records() != records => build().map(Arc::new),
            other => other.clone(),
        }
    }

    /// The record texts of `coll` in `version`, for `records` records
    /// (each made on first use, see [`text_of`]).
    pub(crate) fn texts(&self, version: u64, coll: Collection, records: usize) -> Texts {
        let mut e = self.entries_of(version);
        let texts = e
            .texts
            .entry(coll)
            .or_insert_with(|| Arc::new((0..records).map(|_| OnceLock::new()).collect()));
        if texts.len() != records {
            *texts = Arc::new((0..records).map(|_| OnceLock::new()).collect());
        }
        texts.clone()
    }
}
