//! A service run as its own process, as in production: started from its
//! binary with its environment, waited for until `/readyz` answers, and
//! stopped with SIGTERM, which must end it cleanly.

use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};

use crate::PATIENCE;
use crate::env::TestEnv;

pub struct ServiceProcess {
    child: Child,
}

impl ServiceProcess {
    /// Starts `binary` on the test's database and NATS prefix with the
    /// service's own `settings` (addresses, say), and waits until the ops
    /// endpoint at `ops_port` says it is ready.
    pub async fn start(
        binary: &str,
        env: &TestEnv,
        settings: &[(&str, String)],
        ops_port: u16,
    ) -> ServiceProcess {
        let common = env.common();
        let mut command = Command::new(binary);
        command
            .env("CHAT_DATABASE_URL", &common.database_url)
            .env("CHAT_NATS_URL", &common.nats_url)
            .env("CHAT_NATS_PREFIX", &common.nats_prefix)
            .env("RUST_LOG", "warn")
            .envs(settings.iter().map(|(k, v)| (*k, v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .kill_on_drop(true);
        if std::env::var_os("TEST_LOG").is_none() {
            command.stderr(Stdio::null());
        }
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("{binary} starts: {e}"));
        let ready = format!("http://127.0.0.1:{ops_port}/readyz");
        let exited = crate::eventually(&format!("{binary} to be ready"), || {
            // A process that ended will never be ready: say so at once.
            let ended = child.try_wait().ok().flatten();
            let ready = &ready;
            async move {
                if ended.is_some() {
                    return Some(ended);
                }
                let response = reqwest::get(ready).await.ok()?;
                (response.status() == 200).then_some(None)
            }
        })
        .await;
        if let Some(status) = exited {
            panic!("{binary} exited before it was ready ({status}); TEST_LOG=1 shows its log");
        }
        ServiceProcess { child }
    }

    /// Sends SIGTERM and waits for the process to end; returns whether it
    /// exited with success.
    pub async fn terminate(mut self) -> bool {
        let pid = self.child.id().expect("still running").to_string();
        let sent = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .await
            .expect("kill runs");
        assert!(sent.success(), "SIGTERM could not be sent");
        let status = tokio::time::timeout(PATIENCE + Duration::from_secs(10), self.child.wait())
            .await
            .expect("the service ends after SIGTERM")
            .expect("wait");
        status.success()
    }
}
