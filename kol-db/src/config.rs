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
//! | `require` | always | not verified (verified as `verify-ca` when `sslrootcert` is given, as in libpq) |
//! | `verify-ca` | always | chain verified against `sslrootcert` |
//! | `verify-full` | always | chain and host name verified |
//!
//! `sslrootcert` names a PEM file of trusted roots, or `system` for the Mozilla root bundle
//! (what managed PostgreSQL services with public certificates need). Key/value connection strings
//! (`host=db dbname=kol sslmode=verify-full sslrootcert=/path/root.crt`) take the same settings.

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
        match parse_key_values(raw) {
            Ok(pairs) => render_key_values(pairs.into_iter().map(|(k, v)| {
                if k == "password" {
                    (k, "***".to_owned())
                } else {
                    (k, v)
                }
            })),
            // Unparsable: we cannot tell where a password would be, so show nothing of it.
            Err(_) => "<unparsable connection string>".to_owned(),
        }
    }
}

/// Splits a libpq key/value connection string (`host=db password = 'a b'`): spaces around `=`
/// are allowed, values may be single-quoted, and `\` escapes the next character.
fn parse_key_values(raw: &str) -> std::result::Result<Vec<(String, String)>, String> {
    let mut pairs = Vec::new();
    let mut chars = raw.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek().is_none() {
            return Ok(pairs);
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c.is_whitespace() {
                break;
            }
            key.push(c);
            chars.next();
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.next() != Some('=') {
            return Err(format!("missing '=' after {key:?}"));
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut value = String::new();
        if chars.peek() == Some(&'\'') {
            chars.next();
            loop {
                match chars.next() {
                    Some('\\') => value.push(chars.next().ok_or("unfinished escape")?),
                    Some('\'') => break,
                    Some(c) => value.push(c),
                    None => return Err("unterminated quoted value".to_owned()),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                chars.next();
                if c == '\\' {
                    value.push(chars.next().ok_or("unfinished escape")?);
                } else {
                    value.push(c);
                }
            }
        }
        pairs.push((key, value));
    }
}

/// Writes key/value pairs back as a connection string, every value quoted.
fn render_key_values(pairs: impl IntoIterator<Item = (String, String)>) -> String {
    pairs
        .into_iter()
        .map(|(k, v)| format!("{k}='{}'", v.replace('\\', "\\\\").replace('\'', "\\'")))
        .collect::<Vec<_>>()
        .join(" ")
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
        // Takes the `ssl*` settings out of the parameters; the rest goes to tokio-postgres.
        let mut ssl_mode = None;
        let mut root_certs = None;
        let mut take_ssl = |k: &str, v: &str| -> Result<bool> {
            match k {
                "sslmode" => {
                    let mode = SslMode::parse(v)
                        .ok_or_else(|| invalid(format!("unknown sslmode {v:?}")))?;
                    ssl_mode = Some(mode);
                }
                "sslrootcert" => {
                    root_certs = Some(if v == "system" {
                        RootCerts::System
                    } else {
                        RootCerts::File(PathBuf::from(v))
                    });
                }
                "sslcert" | "sslkey" | "sslpassword" | "sslcrl" => {
                    return Err(invalid(format!(
                        "{k} (client certificates) is not supported"
                    )));
                }
                _ => return Ok(false),
            }
            Ok(true)
        };
        let rest = if is_url(raw) {
            let mut parsed = url::Url::parse(raw).map_err(|e| invalid(e.to_string()))?;
            let mut kept = Vec::new();
            for (k, v) in parsed.query_pairs() {
                if !take_ssl(&k, &v)? {
                    kept.push((k.into_owned(), v.into_owned()));
                }
            }
            if kept.is_empty() {
                parsed.set_query(None);
            } else {
                parsed.query_pairs_mut().clear().extend_pairs(kept);
            }
            parsed.to_string()
        } else {
            let mut kept = Vec::new();
            for (k, v) in parse_key_values(raw).map_err(invalid)? {
                if !take_ssl(&k, &v)? {
                    kept.push((k, v));
                }
            }
            render_key_values(kept)
        };
        // libpq: `require` with a root certificate file verifies the chain, as `verify-ca`.
        let ssl_mode = match (ssl_mode, &root_certs) {
            (Some(SslMode::Require), Some(_)) => SslMode::VerifyCa,
            (mode, _) => mode.unwrap_or_default(),
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
        assert_eq!(
            kv.redacted(),
            "host='db' user='kol' password='***' dbname='kol'"
        );
        for tricky in [
            "host=db password = s3cret",
            "host=db password='a s3cret b'",
            "password=s3cret\\ x",
        ] {
            let r = DatabaseUrl::new(tricky).redacted();
            assert!(!r.contains("s3cret"), "{tricky} -> {r}");
        }
        assert!(
            !DatabaseUrl::new("host=db password='s3cret")
                .redacted()
                .contains("s3cret")
        );
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
    fn key_value_strings_take_the_same_ssl_settings() {
        let t = Duration::from_secs(1);
        let p = ParsedUrl::parse(
            &"host=localhost dbname = db sslmode=verify-full sslrootcert='/etc/ssl/root.crt'"
                .into(),
            t,
        )
        .unwrap();
        assert_eq!(p.ssl_mode, SslMode::VerifyFull);
        assert_eq!(
            p.root_certs,
            Some(RootCerts::File("/etc/ssl/root.crt".into()))
        );
        assert_eq!(p.pg.get_dbname(), Some("db"));
    }

    #[test]
    fn require_with_a_root_file_verifies_the_chain_as_libpq_does() {
        let t = Duration::from_secs(1);
        let p = ParsedUrl::parse(
            &"postgres://h/db?sslmode=require&sslrootcert=/r.crt".into(),
            t,
        )
        .unwrap();
        assert_eq!(p.ssl_mode, SslMode::VerifyCa);
        let p = ParsedUrl::parse(&"postgres://h/db?sslmode=require".into(), t).unwrap();
        assert_eq!(p.ssl_mode, SslMode::Require);
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
