//! A PostgreSQL server of a test's own, on a free port, that the test can
//! stop as a crash would (immediate shutdown) and start again with its data
//! kept. Built from the machine's PostgreSQL binaries; as root, the server
//! runs as the `postgres` user (PostgreSQL refuses to run as root).

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Stdio;

/// The `chat` role's password, as the set-up gives it.
const PASSWORD: &str = "chat";

pub struct PgServer {
    pub port: u16,
    dir: PathBuf,
    bin: PathBuf,
    running: bool,
}

impl PgServer {
    /// Creates a cluster and starts it. It is configured as a fresh Debian
    /// configures one: role `chat` with password `chat`, password
    /// authentication (scram-sha-256) over TCP.
    pub async fn start() -> PgServer {
        let mut server = PgServer {
            port: crate::nats::free_port(),
            dir: std::env::temp_dir().join(crate::unique_name("pg")),
            bin: binaries(),
            running: false,
        };
        run("mkdir", vec!["-p".into(), server.dir.clone().into()]).await;
        // initdb runs as the server's user, who must read the password file.
        let password_file = std::env::temp_dir().join(crate::unique_name("pgpass"));
        std::fs::write(&password_file, PASSWORD).expect("a password file");
        let initdb = server.bin.join("initdb");
        let args = vec![
            "-U".into(),
            "chat".into(),
            "--auth-local=trust".into(),
            "--auth-host=scram-sha-256".into(),
            format!("--pwfile={}", password_file.display()).into(),
            "-D".into(),
            server.dir.clone().into(),
        ];
        run(initdb.to_str().expect("path"), args).await;
        let _ = std::fs::remove_file(&password_file);
        server.resume().await;
        server
    }

    /// The URL of `database` on this server.
    pub fn url(&self, database: &str) -> String {
        format!(
            "postgres://chat:{PASSWORD}@127.0.0.1:{}/{database}",
            self.port
        )
    }

    /// Kills the server as a crash would: no checkpoint, recovery at the next start.
    pub async fn stop(&mut self) {
        self.pg_ctl(&["stop", "-m", "immediate"]).await;
        self.running = false;
    }

    /// Starts the server again on the same port and data, and waits for it.
    pub async fn resume(&mut self) {
        let log = self.dir.join("log");
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {}",
            self.port,
            self.dir.display()
        );
        let log = log.to_str().expect("path").to_owned();
        self.pg_ctl(&["start", "-w", "-t", "60", "-l", &log, "-o", &options])
            .await;
        self.running = true;
    }

    async fn pg_ctl(&self, args: &[&str]) {
        let pg_ctl = self.bin.join("pg_ctl");
        let mut all: Vec<OsString> = args.iter().map(OsString::from).collect();
        all.extend(["-D".into(), self.dir.clone().into()]);
        run(pg_ctl.to_str().expect("path"), all).await;
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        if self.running {
            let pg_ctl = self.bin.join("pg_ctl");
            let _ = as_server_user(pg_ctl.to_str().expect("path"))
                .args(["stop", "-m", "immediate", "-D"])
                .arg(&self.dir)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        let _ = as_server_user("rm").arg("-rf").arg(&self.dir).status();
    }
}

/// Runs a command to completion (as `postgres` when we are root); panics on failure.
async fn run(program: &str, args: Vec<OsString>) {
    let mut command = tokio::process::Command::from(as_server_user(program));
    let output = command
        .args(&args)
        .stdin(Stdio::null())
        .output()
        .await
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(
        output.status.success(),
        "{program} {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn as_server_user(program: &str) -> std::process::Command {
    let root = std::fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        .unwrap_or(false);
    if root {
        let mut command = std::process::Command::new("runuser");
        command.args(["-u", "postgres", "--", program]);
        command
    } else {
        std::process::Command::new(program)
    }
}

/// The newest installed PostgreSQL's binaries (Debian keeps them per version).
fn binaries() -> PathBuf {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|dirs| {
            dirs.filter_map(|d| Some(d.ok()?.path().join("bin")))
                .collect()
        })
        .unwrap_or_default();
    versions.retain(|bin| bin.join("initdb").exists());
    versions.sort();
    versions
        .pop()
        .expect("PostgreSQL's server binaries (deploy/dev/ensure-deps.sh installs them)")
}
