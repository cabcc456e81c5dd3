//! API errors: `{"error": {"code": "...", "message": "..."}}` with the right status.
//! `code` is stable and machine-readable; `message` is for people.

use super::{json_response, Body};
use crate::actors::PoolError;
use crate::engine::AddError;
use hyper::{header, Response, StatusCode};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// The request field the error is about, when there is one.
    pub field: Option<&'static str>,
    /// Seconds for a `Retry-After` header.
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            field: None,
            retry_after: None,
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn with_field(mut self, field: &'static str) -> Self {
        self.field = Some(field);
        self
    }

    pub fn retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs);
        self
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint")
    }

    pub fn unavailable(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, code, message).retry_after(1)
    }

    pub fn into_response(self) -> Response<Body> {
        #[derive(Serialize)]
        struct Inner<'a> {
            code: &'a str,
            message: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            field: Option<&'a str>,
        }
        #[derive(Serialize)]
        struct Outer<'a> {
            error: Inner<'a>,
        }
        let body = Outer {
            error: Inner {
                code: self.code,
                message: &self.message,
                field: self.field,
            },
        };
        let mut resp = json_response(self.status, &body);
        if let Some(secs) = self.retry_after {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
        }
        resp
    }
}

impl From<PoolError> for ApiError {
    fn from(e: PoolError) -> Self {
        let msg = e.to_string();
        match e {
            PoolError::PoolNotFound(_) => Self::new(StatusCode::NOT_FOUND, "pool_not_found", msg),
            PoolError::PoolUnavailable(_) => Self::unavailable("pool_unavailable", msg),
            PoolError::SessionNotFound => {
                Self::new(StatusCode::NOT_FOUND, "session_not_found", msg)
            }
            PoolError::Add(AddError::AlreadyInPool(_)) | PoolError::Add(AddError::Repeated(_)) => {
                Self::new(StatusCode::CONFLICT, "duplicate_number", msg).with_field("numbers")
            }
            PoolError::NotInPool(_) => Self::new(StatusCode::NOT_FOUND, "number_not_found", msg),
            PoolError::NumberInOtherPool(..) => {
                Self::new(StatusCode::CONFLICT, "number_in_other_pool", msg).with_field("numbers")
            }
            PoolError::Settings(s) => {
                Self::bad_request("invalid_setting", msg).with_field(s.field())
            }
            PoolError::InvalidNumber { field, .. } => {
                Self::bad_request("invalid_number", msg).with_field(field)
            }
            PoolError::Storage(_) => Self::unavailable(
                "storage_unavailable",
                format!("the change could not be saved, nothing was changed: {msg}"),
            ),
            PoolError::OriginNotAllowed(_) => {
                Self::new(StatusCode::FORBIDDEN, "origin_not_allowed", msg)
            }
        }
    }
}
