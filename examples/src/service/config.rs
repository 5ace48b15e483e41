//! Configuration of the reference service, from the environment: `DATABASE_URL` (required),
//! `KOL_BIND` (default `127.0.0.1:8080`), `KOL_CLIP_MODEL` (optional folder of a CLIP model, for
//! text briefs), plus the request limits ([`Limits`]).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use kol_db::DatabaseUrl;

/// The default bind address.
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";

/// Sizes and times the service allows a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest JSON body (default 1 MiB; a 512-value brief is about 10 KiB).
    pub json_body: usize,
    /// Largest CSV import body (default 64 MiB), streamed, never held whole.
    pub csv_body: usize,
    /// Longest request, CSV imports excepted (default 30 s).
    pub request_timeout: Duration,
    /// Longest CSV import (default 10 min).
    pub import_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            json_body: 1 << 20,
            csv_body: 64 << 20,
            request_timeout: Duration::from_secs(30),
            import_timeout: Duration::from_secs(600),
        }
    }
}

/// Everything the service needs to start.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// The database (its `Debug` and `Display` hide the password).
    pub database_url: DatabaseUrl,
    /// Where to listen.
    pub bind: SocketAddr,
    /// A CLIP model folder (`config.json`, `tokenizer.json`, `model.safetensors`): text briefs
    /// are embedded with it. Without one, `POST /plans` takes categories and vectors only.
    pub clip_model: Option<PathBuf>,
    /// Request limits.
    pub limits: Limits,
}

/// Why the configuration cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// `DATABASE_URL` is not set.
    #[error("DATABASE_URL is not set (a PostgreSQL URL, e.g. postgres://user@127.0.0.1/kol)")]
    MissingDatabaseUrl,
    /// `KOL_BIND` is not an address with a port.
    #[error("KOL_BIND {value:?} is not an address such as 127.0.0.1:8080")]
    InvalidBind {
        /// The value given.
        value: String,
    },
    /// `KOL_CLIP_MODEL` is not a folder.
    #[error("KOL_CLIP_MODEL {path:?} is not a folder")]
    InvalidClipModel {
        /// The value given.
        path: PathBuf,
    },
}

impl ServiceConfig {
    /// Reads the configuration from the process environment.
    ///
    /// # Errors
    /// [`ConfigError`] naming the variable at fault.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration from `lookup` (the environment, or a map in tests).
    ///
    /// # Errors
    /// [`ConfigError`] naming the variable at fault.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let set = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let database_url = set("DATABASE_URL")
            .map(DatabaseUrl::new)
            .ok_or(ConfigError::MissingDatabaseUrl)?;
        let bind_text = set("KOL_BIND").unwrap_or_else(|| DEFAULT_BIND.to_owned());
        let bind = bind_text
            .trim()
            .parse()
            .map_err(|_| ConfigError::InvalidBind { value: bind_text })?;
        let clip_model = match set("KOL_CLIP_MODEL").map(PathBuf::from) {
            Some(path) if !path.is_dir() => return Err(ConfigError::InvalidClipModel { path }),
            other => other,
        };
        Ok(Self {
            database_url,
            bind,
            clip_model,
            limits: Limits::default(),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::collections::HashMap;

    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<ServiceConfig, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        ServiceConfig::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn defaults_and_errors_name_the_variable() {
        assert_eq!(config(&[]).unwrap_err(), ConfigError::MissingDatabaseUrl);
        let c = config(&[("DATABASE_URL", "postgres://u:secret@127.0.0.1/kol")]).unwrap();
        assert_eq!(c.bind.to_string(), DEFAULT_BIND);
        assert!(c.clip_model.is_none());
        assert!(!format!("{c:?}").contains("secret"));
        let bad = config(&[("DATABASE_URL", "postgres://x"), ("KOL_BIND", "localhost")]);
        assert!(matches!(bad, Err(ConfigError::InvalidBind { .. })));
        let bad = config(&[
            ("DATABASE_URL", "postgres://x"),
            ("KOL_CLIP_MODEL", "/nonexistent/clip"),
        ]);
        assert!(matches!(bad, Err(ConfigError::InvalidClipModel { .. })));
        let c = config(&[
            ("DATABASE_URL", "postgres://x"),
            ("KOL_BIND", "127.0.0.1:0"),
        ])
        .unwrap();
        assert_eq!(c.bind.port(), 0);
    }
}
