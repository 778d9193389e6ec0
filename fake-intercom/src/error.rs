//! Intercom-style error responses (`{"type":"error.list","request_id":..,"errors":[..]}`)
//! and request-id generation.

use std::sync::atomic::{AtomicU64, Ordering};

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use crate::rng::mix64;

static REQUEST_COUNTER: AtomicU64 = AtomicU64::new(1);

/// A fresh UUID-shaped request id (unique within the process).
pub fn request_id() -> String {
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
pub fn error_body(code: &str, message: &str) -> Value {
    json!({
        "type": "error.list",
        "request_id": request_id(),
        "errors": [{"code": code, "message": message}],
    })
}

/// An API failure: HTTP status plus Intercom error code and message.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiError {
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

    pub fn body(&self) -> Value {
        error_body(&self.code, &self.message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        crate::server::json_response(self.status, &self.body())
    }
}
