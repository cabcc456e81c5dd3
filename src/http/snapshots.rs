//! `POST /api/v1/snapshots` (take one now) and `GET /api/v1/snapshots` (list).

use super::body::json_response;
use super::error::ApiError;
use super::{App, Body};
use crate::actors::snapshots::SnapshotFailure;
use crate::clock::rfc3339;
use crate::store::snapshot;
use hyper::{Response, StatusCode};
use serde_json::json;

fn file_name(p: &std::path::Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

pub async fn create(app: &App) -> Result<Response<Body>, ApiError> {
    let taken = app.snapshots.take().await.map_err(|e| match e {
        SnapshotFailure::Pool(p) => ApiError::from(p),
        other => ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "snapshot_failed",
            other.to_string(),
        ),
    })?;
    Ok(json_response(
        StatusCode::CREATED,
        &json!({
            "file": file_name(&taken.meta.path),
            "created_at": rfc3339(taken.meta.created_at),
            "covered_seq": taken.meta.covered_seq,
            "size_bytes": taken.meta.size,
            "pools": taken.pools,
            "duration_ms": taken.duration.as_secs_f64() * 1000.0,
            "longest_pool_copy_ms": taken.longest_copy.as_secs_f64() * 1000.0,
        }),
    ))
}

pub async fn list(app: &App) -> Result<Response<Body>, ApiError> {
    let dir = app.snapshots.dir.clone();
    let listing = tokio::task::spawn_blocking(move || snapshot::list(&dir))
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))?
        .map_err(|e| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "snapshot_dir_unreadable",
                e.to_string(),
            )
        })?;
    let items: Vec<_> = listing
        .into_iter()
        .map(|m| match m {
            Ok(m) => json!({
                "file": file_name(&m.path),
                "created_at": rfc3339(m.created_at),
                "covered_seq": m.covered_seq,
                "size_bytes": m.size,
            }),
            Err(e) => json!({"file": file_name(e.path()), "error": e.to_string()}),
        })
        .collect();
    Ok(json_response(
        StatusCode::OK,
        &json!({ "snapshots": items }),
    ))
}
