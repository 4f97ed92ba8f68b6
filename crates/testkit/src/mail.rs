//! A real SMTP server for tests: MailDev (the mail catcher of `make dev`,
//! from npm, installed by `deploy/dev/ensure-deps.sh` into
//! `deploy/dev/mailcatcher`), run as its own process on free ports, read
//! through its REST API, and stopped and started again on the same ports
//! to play an SMTP server that is down.

use std::process::Stdio;

use serde::Deserialize;
use tokio::process::{Child, Command};

/// One e-mail the catcher received, decoded.
#[derive(Debug, Clone)]
pub struct CaughtMail {
    pub id: String,
    pub to: Vec<String>,
    pub from: String,
    /// The envelope's sender (MAIL FROM), where bounces go.
    pub envelope_from: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// Every header as it came, e.g. `("Message-ID", "<...>")`.
    pub headers: Vec<(String, String)>,
}

impl CaughtMail {
    /// The first header of that name (case-insensitive), trimmed.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
    }
}

pub struct MailCatcher {
    pub smtp_port: u16,
    pub http_port: u16,
    /// The user and password SMTP clients must sign in with, if any.
    login: Option<(String, String)>,
    child: Option<Child>,
    http: reqwest::Client,
}

#[derive(Deserialize)]
struct Listed {
    id: String,
    /// When it came, RFC 3339.
    time: String,
    #[serde(default)]
    envelope: ListedEnvelope,
}

#[derive(Deserialize, Default)]
struct ListedEnvelope {
    #[serde(default)]
    from: ListedAddress,
}

#[derive(Deserialize, Default)]
struct ListedAddress {
    #[serde(default)]
    address: String,
}

/// The catcher's program: `MAILDEV`, else the one ensure-deps.sh installs.
fn program() -> String {
    std::env::var("MAILDEV").unwrap_or_else(|_| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../deploy/dev/mailcatcher/node_modules/.bin/maildev"
        )
        .to_owned()
    })
}

impl MailCatcher {
    /// Starts a catcher on free ports and waits until it answers.
    pub async fn start() -> MailCatcher {
        Self::start_with(None).await
    }

    /// Starts a catcher that takes mail only from clients signed in as
    /// `user` with `password` (SMTP AUTH, in the clear: local tests only).
    pub async fn start_with_login(user: &str, password: &str) -> MailCatcher {
        Self::start_with(Some((user.to_owned(), password.to_owned()))).await
    }

    async fn start_with(login: Option<(String, String)>) -> MailCatcher {
        let mut catcher = MailCatcher {
            smtp_port: crate::nats::free_port(),
            http_port: crate::nats::free_port(),
            login,
            child: None,
            http: reqwest::Client::new(),
        };
        catcher.resume().await;
        catcher
    }

    /// `smtp://127.0.0.1:<port>`, for the service's settings.
    pub fn smtp_url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.smtp_port)
    }

    /// Its web page and REST API, e.g. `http://127.0.0.1:<port>`.
    pub fn web_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.http_port)
    }

    /// Stops it: its SMTP port refuses connections until [`MailCatcher::resume`].
    /// What it caught so far is forgotten.
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().await.expect("the catcher stops");
        }
    }

    /// Starts it again on the same ports.
    pub async fn resume(&mut self) {
        assert!(self.child.is_none(), "stop it first");
        let binary = program();
        let mut command = Command::new(&binary);
        command
            .args(["--ip", "127.0.0.1", "--silent"])
            .args(["--smtp", &self.smtp_port.to_string()])
            .args(["--web", &self.http_port.to_string()]);
        if let Some((user, password)) = &self.login {
            command.args(["--incoming-user", user, "--incoming-pass", password]);
        }
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("{binary} starts ({e}); deploy/dev/ensure-deps.sh installs it")
            });
        self.child = Some(child);
        let url = format!("{}/email", self.web_url());
        let http = self.http.clone();
        crate::eventually("the mail catcher to answer", || async {
            let response = http.get(&url).send().await.ok()?;
            response.status().is_success().then_some(())
        })
        .await;
    }

    /// Every e-mail caught so far, oldest first.
    pub async fn mails(&self) -> Vec<CaughtMail> {
        let url = format!("{}/email", self.web_url());
        let mut listed: Vec<Listed> = self
            .http
            .get(&url)
            .send()
            .await
            .expect("the catcher answers")
            .json()
            .await
            .expect("a list of messages");
        listed.sort_by(|a, b| a.time.cmp(&b.time));
        let mut mails = Vec::with_capacity(listed.len());
        for Listed { id, envelope, .. } in listed {
            let url = format!("http://127.0.0.1:{}/email/{id}/source", self.http_port);
            let source = self
                .http
                .get(&url)
                .send()
                .await
                .expect("the catcher answers")
                .bytes()
                .await
                .expect("a message's source");
            mails.push(decode(id, envelope.from.address, &source));
        }
        mails
    }

    /// Waits until at least `count` e-mails were caught; returns them all.
    pub async fn wait_for(&self, count: usize) -> Vec<CaughtMail> {
        crate::eventually(&format!("{count} e-mails caught"), || async {
            let mails = self.mails().await;
            (mails.len() >= count).then_some(mails)
        })
        .await
    }

    /// The e-mails sent to `address`.
    pub async fn mails_to(&self, address: &str) -> Vec<CaughtMail> {
        self.mails()
            .await
            .into_iter()
            .filter(|m| m.to.iter().any(|to| to.eq_ignore_ascii_case(address)))
            .collect()
    }
}

fn decode(id: String, envelope_from: String, source: &[u8]) -> CaughtMail {
    let parsed = mail_parser::MessageParser::default()
        .parse(source)
        .expect("an e-mail the parser reads");
    let addresses = |list: Option<&mail_parser::Address>| -> Vec<String> {
        list.map(|a| {
            a.iter()
                .filter_map(|addr| addr.address().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
    };
    CaughtMail {
        id,
        to: addresses(parsed.to()),
        from: addresses(parsed.from())
            .into_iter()
            .next()
            .unwrap_or_default(),
        envelope_from,
        subject: parsed.subject().unwrap_or_default().to_owned(),
        text: parsed.body_text(0).unwrap_or_default().into_owned(),
        html: parsed.body_html(0).unwrap_or_default().into_owned(),
        headers: parsed
            .headers_raw()
            .map(|(name, value)| (name.to_owned(), value.trim().to_owned()))
            .collect(),
    }
}
