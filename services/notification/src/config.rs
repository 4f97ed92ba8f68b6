//! Settings of the notification service: `NOTIFICATION_*` variables, plus the shared `CHAT_*`.

use chat_platform::config::{Common, load};
use chat_platform::secrets::SecretKeys;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// `NOTIFICATION_OPS_ADDR`: where `/healthz`, `/readyz` and `/metrics` listen.
    pub ops_addr: String,
    /// `NOTIFICATION_GRPC_ADDR`: its gRPC API (managers' preferences), for the gateway.
    pub grpc_addr: String,
    /// `NOTIFICATION_DIALOG_URL`: the dialog service's gRPC endpoint (the
    /// conversation an e-mail to a visitor shows, and what became of replies).
    pub dialog_url: String,
    /// `NOTIFICATION_BACKEND_TIMEOUT_SECS`: the longest a call to the dialog service may take.
    pub backend_timeout_secs: u64,
    /// `NOTIFICATION_VISITOR_GRACE_SECS`: a site-chat reply to a visitor
    /// without an open widget is e-mailed this long after it, unless they
    /// came back meanwhile (between two pages, say).
    pub visitor_grace_secs: u64,
    /// `NOTIFICATION_CONSOLE_URL`: where managers open the console, for the
    /// links in e-mails, e.g. `https://chat.example.com/console/`.
    pub console_url: String,
    /// `NOTIFICATION_ALERT_WINDOW_SECS`: a visitor's messages this close to
    /// the first one a manager was not told of make one e-mail.
    pub alert_window_secs: u64,
    /// `NOTIFICATION_SMTP_URL`: the SMTP server every e-mail leaves by:
    /// `smtp://host:port` (plain, for a local relay or catcher),
    /// `smtp://host:587?tls=required` (STARTTLS) or `smtps://host:465`
    /// (implicit TLS), with `user:password@` before the host when it asks.
    pub smtp_url: String,
    /// `NOTIFICATION_SMTP_POOL_SIZE`: SMTP connections kept open at most
    /// (and e-mails sent at once). lettre 0.11.23 leaves Nagle on, so each
    /// e-mail waits about 20-40 ms for the server's delayed ACK whatever
    /// the server: a connection carries 25-45 e-mails a second (BENCHMARKS.md).
    pub smtp_pool_size: u32,
    /// `NOTIFICATION_SMTP_TIMEOUT_SECS`: the longest one SMTP exchange may take.
    pub smtp_timeout_secs: u64,
    /// `NOTIFICATION_MAIL_FROM`: the sender address of every e-mail (the
    /// name shown is the shop's); a domain the SMTP server may send for.
    pub mail_from: String,
    /// `NOTIFICATION_SEND_ATTEMPTS`: tries of one e-mail, with backoff
    /// (doubling from `NOTIFICATION_RETRY_BASE_MS` to at most 30 min), before it is recorded as failed.
    pub send_attempts: i32,
    /// `NOTIFICATION_RETRY_BASE_MS`: the first wait before trying an e-mail
    /// again (it doubles each time).
    pub retry_base_ms: u64,
    /// `NOTIFICATION_INBOUND_DOMAIN`: the domain of the dialogs' reply
    /// addresses (`reply+…@<domain>`), whose MX points at the SMTP listener
    /// or at a mail host with the webhook; empty: e-mails to visitors carry
    /// no reply address of a dialog.
    pub inbound_domain: String,
    /// `NOTIFICATION_INBOUND_SECRET`: the key reply addresses are signed
    /// with (16 characters or more; keep it, or older addresses stop working).
    pub inbound_secret: String,
    /// `NOTIFICATION_SMTP_LISTEN_ADDR`: where the SMTP listener for answers
    /// listens (port 25 behind the MX); empty: none.
    pub smtp_listen_addr: String,
    /// `NOTIFICATION_INBOUND_HTTP_ADDR`: where the inbound webhook
    /// (`POST /inbound/postmark`) listens; empty: none.
    pub inbound_http_addr: String,
    /// `NOTIFICATION_INBOUND_WEBHOOK_TOKEN`: the webhook's password (HTTP
    /// Basic, user `inbound`).
    pub inbound_webhook_token: String,
    /// `NOTIFICATION_VAPID_PRIVATE_KEY`: the VAPID private key (base64url of
    /// the P-256 scalar), from a Secret; empty: one made at the first start
    /// and kept in the database.
    pub vapid_private_key: String,
    /// `NOTIFICATION_PUSH_HOSTS`: the push services a browser's subscription
    /// may point at (each host or its subdomains), comma-separated.
    pub push_hosts: String,
    /// `NOTIFICATION_SECRET_KEYS`: the keys shops' SMTP passwords are
    /// sealed under, `id:base64,...` (32 random bytes each, newest first,
    /// rotated as `BRIDGE_SECRET_KEYS`); empty: no shop can use its own
    /// SMTP server.
    pub secret_keys: SecretKeys,
    /// `NOTIFICATION_SHOP_SMTP_ANY_HOST`: shops' own SMTP servers may be on
    /// private and loopback addresses, at any port, without TLS. For
    /// development and tests only: it lets an owner reach inside the
    /// deployment's network.
    pub shop_smtp_any_host: bool,
    #[serde(skip)]
    pub common: Common,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            ops_addr: "127.0.0.1:9103".into(),
            grpc_addr: "127.0.0.1:50054".into(),
            dialog_url: "http://127.0.0.1:50051".into(),
            backend_timeout_secs: 10,
            visitor_grace_secs: 15,
            console_url: "http://127.0.0.1:8080/console/".into(),
            alert_window_secs: 60,
            smtp_url: "smtp://127.0.0.1:1025".into(),
            smtp_pool_size: 8,
            smtp_timeout_secs: 30,
            mail_from: "chat@localhost".into(),
            send_attempts: 20,
            retry_base_ms: 5_000,
            inbound_domain: String::new(),
            inbound_secret: String::new(),
            smtp_listen_addr: String::new(),
            inbound_http_addr: String::new(),
            inbound_webhook_token: String::new(),
            vapid_private_key: String::new(),
            push_hosts:
                "fcm.googleapis.com,push.services.mozilla.com,push.apple.com,notify.windows.com"
                    .into(),
            secret_keys: SecretKeys::default(),
            shop_smtp_any_host: false,
            common: Common::default(),
        }
    }
}

impl Config {
    pub fn load() -> anyhow::Result<Self> {
        let mut config: Self = load("NOTIFICATION_", "notification")?;
        config.common = Common::load()?;
        Ok(config)
    }
}
