//! Intercom-style errors (`{"type":"error.list","request_id":..,"errors":[..]}`),
//! request-id generation, and JSON responses.

use std::sync::atomic::{AtomicU64, Ordering};

use axum::http::header::{HeaderValue, CONTENT_TYPE};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{json, Value};

use crate::rng::mix64;

static REQUEST_COUNTER: AtomicU64 = AtomicU64::new(1);

/// A fresh UUID-shaped request id (unique within the process).
pub(crate) fn request_id() -> String {
    let n = REQUEST_COUNTER.fetch_add(1, Ordering::Relaxed);
    let a = mix64(n ^ 0x5EED_1D00);
    let b = mix64(a ^ n.rotate_left(17));
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        (a >> 32) as u32,
        (a >> 16) as u16,
        (a as u16) & 0x0fff,
        ((b >> 48) as u16 & 0x3fff) | 0x8000,
        b & 0xffff_ffff_ffff
    )
}

/// The error envelope Intercom uses for every failure.
pub(crate) fn error_body(code: &str, message: &str) -> Value {
    json!({
        "type": "error.list",
        "request_id": request_id(),
        "errors": [{"code": code, "message": message}],
    })
}

/// An API failure: HTTP status plus Intercom error code and message.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ApiError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code: code.to_string(),
            message: message.into(),
        }
    }

    /// 400 `parameter_invalid`.
    pub fn parameter_invalid(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "parameter_invalid", message)
    }

    /// 404 `not_found` ("Resource Not Found").
    pub fn not_found() -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", "Resource Not Found")
    }

    /// 401 `unauthorized` ("Access Token Invalid").
    pub fn unauthorized() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Access Token Invalid",
        )
    }

    /// 401 `token_unauthorized` ("Not authorized to access resource"): the
    /// token is valid but its app lacks the permission.
    pub fn token_unauthorized() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "token_unauthorized",
            "Not authorized to access resource",
        )
    }

    /// 403 `api_plan_restricted` ("Active subscription needed.").
    pub fn plan_restricted() -> ApiError {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "api_plan_restricted",
            "Active subscription needed.",
        )
    }

    pub fn body(&self) -> Value {
        error_body(&self.code, &self.message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        json_response(self.status, &self.body())
    }
}

/// A JSON response with `Content-Type: application/json`.
pub(crate) fn json_response<T: Serialize + ?Sized>(status: StatusCode, body: &T) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec());
    let mut resp = (status, bytes).into_response();
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}
