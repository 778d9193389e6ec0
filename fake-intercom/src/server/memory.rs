//! The last 2xx answer computed for each method and path (query and body
//! ignored), for [`FaultKind::Repeat`](crate::FaultKind::Repeat). Bodies
//! are shared `Bytes`, and only the most recently added paths are kept, so
//! fetching many conversations does not hold them all.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use axum::body::Bytes;
use axum::http::{HeaderValue, StatusCode};

/// Most method + path keys remembered (the oldest added is forgotten).
const MAX_KEYS: usize = 256;

/// One remembered answer.
#[derive(Clone)]
pub(crate) struct Remembered {
    pub(crate) status: StatusCode,
    pub(crate) content_type: Option<HeaderValue>,
    pub(crate) body: Bytes,
}

type Key = (String, String);

#[derive(Default)]
pub(crate) struct AnswerMemory {
    inner: Mutex<(HashMap<Key, Remembered>, VecDeque<Key>)>,
}

impl AnswerMemory {
    pub(crate) fn remember(&self, method: &str, path: &str, answer: Remembered) {
        let key = (method.to_string(), path.to_string());
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let (answers, order) = &mut *inner;
        if answers.insert(key.clone(), answer).is_none() {
            order.push_back(key);
            if order.len() > MAX_KEYS {
                if let Some(oldest) = order.pop_front() {
                    answers.remove(&oldest);
                }
            }
        }
    }

    pub(crate) fn recall(&self, method: &str, path: &str) -> Option<Remembered> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner
            .0
            .get(&(method.to_string(), path.to_string()))
            .cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(text: &'static str) -> Remembered {
        Remembered {
            status: StatusCode::OK,
            content_type: None,
            body: Bytes::from_static(text.as_bytes()),
        }
    }

    #[test]
    fn keeps_the_last_answer_per_key_and_forgets_the_oldest_keys() {
        let m = AnswerMemory::default();
        m.remember("GET", "/a", answer("1"));
        m.remember("GET", "/a", answer("2"));
        assert_eq!(m.recall("GET", "/a").unwrap().body, "2");
        assert!(m.recall("POST", "/a").is_none());
        for i in 0..MAX_KEYS {
            m.remember("GET", &format!("/p{i}"), answer("x"));
        }
        assert!(m.recall("GET", "/a").is_none());
        assert!(m.recall("GET", "/p0").is_some());
    }
}
