//! Settings of the gateway: `GATEWAY_*` variables, plus the shared `CHAT_*`.

use chat_platform::config::{Common, load};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// `GATEWAY_HTTP_ADDR`: REST, both WebSockets and the dev page (public).
    pub http_addr: String,
    /// `GATEWAY_OPS_ADDR`: where `/healthz`, `/readyz` and `/metrics` listen,
    /// apart from the public port.
    pub ops_addr: String,
    /// `GATEWAY_DIALOG_URL`: the dialog service's gRPC endpoint.
    pub dialog_url: String,
    /// `GATEWAY_CONTACT_URL`: the contact service's gRPC endpoint.
    pub contact_url: String,
    /// `GATEWAY_BRIDGE_URL`: the channel bridge's gRPC endpoint (messengers).
    pub bridge_url: String,
    /// `GATEWAY_NOTIFICATION_URL`: the notification service's gRPC endpoint
    /// (managers' e-mail and push choices).
    pub notification_url: String,
    /// `GATEWAY_SESSION_IDLE_SECS`: a manager's sessions end on every device
    /// after this long without activity on any of them (30 minutes).
    pub session_idle_secs: i64,
    /// `GATEWAY_SESSION_LIFETIME_HOURS`: a session ends this long after login, active or not.
    pub session_lifetime_hours: i64,
    /// `GATEWAY_PUBLIC_ORIGIN`: where managers open the console, e.g.
    /// `https://chat.example.com`; empty: the request's own host. The manager
    /// socket and cookie-authenticated changes accept only this `Origin`.
    pub public_origin: String,
    /// `GATEWAY_COOKIE_SECURE`: mark the session cookie `Secure` (behind HTTPS).
    pub cookie_secure: bool,
    /// `GATEWAY_REQUEST_TIMEOUT_SECS`: a REST request that takes longer gets 503.
    pub request_timeout_secs: u64,
    /// `GATEWAY_BACKEND_TIMEOUT_SECS`: the longest a gRPC call to the dialog or contact service may take.
    pub backend_timeout_secs: u64,
    /// `GATEWAY_WS_PING_SECS`: how often the server pings every socket.
    pub ws_ping_secs: u64,
    /// `GATEWAY_WS_IDLE_SECS`: a socket that sends nothing (not even a pong) for this long is closed (4408).
    pub ws_idle_secs: u64,
    /// `GATEWAY_WS_SEND_TIMEOUT_SECS`: a frame the client does not take within this long closes its socket.
    pub ws_send_timeout_secs: u64,
    /// `GATEWAY_MAX_SOCKETS`: open visitor sockets per replica; more get 503 before the upgrade.
    pub max_sockets: usize,
    /// `GATEWAY_MAX_MANAGER_SOCKETS`: open manager sockets per replica, a cap
    /// of their own that visitors cannot use up.
    pub max_manager_sockets: usize,
    /// `GATEWAY_VISITOR_SOCKETS_PER_ADDRESS`: visitor sockets one client address holds at once.
    pub visitor_sockets_per_address: u32,
    /// `GATEWAY_VISITOR_CONNECTS_PER_MINUTE_PER_ADDRESS`: visitor sockets one address opens a minute.
    pub visitor_connects_per_minute_per_address: u32,
    /// `GATEWAY_NEW_VISITORS_PER_MINUTE_PER_ADDRESS` and `..._PER_SITE`: new
    /// visitor credentials issued a minute to one address, and for one site.
    pub new_visitors_per_minute_per_address: u32,
    pub new_visitors_per_minute_per_site: u32,
    /// `GATEWAY_FIRST_MESSAGES_PER_MINUTE_PER_ADDRESS` and `..._PER_SITE`:
    /// visitors' messages that open a dialog, a minute, from one address and
    /// into one site.
    pub first_messages_per_minute_per_address: u32,
    pub first_messages_per_minute_per_site: u32,
    /// `GATEWAY_SOCKET_SENDS_PER_SEC`: `send` frames a socket may send per second (bursts of twice that).
    pub socket_sends_per_sec: u32,
    /// `GATEWAY_SEND_MAX_WAIT_MS`: longest a `send` waits behind the same
    /// socket's earlier sends into its dialog before it is refused
    /// `unavailable` (overload: refused fast rather than queued).
    pub send_max_wait_ms: u64,
    /// `GATEWAY_LOGINS_PER_MINUTE_PER_ADDRESS` and `..._PER_EMAIL`: login attempts before 429.
    pub logins_per_minute_per_address: u32,
    pub logins_per_minute_per_email: u32,
    /// `GATEWAY_INVITATIONS_PER_MINUTE_PER_ADDRESS`: attempts to accept an invitation before 429.
    pub invitations_per_minute_per_address: u32,
    /// `GATEWAY_TRUSTED_PROXIES`: comma-separated CIDRs (or addresses) of the
    /// reverse proxies in front of the gateway, whose forwarding header names
    /// the client; empty: the TCP peer is the client.
    pub trusted_proxies: String,
    /// `GATEWAY_FORWARDED_HEADER`: the header those proxies set,
    /// `x-forwarded-for` (default) or `forwarded` (RFC 7239).
    pub forwarded_header: String,
    /// `GATEWAY_PRESENCE_TTL_SECS`: a console or widget counts as gone this
    /// long after its replica last said it is there (replicas say so every
    /// third of it): how soon the sockets of a replica that died go offline.
    pub presence_ttl_secs: u64,
    /// `GATEWAY_DEV_PAGE`: serve the chat page for trying the suite at `/dev`.
    pub dev_page: bool,
    /// `GATEWAY_SEED_DEMO`: create the demo account and manager at start if missing.
    pub seed_demo: bool,
    /// `GATEWAY_DEMO_SHOP_ADDR`: with the dev page on, where the demo shop
    /// (a few pages carrying the widget's snippet) is served; empty: nowhere.
    pub demo_shop_addr: String,
    #[serde(skip)]
    pub common: Common,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            http_addr: "127.0.0.1:8080".into(),
            ops_addr: "127.0.0.1:9100".into(),
            dialog_url: "http://127.0.0.1:50051".into(),
            contact_url: "http://127.0.0.1:50052".into(),
            bridge_url: "http://127.0.0.1:50053".into(),
            notification_url: "http://127.0.0.1:50054".into(),
            session_idle_secs: 30 * 60,
            session_lifetime_hours: 12,
            public_origin: String::new(),
            cookie_secure: false,
            request_timeout_secs: 15,
            backend_timeout_secs: 10,
            ws_ping_secs: 20,
            ws_idle_secs: 60,
            ws_send_timeout_secs: 10,
            max_sockets: 20_000,
            max_manager_sockets: 2_000,
            visitor_sockets_per_address: 50,
            visitor_connects_per_minute_per_address: 120,
            new_visitors_per_minute_per_address: 20,
            new_visitors_per_minute_per_site: 1_200,
            first_messages_per_minute_per_address: 10,
            first_messages_per_minute_per_site: 300,
            socket_sends_per_sec: 20,
            send_max_wait_ms: crate::ws::pipeline::DEFAULT_MAX_LANE_WAIT.as_millis() as u64,
            logins_per_minute_per_address: 30,
            logins_per_minute_per_email: 10,
            invitations_per_minute_per_address: 10,
            trusted_proxies: String::new(),
            forwarded_header: "x-forwarded-for".into(),
            presence_ttl_secs: 60,
            dev_page: false,
            seed_demo: false,
            demo_shop_addr: String::new(),
            common: Common::default(),
        }
    }
}

impl Config {
    pub fn load() -> anyhow::Result<Self> {
        let mut config: Self = load("GATEWAY_", "gateway")?;
        config.common = Common::load()?;
        Ok(config)
    }
}
