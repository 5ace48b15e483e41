//! A throw-away PostgreSQL cluster for tests that need server settings the shared test server
//! must keep (its own certificates, SCRAM password authentication): `initdb` in a directory
//! under /tmp, started on a free loopback port, stopped and removed when dropped, even when the
//! test fails. A cluster left by a killed test process is swept by the next one.
//!
//! The fault suite (`faults.rs`) also stops and starts a cluster while a client uses it
//! ([`ScratchCluster::stop`], [`ScratchCluster::start_again`]): the server comes back on the same
//! port with the same data.
//!
//! Certificates are made at test time with the `openssl` command: a test CA, a server
//! certificate it signs for `localhost` only, and a second CA that signs nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

/// PostgreSQL's server programs (override with `KOL_PG_BIN`).
fn pg_bin(program: &str) -> PathBuf {
    let dir = std::env::var("KOL_PG_BIN").unwrap_or_else(|_| "/usr/lib/postgresql/15/bin".into());
    let path = Path::new(&dir).join(program);
    assert!(
        path.exists(),
        "{} not found: these tests start their own PostgreSQL 15 cluster (install \
         postgresql-15, or set KOL_PG_BIN to its bin directory)",
        path.display()
    );
    path
}

/// The password of the cluster's superuser `postgres` (SCRAM-SHA-256).
pub(crate) const SCRAM_PASSWORD: &str = "scram-secret";
/// A role the cluster lets in over TLS without any password (`trust`).
pub(crate) const TRUST_USER: &str = "trusted";

static COUNTER: AtomicU32 = AtomicU32::new(0);
const DIR_PREFIX: &str = "kol-scratch-pg-";

/// Runs `program` with `args` as the cluster's owner (`postgres` when we are root: the server
/// refuses to run as root).
fn run_as_owner(program: &Path, args: &[&str]) -> std::process::Output {
    let mut command = if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    };
    command
        .args(args)
        .output()
        .expect("run a PostgreSQL program")
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn chown_to_owner(path: &Path) {
    if is_root() {
        let status = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(path)
            .status()
            .unwrap();
        assert!(status.success(), "chown {}", path.display());
    }
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("the openssl command (Debian: apt-get install openssl)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Makes a CA (`{name}.crt`, `{name}.key`) in `dir`.
fn make_ca(dir: &Path, name: &str) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-new",
            "-nodes",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-sha256",
            "-days",
            "2",
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.crt"),
            "-subj",
            &format!("/CN=kol-db test {name}"),
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    );
}

/// Makes `server.crt` / `server.key` for `localhost` only, signed by the CA `ca`.
fn make_server_cert(dir: &Path, ca: &str) {
    openssl(
        dir,
        &[
            "req",
            "-new",
            "-nodes",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=localhost",
        ],
    );
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n\
         keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            &format!("{ca}.crt"),
            "-CAkey",
            &format!("{ca}.key"),
            "-CAcreateserial",
            "-sha256",
            "-days",
            "2",
            "-extfile",
            "server.ext",
            "-out",
            "server.crt",
        ],
    );
}

/// A running throw-away cluster, TLS on with a certificate for `localhost` signed by
/// [`ScratchCluster::ca`].
#[derive(Debug)]
pub(crate) struct ScratchCluster {
    dir: PathBuf,
    port: u16,
    /// The server options it was started with (port included), for a restart.
    options: String,
}

/// How [`ScratchCluster::stop`] stops the server (`pg_ctl stop -m`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StopMode {
    /// Disconnects every client (their transactions roll back) and shuts down cleanly.
    Fast,
    /// Kills every server process at once, as a crash would: crash recovery runs at the next
    /// start.
    Immediate,
}

impl ScratchCluster {
    /// initdb, certificates, `pg_hba.conf` (SCRAM for everyone over TCP, [`TRUST_USER`] trusted
    /// over TLS), start; panics with the server's log when it cannot.
    pub(crate) fn start() -> Self {
        sweep_orphans();
        let dir = std::env::temp_dir().join(format!(
            "{DIR_PREFIX}{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        // From here on, Drop cleans up whatever happens.
        let mut cluster = Self {
            dir,
            port: 0,
            options: String::new(),
        };
        let dir = cluster.dir.clone();
        make_ca(&dir, "ca");
        make_ca(&dir, "other_ca");
        make_server_cert(&dir, "ca");
        {
            use std::os::unix::fs::PermissionsExt;
            // The server refuses a private key others can read.
            std::fs::set_permissions(
                dir.join("server.key"),
                std::fs::Permissions::from_mode(0o600),
            )
            .unwrap();
        }
        std::fs::write(dir.join("pwfile"), format!("{SCRAM_PASSWORD}\n")).unwrap();
        chown_to_owner(&dir);
        let data = dir.join("data");
        let out = run_as_owner(
            &pg_bin("initdb"),
            &[
                "-D",
                data.to_str().unwrap(),
                "-U",
                "postgres",
                "--pwfile",
                dir.join("pwfile").to_str().unwrap(),
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "-N",
                "--no-instructions",
            ],
        );
        assert!(
            out.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::write(
            data.join("pg_hba.conf"),
            format!(
                "local all all trust\n\
                 hostssl all {TRUST_USER} 127.0.0.1/32 trust\n\
                 host all all 127.0.0.1/32 scram-sha-256\n"
            ),
        )
        .unwrap();
        chown_to_owner(&data);
        // A free port: ask the kernel for one, then let the server take it (retried if another
        // process takes it first).
        for _ in 0..5 {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let options = format!(
                "-c port={port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={} \
                 -c ssl=on -c ssl_cert_file={} -c ssl_key_file={} -c fsync=off \
                 -c max_connections=20 -c shared_buffers=16MB",
                dir.display(),
                dir.join("server.crt").display(),
                dir.join("server.key").display(),
            );
            let out = run_as_owner(
                &pg_bin("pg_ctl"),
                &[
                    "-D",
                    data.to_str().unwrap(),
                    "-l",
                    dir.join("server.log").to_str().unwrap(),
                    "-w",
                    "-t",
                    "60",
                    "-o",
                    &options,
                    "start",
                ],
            );
            if out.status.success() {
                cluster.port = port;
                cluster.options = options;
                cluster.psql(&format!("CREATE ROLE {TRUST_USER} LOGIN"));
                return cluster;
            }
        }
        let log = std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
        panic!("the scratch cluster did not start:\n{log}");
    }

    /// Runs SQL as the superuser through the cluster's own socket.
    fn psql(&self, sql: &str) {
        let psql = pg_bin("psql");
        let port = self.port.to_string();
        let out = run_as_owner(
            &psql,
            &[
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                self.dir.to_str().unwrap(),
                "-p",
                &port,
                "-U",
                "postgres",
                "-d",
                "postgres",
                "-c",
                sql,
            ],
        );
        assert!(
            out.status.success(),
            "psql {sql}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Stops the server (`mode`); the data stays. Panics when `pg_ctl` fails.
    pub(crate) fn stop(&self, mode: StopMode) {
        let data = self.dir.join("data");
        let mode = match mode {
            StopMode::Fast => "fast",
            StopMode::Immediate => "immediate",
        };
        let out = run_as_owner(
            &pg_bin("pg_ctl"),
            &[
                "-D",
                data.to_str().unwrap(),
                "-m",
                mode,
                "-w",
                "-t",
                "60",
                "stop",
            ],
        );
        assert!(
            out.status.success(),
            "pg_ctl stop -m {mode}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Starts the stopped server again, on the same port with the same options, and waits
    /// until it accepts connections (after crash recovery, if it was stopped `Immediate`).
    /// Panics with the server's log when it cannot.
    pub(crate) fn start_again(&self) {
        let data = self.dir.join("data");
        let out = run_as_owner(
            &pg_bin("pg_ctl"),
            &[
                "-D",
                data.to_str().unwrap(),
                "-l",
                self.dir.join("server.log").to_str().unwrap(),
                "-w",
                "-t",
                "60",
                "-o",
                &self.options,
                "start",
            ],
        );
        if !out.status.success() {
            let log = std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default();
            panic!("the scratch cluster did not start again:\n{log}");
        }
    }

    /// The port the cluster listens on (127.0.0.1).
    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    /// The CA that signed the server's certificate.
    pub(crate) fn ca(&self) -> PathBuf {
        self.dir.join("ca.crt")
    }

    /// A CA that signed nothing the server has.
    pub(crate) fn other_ca(&self) -> PathBuf {
        self.dir.join("other_ca.crt")
    }

    /// A URL for the SCRAM superuser at `host` (`127.0.0.1` or `localhost`), with `params`.
    pub(crate) fn url(&self, host: &str, params: &str) -> String {
        format!(
            "postgres://postgres:{SCRAM_PASSWORD}@{host}:{}/postgres?{params}",
            self.port
        )
    }

    /// A URL for [`TRUST_USER`] (no password), with `params`.
    pub(crate) fn trust_url(&self, params: &str) -> String {
        format!(
            "postgres://{TRUST_USER}@127.0.0.1:{}/postgres?{params}",
            self.port
        )
    }
}

fn stop_and_remove(dir: &Path) {
    let data = dir.join("data");
    if data.join("postmaster.pid").exists() {
        let _ = run_as_owner(
            &pg_bin("pg_ctl"),
            &[
                "-D",
                data.to_str().unwrap_or(""),
                "-m",
                "immediate",
                "-w",
                "stop",
            ],
        );
    }
    let _ = std::fs::remove_dir_all(dir);
}

impl Drop for ScratchCluster {
    fn drop(&mut self) {
        stop_and_remove(&self.dir);
    }
}

/// Stops and removes the clusters of test processes that are gone.
fn sweep_orphans() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix(DIR_PREFIX) else {
            continue;
        };
        let pid = rest.split('-').next().and_then(|p| p.parse::<u32>().ok());
        if let Some(pid) = pid {
            if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
                stop_and_remove(&entry.path());
            }
        }
    }
}
