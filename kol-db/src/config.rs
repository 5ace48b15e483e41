//! Connection settings: the database URL (never printed with its password), pool size, TLS.
//!
//! `DATABASE_URL` follows libpq's URL form, `postgres://user:password@host:port/dbname?params`.
//! TLS follows libpq's `sslmode` meanings, which tokio-postgres only partly knows, so the `ssl*`
//! parameters are read here and the rest of the URL goes to tokio-postgres:
//!
//! | `sslmode` | encryption | server certificate |
//! | --- | --- | --- |
//! | `disable` | never | - |
//! | `prefer` (default, as in libpq) | when the server offers it | not verified |
//! | `require` | always | not verified |
//! | `verify-ca` | always | chain verified against `sslrootcert` |
//! | `verify-full` | always | chain and host name verified |
//!
//! `sslrootcert` names a PEM file of trusted roots, or `system` for the Mozilla root bundle
//! (what managed PostgreSQL services with public certificates need).

use std::path::PathBuf;
use std::time::Duration;

use crate::error::{DbError, Result};

/// A database URL whose password never appears in `Debug`, `Display` or an error.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    /// Wraps a URL (`postgres://...`) or a libpq key/value string (`host=... dbname=...`).
    pub fn new(url: impl Into<String>) -> Self {
        Self(url.into())
    }

    /// Reads `DATABASE_URL`, when it is set and not empty.
    pub fn from_env() -> Option<Self> {
        std::env::var("DATABASE_URL")
            .ok()
            .filter(|s| !s.trim().is_empty())
            .map(Self)
    }

    /// The URL with its password replaced by `***`, safe to print.
    pub fn redacted(&self) -> String {
        redact(&self.0)
    }

    /// The URL itself, password included. Do not log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DatabaseUrl({:?})", self.redacted())
    }
}

impl std::fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl From<&str> for DatabaseUrl {
    fn from(s: &str) -> Self {
        Self::new(s)
    }
}

impl From<String> for DatabaseUrl {
    fn from(s: String) -> Self {
        Self::new(s)
    }
}

fn redact(raw: &str) -> String {
    if is_url(raw) {
        match url::Url::parse(raw) {
            Ok(mut url) => {
                if url.password().is_some() {
                    // Setting a password only fails for URLs that cannot have one.
                    let _ = url.set_password(Some("***"));
                }
                let pairs: Vec<(String, String)> = url
                    .query_pairs()
                    .map(|(k, v)| {
                        let v = if k == "password" {
                            "***".to_owned()
                        } else {
                            v.into_owned()
                        };
                        (k.into_owned(), v)
                    })
                    .collect();
                if !pairs.is_empty() {
                    url.query_pairs_mut().clear().extend_pairs(pairs);
                }
                url.to_string()
            }
            // Unparsable: show only the scheme, since we cannot tell where a password would be.
            Err(_) => format!(
                "{}://<unparsable>",
                raw.split("://").next().unwrap_or("postgres")
            ),
        }
    } else {
        raw.split_whitespace()
            .map(|kv| {
                if kv.starts_with("password=") {
                    "password=***"
                } else {
                    kv
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

fn is_url(raw: &str) -> bool {
    raw.starts_with("postgres://") || raw.starts_with("postgresql://")
}

/// How to protect the connection (libpq's `sslmode`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SslMode {
    /// No TLS.
    Disable,
    /// TLS when the server offers it, without verifying its certificate.
    #[default]
    Prefer,
    /// TLS always, without verifying the certificate.
    Require,
    /// TLS always, the certificate chain verified against the trusted roots.
    VerifyCa,
    /// TLS always, chain and host name verified.
    VerifyFull,
}

impl SslMode {
    fn parse(value: &str) -> Option<Self> {
        Some(match value {
            "disable" => Self::Disable,
            // libpq's `allow` tries without TLS first; TLS-when-offered is the safer reading.
            "allow" | "prefer" => Self::Prefer,
            "require" => Self::Require,
            "verify-ca" => Self::VerifyCa,
            "verify-full" => Self::VerifyFull,
            _ => return None,
        })
    }
}

/// Where trusted root certificates come from, for `verify-ca` and `verify-full`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RootCerts {
    /// A PEM file (`sslrootcert=/path/root.crt`).
    File(PathBuf),
    /// The Mozilla root bundle (`sslrootcert=system`).
    System,
}

/// Settings of a [`Database`](crate::Database).
#[derive(Debug, Clone)]
pub struct DbConfig {
    /// The database to connect to.
    pub url: DatabaseUrl,
    /// Largest number of pooled connections (default 8).
    pub max_connections: usize,
    /// How long to wait for a connection from the pool before failing (default 30 s).
    pub acquire_timeout: Duration,
    /// How long to wait for the server when opening a connection (default 10 s).
    pub connect_timeout: Duration,
}

impl DbConfig {
    /// Defaults for `url`.
    pub fn new(url: impl Into<DatabaseUrl>) -> Self {
        Self {
            url: url.into(),
            max_connections: 8,
            acquire_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
        }
    }

    /// Defaults for `DATABASE_URL`, when it is set.
    pub fn from_env() -> Option<Self> {
        DatabaseUrl::from_env().map(Self::new)
    }

    /// Sets the pool size.
    pub fn max_connections(mut self, n: usize) -> Self {
        self.max_connections = n;
        self
    }
}

/// The parsed form of a URL: what tokio-postgres gets, and the TLS settings kept aside.
pub(crate) struct ParsedUrl {
    pub(crate) pg: tokio_postgres::Config,
    pub(crate) ssl_mode: SslMode,
    pub(crate) root_certs: Option<RootCerts>,
}

impl ParsedUrl {
    pub(crate) fn parse(url: &DatabaseUrl, connect_timeout: Duration) -> Result<Self> {
        let invalid = |reason: String| DbError::InvalidUrl {
            url: url.redacted(),
            reason,
        };
        let raw = url.expose().trim();
        let (rest, ssl_mode, root_certs) = if is_url(raw) {
            let mut parsed = url::Url::parse(raw).map_err(|e| invalid(e.to_string()))?;
            let mut ssl_mode = SslMode::default();
            let mut root_certs = None;
            let mut kept = Vec::new();
            for (k, v) in parsed.query_pairs() {
                match k.as_ref() {
                    "sslmode" => {
                        ssl_mode = SslMode::parse(&v)
                            .ok_or_else(|| invalid(format!("unknown sslmode {v:?}")))?;
                    }
                    "sslrootcert" => {
                        root_certs = Some(if v == "system" {
                            RootCerts::System
                        } else {
                            RootCerts::File(PathBuf::from(v.as_ref()))
                        });
                    }
                    "sslcert" | "sslkey" | "sslpassword" | "sslcrl" => {
                        return Err(invalid(format!(
                            "{k} (client certificates) is not supported"
                        )));
                    }
                    _ => kept.push((k.into_owned(), v.into_owned())),
                }
            }
            if kept.is_empty() {
                parsed.set_query(None);
            } else {
                parsed.query_pairs_mut().clear().extend_pairs(kept);
            }
            (parsed.to_string(), ssl_mode, root_certs)
        } else {
            // A key/value string goes to tokio-postgres as written (its sslmode values only).
            let mode = raw
                .split_whitespace()
                .find_map(|kv| kv.strip_prefix("sslmode="))
                .map(|v| SslMode::parse(v).ok_or_else(|| invalid(format!("unknown sslmode {v:?}"))))
                .transpose()?
                .unwrap_or_default();
            (raw.to_owned(), mode, None)
        };
        let mut pg: tokio_postgres::Config = rest
            .parse()
            .map_err(|e: tokio_postgres::Error| invalid(e.to_string()))?;
        pg.ssl_mode(match ssl_mode {
            SslMode::Disable => tokio_postgres::config::SslMode::Disable,
            SslMode::Prefer => tokio_postgres::config::SslMode::Prefer,
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => {
                tokio_postgres::config::SslMode::Require
            }
        });
        if pg.get_connect_timeout().is_none() {
            pg.connect_timeout(connect_timeout);
        }
        if pg.get_application_name().is_none() {
            pg.application_name("kol-db");
        }
        if matches!(ssl_mode, SslMode::VerifyCa | SslMode::VerifyFull) && root_certs.is_none() {
            return Err(invalid(
                "sslmode=verify-ca and verify-full need sslrootcert=FILE or sslrootcert=system"
                    .to_owned(),
            ));
        }
        Ok(Self {
            pg,
            ssl_mode,
            root_certs,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        let url = DatabaseUrl::new("postgres://kol:s3cret@db.example.com:5432/kol?sslmode=require");
        assert!(!format!("{url:?}").contains("s3cret"));
        assert!(!url.to_string().contains("s3cret"));
        assert!(url.redacted().contains("kol:***@db.example.com"));
        let kv = DatabaseUrl::new("host=db user=kol password=s3cret dbname=kol");
        assert_eq!(kv.redacted(), "host=db user=kol password=*** dbname=kol");
        let q = DatabaseUrl::new("postgres://db/kol?password=s3cret&user=kol");
        assert!(!q.redacted().contains("s3cret"));
    }

    #[test]
    fn ssl_parameters_are_taken_out() {
        let t = Duration::from_secs(1);
        let p = ParsedUrl::parse(
            &"postgres://u:pw@localhost/db?sslmode=verify-full&sslrootcert=system&application_name=x"
                .into(),
            t,
        )
        .unwrap();
        assert_eq!(p.ssl_mode, SslMode::VerifyFull);
        assert_eq!(p.root_certs, Some(RootCerts::System));
        assert_eq!(p.pg.get_application_name(), Some("x"));
        assert_eq!(
            ParsedUrl::parse(&"postgres://localhost/db".into(), t)
                .unwrap()
                .ssl_mode,
            SslMode::Prefer
        );
    }

    #[test]
    fn bad_urls_are_errors_without_the_password() {
        let t = Duration::from_secs(1);
        for bad in [
            "postgres://u:s3cret@localhost/db?sslmode=sometimes",
            "postgres://u:s3cret@localhost/db?sslmode=verify-full",
            "postgres://u:s3cret@localhost/db?sslcert=/x",
            "postgres://u:s3cret@localhost:notaport/db",
        ] {
            let err = ParsedUrl::parse(&bad.into(), t).err().unwrap();
            assert!(matches!(err, DbError::InvalidUrl { .. }), "{bad}");
            assert!(!err.to_string().contains("s3cret"), "{err}");
        }
    }
}
