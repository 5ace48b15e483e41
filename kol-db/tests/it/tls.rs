//! TLS against the local server (Debian's cluster serves TLS with its self-signed "snakeoil"
//! certificate when `ssl = on`; scripts/provision-postgres.sh makes sure it is on).

#![allow(clippy::unwrap_used, clippy::expect_used)]

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
    // Trusting only the public roots, the self-signed certificate is refused too.
    let system = with_params(&url, "sslmode=verify-ca&sslrootcert=system");
    assert!(matches!(
        Database::connect(system).await,
        Err(DbError::Connection(_))
    ));
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
        matches!(err, DbError::Connection(_)),
        "a self-signed certificate is not in the public roots: {err}"
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
