//! What each injected fault looks like on the wire: error bodies, a load
//! balancer's HTML page, an echo of the request headers, huge and gzip
//! bodies, and real answers cut short, broken off, patched or with bytes
//! replaced.

use axum::body::{Body, Bytes};
use axum::http::header::{HeaderName, HeaderValue, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::api::error::{error_body, json_response};
use crate::server::bodies::{GzipBomb, PaddedBody, ResetBody};
use crate::server::rewrite;

/// `status`, or `default` when 0 or invalid.
pub(crate) fn status_or(status: u16, default: StatusCode) -> StatusCode {
    match status {
        0 => default,
        s => StatusCode::from_u16(s).unwrap_or(default),
    }
}

/// Add `headers` unchanged, replacing any of the same name (names or
/// values that HTTP cannot carry are skipped).
pub(crate) fn with_headers(mut resp: Response, headers: &[(String, String)]) -> Response {
    for (k, v) in headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(v),
        ) {
            resp.headers_mut().insert(name, value);
        }
    }
    resp
}

/// A JSON body with a status (an error, a redirect, a crafted 200).
pub(crate) fn status_answer(status: StatusCode, body: &Value) -> Response {
    json_response(status, body)
}

/// A load balancer's error page (`page` replaces it when given).
pub(crate) fn html_answer(status: StatusCode, page: Option<&str>) -> Response {
    // Pages from a proxy in front of the API say 502 even when sent as 200.
    let title = if status.is_client_error() || status.is_server_error() {
        format!(
            "{} {}",
            status.as_u16(),
            status.canonical_reason().unwrap_or("Error")
        )
    } else {
        "502 Bad Gateway".to_string()
    };
    let body = match page {
        Some(p) => p.to_string(),
        None => format!(
            "<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n\
             <center><h1>{title}</h1></center>\r\n<hr><center>awselb/2.0</center>\r\n\
             </body>\r\n</html>\r\n"
        ),
    };
    let mut resp = (status, body).into_response();
    resp.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    resp
}

/// Intercom's error body whose message repeats every request header as
/// sent, secrets included.
pub(crate) fn echo_answer(status: StatusCode, request_headers: &HeaderMap) -> Response {
    let echoed: Vec<String> = request_headers
        .iter()
        .map(|(name, value)| {
            format!(
                "{}={}",
                name.as_str(),
                String::from_utf8_lossy(value.as_bytes())
            )
        })
        .collect();
    let message = format!("headers: {}", echoed.join("; "));
    json_response(status, &error_body("bad_request", &message))
}

/// A body of `bytes` bytes, streamed; gzip-compressed when `gzip`.
pub(crate) fn huge_answer(status: StatusCode, bytes: u64, gzip: bool) -> Response {
    let mut resp = if gzip {
        let mut r = Response::new(Body::new(GzipBomb::new(bytes)));
        r.headers_mut()
            .insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        r
    } else {
        Response::new(Body::new(PaddedBody::new(bytes)))
    };
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

/// A real answer split into its head and its whole body.
pub(crate) struct Collected {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

impl Collected {
    /// Read the whole body of a real answer (held in memory already).
    pub(crate) async fn from(resp: Response) -> Collected {
        let (parts, body) = resp.into_parts();
        let body = axum::body::to_bytes(body, usize::MAX)
            .await
            .unwrap_or_default();
        let mut headers = parts.headers;
        headers.remove(CONTENT_LENGTH);
        Collected {
            status: parts.status,
            headers,
            body,
        }
    }

    fn into_response(self, status: StatusCode, body: Body) -> Response {
        let mut resp = Response::new(body);
        *resp.status_mut() = status;
        *resp.headers_mut() = self.headers;
        resp
    }

    /// The answer again, whole.
    pub(crate) fn whole(self) -> Response {
        let (status, body) = (self.status, Body::from(self.body.clone()));
        self.into_response(status, body)
    }

    /// `status` with only the first `keep` bytes (0: half), a complete HTTP
    /// answer with a correct `Content-Length`.
    pub(crate) fn truncated(self, status: StatusCode, keep: usize) -> Response {
        let len = self.body.len();
        let keep = if keep == 0 { len / 2 } else { keep.min(len) };
        let body = Body::from(self.body.slice(..keep));
        self.into_response(status, body)
    }

    /// `status` with the body parsed as JSON and changed by `ops` (see
    /// [`FaultKind::Patch`](crate::FaultKind::Patch)), whole; a body that is
    /// not JSON is sent unchanged.
    pub(crate) fn patched(self, status: StatusCode, ops: &[(String, Option<Value>)]) -> Response {
        let body = match serde_json::from_slice::<Value>(&self.body) {
            Ok(mut doc) => {
                rewrite::patch(&mut doc, ops);
                serde_json::to_vec(&doc).map_or_else(|_| self.body.clone(), Bytes::from)
            }
            Err(_) => self.body.clone(),
        };
        self.into_response(status, Body::from(body))
    }

    /// `status` with every `find` in the body replaced by `with`, whole.
    pub(crate) fn replaced(self, status: StatusCode, find: &[u8], with: &[u8]) -> Response {
        let body = rewrite::replace(&self.body, find, with);
        self.into_response(status, Body::from(body))
    }

    /// The real status and headers with the full `Content-Length`, then
    /// `after_bytes` bytes (0: half) and an abort.
    pub(crate) fn reset(self, after_bytes: usize) -> Response {
        let len = self.body.len();
        let sent = if after_bytes == 0 {
            len / 2
        } else {
            after_bytes
        };
        let sent = sent.min(len.saturating_sub(1));
        let body = Body::new(ResetBody::new(self.body.slice(..sent), len as u64));
        let status = self.status;
        self.into_response(status, body)
    }
}
