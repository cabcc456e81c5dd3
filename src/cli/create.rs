//! `dnid snapshot create`: asks a running server to take a snapshot now.

use super::{CliError, Folders};
use crate::http::auth::TOKEN_FILE;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::{header, Method, Request, Uri};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use std::io::Write;
use std::time::Duration;

/// How long to wait for the server's answer (a snapshot of a large state takes a while).
const TIMEOUT: Duration = Duration::from_secs(120);
/// Largest answer read.
const MAX_ANSWER_BYTES: usize = 1 << 20;

#[derive(Debug, clap::Args)]
pub struct CreateArgs {
    /// Base URL of the running server (http only).
    #[arg(long, env = "DNID_URL", default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// Print the server's JSON answer as it is.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub folders: Folders,
}

pub fn run(a: &CreateArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let endpoint = endpoint(&a.url)?;
    let token = admin_token(&a.folders)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Unreachable {
            url: a.url.clone(),
            reason: format!("cannot start the async runtime: {e}"),
        })?;
    let (status, body) = runtime.block_on(post(endpoint, &token, &a.url))?;
    let answer: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if !(200..300).contains(&status) {
        let err = &answer["error"];
        let message = err["message"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| String::from_utf8_lossy(&body).trim().to_string());
        return Err(CliError::Server {
            status,
            code: err["code"].as_str().unwrap_or_default().to_string(),
            message,
        });
    }
    if a.json {
        writeln!(out, "{answer:#}")?;
        return Ok(());
    }
    let field = |k: &str| match &answer[k] {
        Value::String(s) => s.clone(),
        Value::Null => "?".to_string(),
        v => v.to_string(),
    };
    let ms = answer["duration_ms"].as_f64().unwrap_or(0.0);
    writeln!(out, "snapshot taken: {}", field("file"))?;
    writeln!(
        out,
        "created {}, covers WAL seq {}, {} pools, {} bytes, took {ms:.1} ms",
        field("created_at"),
        field("covered_seq"),
        field("pools"),
        field("size_bytes"),
    )?;
    Ok(())
}

fn endpoint(url: &str) -> Result<Uri, CliError> {
    let bad = |reason: &str| CliError::BadUrl {
        url: url.to_string(),
        reason: reason.to_string(),
    };
    let base: Uri = url.parse().map_err(|_| bad("not a URL"))?;
    match base.scheme_str() {
        Some("http") => {}
        Some(_) => return Err(bad("only http:// is supported")),
        None => return Err(bad("give it as http://HOST:PORT")),
    }
    if base.query().is_some() {
        return Err(bad("a query is not allowed"));
    }
    format!("{}/api/v1/snapshots", url.trim_end_matches('/'))
        .parse()
        .map_err(|_| bad("not a URL"))
}

/// `DNID_ADMIN_TOKEN`, else the token file in the data folder.
fn admin_token(folders: &Folders) -> Result<String, CliError> {
    if let Some(t) = std::env::var("DNID_ADMIN_TOKEN")
        .ok()
        .filter(|t| !t.trim().is_empty())
    {
        return Ok(t.trim().to_string());
    }
    let path = folders.resolve()?.data_dir.join(TOKEN_FILE);
    let token = std::fs::read_to_string(&path).map_err(|source| CliError::NoToken {
        path: path.clone(),
        source,
    })?;
    let token = token.trim();
    if token.is_empty() {
        return Err(CliError::NoToken {
            path,
            source: std::io::ErrorKind::InvalidData.into(),
        });
    }
    Ok(token.to_string())
}

async fn post(uri: Uri, token: &str, url: &str) -> Result<(u16, Bytes), CliError> {
    let unreachable = |reason: String| CliError::Unreachable {
        url: url.to_string(),
        reason,
    };
    let req = Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_LENGTH, "0")
        .body(Full::new(Bytes::new()))
        .map_err(|e| unreachable(e.to_string()))?;
    let client = Client::builder(TokioExecutor::new()).build_http();
    let exchange = async {
        let resp = client
            .request(req)
            .await
            .map_err(|e| unreachable(error_chain(&e)))?;
        let status = resp.status().as_u16();
        let body = Limited::new(resp.into_body(), MAX_ANSWER_BYTES)
            .collect()
            .await
            .map_err(|e| unreachable(format!("reading the answer: {e}")))?
            .to_bytes();
        Ok((status, body))
    };
    tokio::time::timeout(TIMEOUT, exchange)
        .await
        .map_err(|_| unreachable(format!("no answer within {} s", TIMEOUT.as_secs())))?
}

/// An error and its causes, joined: hyper's own message alone is often just
/// "client error (Connect)".
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cause = c.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_become_the_snapshot_endpoint() {
        let u = endpoint("http://127.0.0.1:9/").unwrap();
        assert_eq!(u.to_string(), "http://127.0.0.1:9/api/v1/snapshots");
        assert!(endpoint("https://x.example").is_err());
        assert!(endpoint("127.0.0.1:8080").is_err());
        assert!(endpoint("not a url").is_err());
    }
}
