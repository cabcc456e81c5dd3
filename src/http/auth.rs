//! The admin bearer token: from `DNID_ADMIN_TOKEN`, or generated on first start and
//! kept in the data folder (mode 0600). Compared in constant time; never logged.

use super::error::ApiError;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hyper::{header, HeaderMap, StatusCode};
use std::fmt;
use std::io::Write;
use std::path::Path;
use subtle::ConstantTimeEq;

/// The file in the data folder that holds a generated token.
pub const TOKEN_FILE: &str = "admin_token";

#[derive(Clone)]
pub struct AdminToken(String);

/// Debug output must never reveal the secret.
impl fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AdminToken(<redacted>)")
    }
}

/// Where the token came from, so the caller can tell the operator once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenSource {
    Environment,
    File,
    Generated,
}

impl AdminToken {
    pub fn new(token: impl Into<String>) -> Self {
        AdminToken(token.into())
    }

    pub fn secret(&self) -> &str {
        &self.0
    }

    /// `env` (the value of `DNID_ADMIN_TOKEN`) wins; else the stored token; else a new
    /// 256-bit token is generated and stored with mode 0600.
    pub fn load_or_create(
        env: Option<String>,
        data_dir: &Path,
    ) -> std::io::Result<(AdminToken, TokenSource)> {
        if let Some(t) = env.filter(|t| !t.trim().is_empty()) {
            return Ok((AdminToken(t.trim().to_string()), TokenSource::Environment));
        }
        let path = data_dir.join(TOKEN_FILE);
        match std::fs::read_to_string(&path) {
            Ok(t) if !t.trim().is_empty() => {
                return Ok((AdminToken(t.trim().to_string()), TokenSource::File))
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        std::fs::create_dir_all(data_dir)?;
        let token = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&path)?;
        f.write_all(token.as_bytes())?;
        f.sync_all()?;
        Ok((AdminToken(token), TokenSource::Generated))
    }

    /// Checks `Authorization: Bearer <token>`: 401 when absent, 403 when wrong.
    pub fn check(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        let Some(value) = headers.get(header::AUTHORIZATION) else {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "this endpoint needs the header Authorization: Bearer <admin token>",
            ));
        };
        let presented = value
            .as_bytes()
            .strip_prefix(b"Bearer ")
            .unwrap_or_default();
        if bool::from(presented.ct_eq(self.0.as_bytes())) {
            Ok(())
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "the admin token is wrong",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, v.parse().unwrap());
        h
    }

    #[test]
    fn missing_token_is_401_and_wrong_token_is_403() {
        let t = AdminToken::new("s3cret");
        assert_eq!(t.check(&HeaderMap::new()).unwrap_err().status, 401);
        assert_eq!(t.check(&headers("Bearer nope")).unwrap_err().status, 403);
        assert_eq!(t.check(&headers("Bearer s3cre")).unwrap_err().status, 403);
        assert_eq!(t.check(&headers("s3cret")).unwrap_err().status, 403);
        assert!(t.check(&headers("Bearer s3cret")).is_ok());
    }

    #[test]
    fn generated_token_is_stored_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let (a, src) = AdminToken::load_or_create(None, dir.path()).unwrap();
        assert_eq!(src, TokenSource::Generated);
        assert!(a.secret().len() >= 43);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(TOKEN_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let (b, src) = AdminToken::load_or_create(None, dir.path()).unwrap();
        assert_eq!(src, TokenSource::File);
        assert_eq!(a.secret(), b.secret());
        let (c, src) = AdminToken::load_or_create(Some("env-token".into()), dir.path()).unwrap();
        assert_eq!(src, TokenSource::Environment);
        assert_eq!(c.secret(), "env-token");
    }

    #[test]
    fn debug_output_hides_the_secret() {
        assert!(!format!("{:?}", AdminToken::new("s3cret")).contains("s3cret"));
    }
}
