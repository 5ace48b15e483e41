//! Connection settings: the database URL (never printed with a secret), pool size, TLS, and the
//! timeouts every connection gets.
//!
//! `DATABASE_URL` follows libpq's URL form, `postgres://user:password@host:port/dbname?params`.
//! TLS follows libpq's `sslmode` meanings, which tokio-postgres only partly knows, so the `ssl*`
//! parameters are read here and the rest of the URL goes to tokio-postgres:
//!
//! | `sslmode` | encryption | server certificate |
//! | --- | --- | --- |
//! | `disable` | never | - |
//! | `prefer` (default, as in libpq) | when the server offers it | not verified |
//! | `require` | always | not verified (verified as `verify-ca` when `sslrootcert` is a file, as in libpq) |
//! | `verify-ca` | always | chain verified against `sslrootcert` |
//! | `verify-full` | always | chain and host name verified |
//!
//! `sslrootcert` names a PEM file of trusted roots, or `system` for the Mozilla root bundle
//! (what managed PostgreSQL services with public certificates need). As in libpq 16,
//! `sslrootcert=system` makes `verify-full` the default `sslmode`, and any other `sslmode` given
//! with it is refused ([`DbError::InvalidUrl`]): anyone can get a publicly trusted certificate for
//! a host name they control, so against the public roots only the host name check protects.
//!
//! `channel_binding` follows libpq too: `prefer` (default) binds the SCRAM authentication to the
//! TLS channel when the server offers it, `require` refuses to authenticate without channel
//! binding (so it needs TLS and a SCRAM password: `sslmode=disable` with it is refused at once),
//! `disable` never binds.
//!
//! Key/value connection strings (`host=db dbname=kol sslmode=verify-full
//! sslrootcert=/path/root.crt`) take the same settings.
//!
//! Secrets never leave this module in clear: [`DatabaseUrl`]'s `Debug` and `Display`, every
//! error, and anything kol-db prints show `***` in place of the password of a URL's user
//! information and of the value of every secret key (`password`, `sslpassword`,
//! `oauth_client_secret`, `scram_client_key`, `scram_server_key`, and any key whose name contains
//! `password`, `secret` or `token`), whatever their case, in URL query parameters and in
//! key/value strings alike. kol-db itself logs nothing.

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

/// Whether a connection-string key carries a secret: libpq's password fields (`password`,
/// `sslpassword`, `oauth_client_secret`) and SCRAM keys (`scram_client_key`, `scram_server_key`),
/// and, to be safe with keys libpq may add, any key naming a password, secret or token. Compared
/// case-insensitively: a differently cased key is an error for libpq, but its value is still
/// somebody's secret.
fn is_secret_key(key: &str) -> bool {
    const SECRET_KEYS: [&str; 5] = [
        "password",
        "sslpassword",
        "oauth_client_secret",
        "scram_client_key",
        "scram_server_key",
    ];
    let key = key.trim().to_ascii_lowercase();
    SECRET_KEYS.contains(&key.as_str())
        || ["password", "secret", "token"]
            .iter()
            .any(|word| key.contains(word))
}

/// What a secret is replaced with.
const REDACTED: &str = "***";

fn redact(raw: &str) -> String {
    if is_url(raw) {
        match url::Url::parse(raw) {
            Ok(mut url) => {
                if url.password().is_some() {
                    // Setting a password only fails for URLs that cannot have one.
                    let _ = url.set_password(Some(REDACTED));
                }
                let pairs: Vec<(String, String)> = url
                    .query_pairs()
                    .map(|(k, v)| {
                        let v = if is_secret_key(&k) {
                            REDACTED.to_owned()
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
                if is_secret_key(&k) {
                    (k, REDACTED.to_owned())
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
///
/// Every connection kol-db opens gets the three server-side timeouts below (`SET` once per
/// connection, so they hold for every statement on it). `None` turns one off (PostgreSQL's `0`).
/// A timeout must be at least 1 ms and at most `i32::MAX` ms (about 24.8 days), which
/// [`Database::connect_with`](crate::Database::connect_with) checks.
///
/// Maintenance jobs ([`Database::run_migrations`](crate::Database::run_migrations), catalogue
/// imports, [`Database::rebuild_vector_index`](crate::Database::rebuild_vector_index)) run on a
/// connection of their own without statement and lock timeouts: they are long by nature, and
/// they wait for each other (two instances migrating, two index jobs). The idle-in-transaction
/// timeout still applies to them.
#[derive(Debug, Clone)]
pub struct DbConfig {
    /// The database to connect to.
    pub url: DatabaseUrl,
    /// Largest number of pooled connections (default 8).
    pub max_connections: usize,
    /// How long to wait for a connection from the pool before failing (default 30 s); the error
    /// is a [`DbError::Connection`], which is retryable.
    pub acquire_timeout: Duration,
    /// How long to wait for the server when opening a connection (default 10 s).
    pub connect_timeout: Duration,
    /// PostgreSQL's `statement_timeout`: a statement running longer is cancelled by the server,
    /// and the call fails with [`DbError::StatementTimeout`] (default 30 s: kol-db's own queries
    /// take milliseconds; the slowest, an exact search over a large catalogue, well under a
    /// second).
    pub statement_timeout: Option<Duration>,
    /// PostgreSQL's `lock_timeout`: a statement waiting longer for a lock (a row another
    /// transaction is changing, a table being altered) is cancelled, and the call fails with
    /// [`DbError::LockTimeout`], which is retryable (default 10 s).
    pub lock_timeout: Option<Duration>,
    /// PostgreSQL's `idle_in_transaction_session_timeout`: the server ends a session that sits
    /// idle inside a transaction for longer (a stalled client would otherwise hold its locks),
    /// and the call fails with a retryable [`DbError::Connection`] (default 60 s). kol-db's
    /// transactions never wait on the caller, except a catalogue import between two batches of
    /// the caller's iterator: each batch must come within this time.
    pub idle_in_transaction_session_timeout: Option<Duration>,
    /// Streaming replicas of the database (same database name, other servers) that take the
    /// reads that may be a little behind; empty by default (see [`crate::replicas`]). Each has
    /// a pool of its own with the settings above.
    pub replicas: Vec<DatabaseUrl>,
    /// The largest replication lag a replica may have and still take reads (default 1 s).
    pub max_replica_lag: Duration,
    /// How long a replica found down or lagging is skipped before it is checked again (default
    /// 5 s).
    pub replica_retry_after: Duration,
    /// How often a healthy replica's lag is measured again (default 1 s).
    pub replica_check_interval: Duration,
}

impl DbConfig {
    /// Defaults for `url`.
    pub fn new(url: impl Into<DatabaseUrl>) -> Self {
        Self {
            url: url.into(),
            max_connections: 8,
            acquire_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            statement_timeout: Some(Duration::from_secs(30)),
            lock_timeout: Some(Duration::from_secs(10)),
            idle_in_transaction_session_timeout: Some(Duration::from_secs(60)),
            replicas: Vec::new(),
            max_replica_lag: Duration::from_secs(1),
            replica_retry_after: Duration::from_secs(5),
            replica_check_interval: Duration::from_secs(1),
        }
    }

    /// Adds a streaming replica for reads (see [`crate::replicas`]).
    pub fn replica(mut self, url: impl Into<DatabaseUrl>) -> Self {
        self.replicas.push(url.into());
        self
    }

    /// Sets the largest replication lag of a replica that takes reads.
    pub fn max_replica_lag(mut self, lag: Duration) -> Self {
        self.max_replica_lag = lag;
        self
    }

    /// Sets how long a replica found down or lagging is skipped.
    pub fn replica_retry_after(mut self, wait: Duration) -> Self {
        self.replica_retry_after = wait;
        self
    }

    /// Sets how often a healthy replica's lag is measured again.
    pub fn replica_check_interval(mut self, interval: Duration) -> Self {
        self.replica_check_interval = interval;
        self
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

    /// Sets how long to wait for a pooled connection.
    pub fn acquire_timeout(mut self, timeout: Duration) -> Self {
        self.acquire_timeout = timeout;
        self
    }

    /// Sets the statement timeout (`None`: off).
    pub fn statement_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.statement_timeout = timeout.into();
        self
    }

    /// Sets the lock timeout (`None`: off).
    pub fn lock_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.lock_timeout = timeout.into();
        self
    }

    /// Sets the idle-in-transaction timeout (`None`: off).
    pub fn idle_in_transaction_session_timeout(
        mut self,
        timeout: impl Into<Option<Duration>>,
    ) -> Self {
        self.idle_in_transaction_session_timeout = timeout.into();
        self
    }

    /// The `SET` statements that give a new connection its timeouts.
    ///
    /// # Errors
    /// [`DbError::InvalidArgument`] naming the timeout that is below 1 ms or above `i32::MAX` ms.
    pub(crate) fn session_settings(&self) -> Result<String> {
        // kol-db's transactions are written for READ COMMITTED (the database refuses campaign
        // confirmations under REPEATABLE READ), whatever the server's default.
        let mut sql = String::from("SET default_transaction_isolation = 'read committed'; ");
        for (name, timeout) in [
            ("statement_timeout", self.statement_timeout),
            ("lock_timeout", self.lock_timeout),
            (
                "idle_in_transaction_session_timeout",
                self.idle_in_transaction_session_timeout,
            ),
        ] {
            let millis = server_millis(name, timeout)?;
            sql.push_str(&format!("SET {name} = {millis}; "));
        }
        Ok(sql)
    }
}

/// A timeout as PostgreSQL's integer milliseconds (`0` = off).
fn server_millis(name: &'static str, timeout: Option<Duration>) -> Result<u32> {
    let Some(timeout) = timeout else {
        return Ok(0);
    };
    let millis = timeout.as_millis();
    if millis == 0 || millis > i32::MAX as u128 {
        return Err(DbError::argument(
            name,
            format!(
                "must be 1 ms to {} ms (use None to turn it off), got {timeout:?}",
                i32::MAX
            ),
        ));
    }
    // In range of u32 by the check above.
    Ok(millis as u32)
}

/// libpq's `channel_binding`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ChannelBinding {
    Disable,
    Prefer,
    Require,
}

impl ChannelBinding {
    fn parse(value: &str) -> Option<Self> {
        Some(match value {
            "disable" => Self::Disable,
            "prefer" => Self::Prefer,
            "require" => Self::Require,
            _ => return None,
        })
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
        // Takes the TLS settings out of the parameters; the rest goes to tokio-postgres.
        // `sslmode` is kept as written, for libpq's error message.
        let mut ssl_mode: Option<(SslMode, String)> = None;
        let mut root_certs = None;
        let mut channel_binding = None;
        let mut take_tls = |k: &str, v: &str| -> Result<bool> {
            match k {
                "sslmode" => {
                    let mode = SslMode::parse(v)
                        .ok_or_else(|| invalid(format!("invalid sslmode value {v:?}")))?;
                    ssl_mode = Some((mode, v.to_owned()));
                }
                "sslrootcert" => {
                    root_certs = Some(if v == "system" {
                        RootCerts::System
                    } else {
                        RootCerts::File(PathBuf::from(v))
                    });
                }
                "channel_binding" => {
                    channel_binding = Some(ChannelBinding::parse(v).ok_or_else(|| {
                        invalid(format!(
                            "invalid channel_binding value {v:?} (disable, prefer or require)"
                        ))
                    })?);
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
                if !take_tls(&k, &v)? {
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
                if !take_tls(&k, &v)? {
                    kept.push((k, v));
                }
            }
            render_key_values(kept)
        };
        let ssl_mode = match (ssl_mode, &root_certs) {
            // libpq 16: the public roots make verify-full the default, and the only mode allowed.
            (None, Some(RootCerts::System)) => SslMode::VerifyFull,
            (Some((SslMode::VerifyFull, _)), Some(RootCerts::System)) => SslMode::VerifyFull,
            (Some((_, written)), Some(RootCerts::System)) => {
                return Err(invalid(format!(
                    "weak sslmode \"{written}\" may not be used with sslrootcert=system \
                     (use \"verify-full\")"
                )));
            }
            // libpq: `require` with a root certificate file verifies the chain, as `verify-ca`.
            (Some((SslMode::Require, _)), Some(RootCerts::File(_))) => SslMode::VerifyCa,
            (mode, _) => mode.map(|(m, _)| m).unwrap_or_default(),
        };
        let channel_binding = channel_binding.unwrap_or(ChannelBinding::Prefer);
        if channel_binding == ChannelBinding::Require && ssl_mode == SslMode::Disable {
            return Err(invalid(
                "channel_binding=require needs TLS, and sslmode=disable turns it off".to_owned(),
            ));
        }
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
        pg.channel_binding(match channel_binding {
            ChannelBinding::Disable => tokio_postgres::config::ChannelBinding::Disable,
            ChannelBinding::Prefer => tokio_postgres::config::ChannelBinding::Prefer,
            ChannelBinding::Require => tokio_postgres::config::ChannelBinding::Require,
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

    /// Secrets that must never show, and the connection strings that hold them.
    const SECRET: &str = "s3cret";

    fn assert_redacted(raw: &str) -> String {
        let url = DatabaseUrl::new(raw);
        let shown = [
            url.redacted(),
            url.to_string(),
            format!("{url:?}"),
            format!("{:?}", DbConfig::new(url.clone())),
        ];
        for s in &shown {
            assert!(!s.contains(SECRET), "{raw} -> {s}");
        }
        shown[0].clone()
    }

    #[test]
    fn passwords_are_redacted() {
        let url = DatabaseUrl::new("postgres://kol:s3cret@db.example.com:5432/kol?sslmode=require");
        assert!(assert_redacted(url.expose()).contains("kol:***@db.example.com"));
        let kv = DatabaseUrl::new("host=db user=kol password=s3cret dbname=kol");
        assert_eq!(
            kv.redacted(),
            "host='db' user='kol' password='***' dbname='kol'"
        );
        for tricky in [
            "host=db password = s3cret",
            "host=db password='a s3cret b'",
            "password=s3cret\\ x",
            "host=db password='s3cret",
            "postgres://db/kol?password=s3cret&user=kol",
        ] {
            assert_redacted(tricky);
        }
    }

    #[test]
    fn every_secret_key_is_redacted_whatever_its_case_and_form() {
        // URL user information, percent-encoded or not.
        assert_redacted("postgres://kol:s3cret@db/kol");
        assert_redacted("postgresql://kol:s3cret%40x@db:5432/kol");
        // URL query parameters: every secret key, in any case, percent-encoded names too.
        for key in [
            "password",
            "PASSWORD",
            "Password",
            "sslpassword",
            "SSLPassword",
            "oauth_client_secret",
            "scram_client_key",
            "scram_server_key",
            "pass%77ord",
            "api_token",
        ] {
            let shown = assert_redacted(&format!(
                "postgres://kol@db/kol?sslmode=require&{key}=s3cret"
            ));
            assert!(shown.contains("***"), "{key}: {shown}");
            assert!(
                shown.contains("sslmode=require"),
                "other keys stay: {shown}"
            );
        }
        // Key/value strings: plain, quoted with spaces, escaped quotes and backslashes, spaces
        // around `=`, differently cased keys.
        for kv in [
            "host=db sslpassword=s3cret",
            "host=db SSLPASSWORD=s3cret",
            "host=db PassWord = 's3cret with spaces'",
            "host=db password='it\\'s s3cret'",
            "host=db password='s3cret\\\\' user=kol",
            "host=db sslpassword = 'a \\'s3cret\\' b' dbname=kol",
            "host=db\tpassword=s3cret",
        ] {
            let shown = assert_redacted(kv);
            assert!(shown.contains("***"), "{kv}: {shown}");
            assert!(shown.contains("host='db'"), "other keys stay: {shown}");
        }
        // Keys that only look alike are kept: they name files, not secrets.
        let shown = DatabaseUrl::new("host=db passfile=/p sslkey=/k").redacted();
        assert_eq!(shown, "host='db' passfile='/p' sslkey='/k'");
    }

    #[test]
    fn errors_never_show_a_secret() {
        let t = Duration::from_secs(1);
        for bad in [
            "postgres://u:s3cret@localhost/db?sslmode=sometimes",
            "postgres://u@localhost/db?sslpassword=s3cret",
            "postgres://u@localhost/db?SSLPASSWORD=s3cret",
            "postgres://u@localhost/db?Password=s3cret",
            "host=localhost PASSWORD='s3cret x' port=notaport",
            "host=localhost sslpassword='s3cret'",
            "host=localhost password='s3cret' channel_binding=always",
            "host=localhost password='s3cret' sslrootcert=system sslmode=require",
        ] {
            let err = ParsedUrl::parse(&bad.into(), t).err().unwrap();
            assert!(matches!(err, DbError::InvalidUrl { .. }), "{bad}: {err}");
            let shown = format!("{err} {err:?}");
            assert!(!shown.contains(SECRET), "{bad}: {shown}");
        }
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

    #[test]
    fn system_roots_force_verify_full_as_libpq_16_does() {
        let t = Duration::from_secs(1);
        for url in [
            "postgres://u@h/db?sslrootcert=system",
            "postgres://u@h/db?sslrootcert=system&sslmode=verify-full",
            "postgres://u@h/db?sslmode=verify-full&sslrootcert=system",
            "host=h sslrootcert=system",
        ] {
            let p = ParsedUrl::parse(&url.into(), t).unwrap();
            assert_eq!(p.ssl_mode, SslMode::VerifyFull, "{url}");
            assert_eq!(p.root_certs, Some(RootCerts::System));
            assert_eq!(
                p.pg.get_ssl_mode(),
                tokio_postgres::config::SslMode::Require,
                "no plaintext fallback"
            );
        }
        for weak in ["disable", "allow", "prefer", "require", "verify-ca"] {
            for url in [
                format!("postgres://u@h/db?sslmode={weak}&sslrootcert=system"),
                format!("postgres://u@h/db?sslrootcert=system&sslmode={weak}"),
                format!("host=h sslmode={weak} sslrootcert=system"),
            ] {
                let err = ParsedUrl::parse(&url.as_str().into(), t).err().unwrap();
                let DbError::InvalidUrl { reason, .. } = &err else {
                    panic!("{url}: {err}");
                };
                assert_eq!(
                    reason,
                    &format!(
                        "weak sslmode \"{weak}\" may not be used with sslrootcert=system \
                         (use \"verify-full\")"
                    ),
                    "{url}"
                );
            }
        }
    }

    #[test]
    fn channel_binding_follows_libpq() {
        use tokio_postgres::config::ChannelBinding as Pg;
        let t = Duration::from_secs(1);
        let binding =
            |url: &str| ParsedUrl::parse(&url.into(), t).map(|p| p.pg.get_channel_binding());
        assert_eq!(binding("postgres://u@h/db").unwrap(), Pg::Prefer);
        assert_eq!(
            binding("postgres://u@h/db?channel_binding=disable").unwrap(),
            Pg::Disable
        );
        assert_eq!(
            binding("postgres://u@h/db?channel_binding=prefer").unwrap(),
            Pg::Prefer
        );
        assert_eq!(
            binding("postgres://u@h/db?channel_binding=require").unwrap(),
            Pg::Require
        );
        assert_eq!(
            binding("host=h channel_binding=require sslmode=require").unwrap(),
            Pg::Require
        );
        for bad in [
            "postgres://u@h/db?channel_binding=always",
            "postgres://u@h/db?channel_binding=Require",
            "postgres://u@h/db?channel_binding=require&sslmode=disable",
            "host=h sslmode=disable channel_binding=require",
        ] {
            assert!(
                matches!(binding(bad), Err(DbError::InvalidUrl { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn timeouts_become_session_settings() {
        let config = DbConfig::new("postgres://h/db");
        assert_eq!(
            config.session_settings().unwrap(),
            "SET default_transaction_isolation = 'read committed'; \
             SET statement_timeout = 30000; SET lock_timeout = 10000; \
             SET idle_in_transaction_session_timeout = 60000; "
        );
        let off = DbConfig::new("postgres://h/db")
            .statement_timeout(None)
            .lock_timeout(Duration::from_millis(250))
            .idle_in_transaction_session_timeout(None);
        assert_eq!(
            off.session_settings().unwrap(),
            "SET default_transaction_isolation = 'read committed'; \
             SET statement_timeout = 0; SET lock_timeout = 250; \
             SET idle_in_transaction_session_timeout = 0; "
        );
        for (config, name) in [
            (
                DbConfig::new("postgres://h/db").statement_timeout(Duration::ZERO),
                "statement_timeout",
            ),
            (
                DbConfig::new("postgres://h/db").lock_timeout(Duration::from_micros(900)),
                "lock_timeout",
            ),
            (
                DbConfig::new("postgres://h/db")
                    .idle_in_transaction_session_timeout(Duration::from_secs(30 * 86_400)),
                "idle_in_transaction_session_timeout",
            ),
        ] {
            let err = config.session_settings().unwrap_err();
            assert!(
                matches!(err, DbError::InvalidArgument { name: n, .. } if n == name),
                "{err}"
            );
        }
    }
}
