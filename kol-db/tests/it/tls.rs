//! TLS against the local server (Debian's cluster serves TLS with its self-signed "snakeoil"
//! certificate when `ssl = on`; scripts/provision-postgres.sh makes sure it is on), and against a
//! throw-away cluster with a test CA and SCRAM passwords (`scratch_cluster`) for host name
//! checks, untrusted roots and channel binding.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::scratch_cluster::{SCRAM_PASSWORD, ScratchCluster};
use kol_db::testing::{TestDatabase, execute_sql};
use kol_db::{Database, DbError};

fn with_params(url: &str, params: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{params}")
}

async fn ssl_in_use(db: &Database) -> bool {
    execute_sql(
        db,
        "SELECT 1 FROM pg_stat_ssl WHERE pid = pg_backend_pid() AND ssl",
    )
    .await
    .unwrap()
        == 1
}

#[tokio::test]
async fn sslmode_require_encrypts_and_disable_does_not() {
    let t = TestDatabase::new().await.unwrap();
    let url = t.url().expose().to_owned();
    let tls = Database::connect(with_params(&url, "sslmode=require"))
        .await
        .unwrap();
    assert!(ssl_in_use(&tls).await, "sslmode=require must encrypt");
    let plain = Database::connect(with_params(&url, "sslmode=disable"))
        .await
        .unwrap();
    assert!(!ssl_in_use(&plain).await);
    let default = Database::connect(url.clone()).await.unwrap();
    assert!(
        ssl_in_use(&default).await,
        "the default (prefer) encrypts when the server offers TLS"
    );
    // The whole API works over TLS.
    assert_eq!(tls.count_kols().await.unwrap(), 0);
}

#[tokio::test]
async fn verify_full_rejects_a_certificate_for_another_host() {
    let t = TestDatabase::new().await.unwrap();
    let url = t.url().expose().to_owned();
    // The snakeoil certificate names a host (the machine's name, or localhost), never 127.0.0.1.
    let strict = with_params(
        &url,
        "sslmode=verify-full&sslrootcert=/etc/ssl/certs/ssl-cert-snakeoil.pem",
    );
    let err = Database::connect(strict).await.unwrap_err();
    assert!(matches!(err, DbError::Connection(_)), "{err}");
    // Trusting only the public roots (verify-full, the default with them), the self-signed
    // certificate is refused too.
    let system = with_params(&url, "sslrootcert=system");
    let err = Database::connect(system).await.unwrap_err();
    assert!(matches!(err, DbError::Connection(_)), "{err}");
    // libpq 16: a weaker mode with the public roots is refused before any connection.
    let system = with_params(&url, "sslmode=verify-ca&sslrootcert=system");
    let err = Database::connect(system).await.unwrap_err();
    assert!(matches!(err, DbError::InvalidUrl { .. }), "{err}");
    // A missing root file is a TLS setup error, before any connection.
    let missing = with_params(&url, "sslmode=verify-ca&sslrootcert=/nonexistent/root.crt");
    let err = Database::connect(missing).await.unwrap_err();
    assert!(matches!(err, DbError::Tls(_)), "{err}");
}

#[tokio::test]
async fn verify_ca_accepts_the_servers_own_certificate() {
    let t = TestDatabase::new().await.unwrap();
    let url = t.url().expose().to_owned();
    let snakeoil = "sslrootcert=/etc/ssl/certs/ssl-cert-snakeoil.pem";
    let db = Database::connect(with_params(&url, &format!("sslmode=verify-ca&{snakeoil}")))
        .await
        .unwrap();
    assert!(ssl_in_use(&db).await);
    // libpq's rule: `require` with a root file verifies the chain too.
    let db = Database::connect(with_params(&url, &format!("sslmode=require&{snakeoil}")))
        .await
        .unwrap();
    assert!(ssl_in_use(&db).await);
    let err = Database::connect(with_params(&url, "sslmode=require&sslrootcert=system"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, DbError::InvalidUrl { ref reason, .. } if reason.contains("weak sslmode \"require\"")),
        "require with the public roots is refused, as libpq 16 does: {err}"
    );

    // The same settings in a key/value connection string.
    let u = url::Url::parse(&url).unwrap();
    let kv = format!(
        "host={} port={} user={} password={} dbname={} sslmode=verify-ca {snakeoil}",
        u.host_str().unwrap(),
        u.port().unwrap_or(5432),
        u.username(),
        u.password().unwrap_or(""),
        u.path().trim_start_matches('/'),
    );
    let db = Database::connect(kv).await.unwrap();
    assert!(ssl_in_use(&db).await);
}

#[tokio::test]
async fn errors_never_show_the_password() {
    let err = Database::connect("postgres://kol_test:hunter2@127.0.0.1:1/nowhere")
        .await
        .unwrap_err();
    assert!(matches!(err, DbError::Connection(_)), "{err}");
    assert!(!format!("{err} {err:?}").contains("hunter2"));
    let t = TestDatabase::new().await.unwrap();
    assert!(!format!("{:?} {}", t.db(), t.db().url()).contains("kol_test:kol_test"));
}

#[tokio::test]
async fn no_secret_key_shows_in_errors_debug_or_display() {
    for url in [
        "postgres://kol@127.0.0.1:1/nowhere?sslpassword=hunter2",
        "postgres://kol@127.0.0.1:1/nowhere?PASSWORD=hunter2",
        "postgres://kol:hunter2@127.0.0.1:1/nowhere?SslPassword=hunter2",
        "host=127.0.0.1 port=1 user=kol SSLPassword='hunter2 with spaces'",
        "host=127.0.0.1 port=1 user=kol Password = 'it\\'s hunter2'",
        "host=127.0.0.1 port=1 user=kol password='hunter2\\\\' dbname=nowhere",
    ] {
        let err = Database::connect(url).await.unwrap_err();
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains("hunter2"), "{url}: {shown}");
        let url = kol_db::DatabaseUrl::new(url);
        let shown = format!("{url} {url:?} {:?}", kol_db::DbConfig::new(url.clone()));
        assert!(!shown.contains("hunter2"), "{shown}");
    }
}

/// Connects and tells whether the session is encrypted (`pg_stat_ssl`).
async fn connect_and_check_ssl(url: &str) -> Result<bool, DbError> {
    let db = Database::connect(url).await?;
    Ok(ssl_in_use(&db).await)
}

#[tokio::test]
async fn certificates_are_verified_as_each_sslmode_says() {
    let cluster = ScratchCluster::start();
    let ca = cluster.ca().display().to_string();
    let other_ca = cluster.other_ca().display().to_string();

    // verify-full: the certificate names `localhost`, not 127.0.0.1.
    let wrong_host = cluster.url(
        "127.0.0.1",
        &format!("sslmode=verify-full&sslrootcert={ca}"),
    );
    let err = connect_and_check_ssl(&wrong_host).await.unwrap_err();
    assert!(matches!(err, DbError::Connection(_)), "{err}");
    let right_host = format!(
        "host=localhost hostaddr=127.0.0.1 port={} user=postgres password={SCRAM_PASSWORD} \
         dbname=postgres sslmode=verify-full sslrootcert={ca}",
        cluster.port()
    );
    assert!(connect_and_check_ssl(&right_host).await.unwrap());

    // verify-ca: the chain must lead to the given root; the host name is not checked.
    let untrusted = cluster.url(
        "127.0.0.1",
        &format!("sslmode=verify-ca&sslrootcert={other_ca}"),
    );
    let err = connect_and_check_ssl(&untrusted).await.unwrap_err();
    assert!(matches!(err, DbError::Connection(_)), "{err}");
    let trusted = cluster.url("127.0.0.1", &format!("sslmode=verify-ca&sslrootcert={ca}"));
    assert!(connect_and_check_ssl(&trusted).await.unwrap());
    // libpq: `require` with a root file is verify-ca.
    let require_untrusted = cluster.url(
        "127.0.0.1",
        &format!("sslmode=require&sslrootcert={other_ca}"),
    );
    assert!(connect_and_check_ssl(&require_untrusted).await.is_err());

    // require without a root: encrypted, certificate not verified.
    let require = cluster.url("127.0.0.1", "sslmode=require");
    assert!(
        connect_and_check_ssl(&require).await.unwrap(),
        "require encrypts"
    );

    // The public roots: verify-full by default, so this private CA's certificate is refused
    // (before libpq 16's rule, this URL connected without any verification, as `prefer`).
    let system = cluster.url("localhost", "sslrootcert=system");
    let err = connect_and_check_ssl(&system).await.unwrap_err();
    assert!(matches!(err, DbError::Connection(_)), "{err}");
    for weak in ["disable", "allow", "prefer", "require", "verify-ca"] {
        let url = cluster.url("localhost", &format!("sslrootcert=system&sslmode={weak}"));
        let err = connect_and_check_ssl(&url).await.unwrap_err();
        assert!(matches!(err, DbError::InvalidUrl { .. }), "{weak}: {err}");
        assert!(!err.to_string().contains(SCRAM_PASSWORD), "{err}");
    }
}

#[tokio::test]
async fn channel_binding_binds_scram_to_the_tls_channel() {
    let cluster = ScratchCluster::start();
    // SCRAM over TLS: channel binding is there to use.
    for binding in ["require", "prefer", "disable"] {
        let url = cluster.url(
            "127.0.0.1",
            &format!("sslmode=require&channel_binding={binding}"),
        );
        assert!(
            connect_and_check_ssl(&url).await.unwrap(),
            "channel_binding={binding} over TLS"
        );
    }
    // Without TLS there is no channel to bind to: refused before connecting.
    let plain = cluster.url("127.0.0.1", "sslmode=disable&channel_binding=require");
    let err = connect_and_check_ssl(&plain).await.unwrap_err();
    assert!(matches!(err, DbError::InvalidUrl { .. }), "{err}");
    // Without channel binding, SCRAM without TLS works (prefer falls back).
    let plain = cluster.url("127.0.0.1", "sslmode=disable&channel_binding=prefer");
    assert!(!connect_and_check_ssl(&plain).await.unwrap());
    // A server that lets the user in without SCRAM (trust) cannot bind: `require` refuses it,
    // `prefer` accepts it.
    let err = connect_and_check_ssl(&cluster.trust_url("sslmode=require&channel_binding=require"))
        .await
        .unwrap_err();
    assert!(matches!(err, DbError::Connection(_)), "{err}");
    assert!(
        connect_and_check_ssl(&cluster.trust_url("sslmode=require&channel_binding=prefer"))
            .await
            .unwrap()
    );
}
