//! Shops' own SMTP servers: what one may be, checking one (connecting and
//! signing in) before it is kept, and the connections the sender keeps to
//! each.
//!
//! A shop names a host the service then connects to, so the host must not
//! reach inside the deployment: it must resolve only to public addresses
//! ([`public_host`]), listen on an SMTP port, and speak TLS. The address
//! checked is the one connected to (never resolved a second time), with TLS
//! verifying the host's name, so a name that later resolves elsewhere gains
//! nothing.
//! `NOTIFICATION_SHOP_SMTP_ANY_HOST` lifts all three, for development and
//! tests against a local server.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use lettre::transport::smtp::PoolConfig;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{Address, AsyncSmtpTransport, Tokio1Executor};
use sqlx::PgPool;
use tokio::sync::Semaphore;
use uuid::Uuid;

use chat_platform::secrets::{KeyRing, Sealed};
use chat_platform::service_error::Error;

use crate::db::shop_smtp::{self, NewServer, Server};
use crate::mail::public_host;

/// The ports a shop's server may listen on: relay, submission over TLS,
/// submission, and the common alternative.
pub const SMTP_PORTS: [u16; 4] = [25, 465, 587, 2525];
/// The longest a check of a server may take, all steps together.
const CHECK_TIMEOUT: Duration = Duration::from_secs(8);
/// Connections to one shop's server at once (a provider's server answers
/// more with 421).
pub const POOL_SIZE: u32 = 2;
/// A shop's connection pool is built again after this long, so that a host
/// whose address moved is looked up (and checked) again.
const CONNECTION_MAX_AGE: Duration = Duration::from_secs(600);
/// Shops whose connections are kept at most; past it the oldest go.
const MAX_CACHED: usize = 1024;
const MAX_USERNAME_CHARS: usize = 254;
const MAX_PASSWORD_BYTES: usize = 1024;

/// How the connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// Plain, then STARTTLS before anything else (port 587 or 25).
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No TLS: local servers only (development and tests).
    None,
}

impl Security {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "starttls" => Some(Self::StartTls),
            "tls" => Some(Self::Tls),
            "none" => Some(Self::None),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::StartTls => "starttls",
            Self::Tls => "tls",
            Self::None => "none",
        }
    }
}

/// What an owner asks to keep.
#[derive(Debug, Clone)]
pub struct Change {
    pub host: String,
    pub port: u32,
    pub security: String,
    pub username: String,
    /// `None`: the password kept, when the host and user stay the same.
    pub password: Option<String>,
    pub from_address: String,
}

/// The connections to one shop's server.
pub struct Connection {
    /// The saved server they were built for (when it was saved).
    pub version: DateTime<Utc>,
    built: Instant,
    pub transport: AsyncSmtpTransport<Tokio1Executor>,
    /// E-mails through it at once, at most [`POOL_SIZE`]: lettre's pool
    /// bounds only the connections it keeps idle.
    pub sending: Semaphore,
    /// The shop's own address, the e-mails' From and envelope sender.
    pub from: Address,
}

/// Shops' servers: the rules, the key their passwords are sealed under,
/// and the connections kept open; cheap to clone.
#[derive(Clone)]
pub struct ShopServers {
    keys: Option<KeyRing>,
    any_host: bool,
    send_timeout: Duration,
    connections: Arc<Mutex<HashMap<Uuid, Arc<Connection>>>>,
}

impl ShopServers {
    pub fn new(keys: Option<KeyRing>, any_host: bool, send_timeout: Duration) -> Self {
        Self {
            keys,
            any_host,
            send_timeout,
            connections: Arc::default(),
        }
    }

    /// Checks `change` (its values, its host, then the server itself, signing
    /// in) and keeps it as the account's server; field errors otherwise, with
    /// nothing changed.
    pub async fn keep(
        &self,
        pool: &PgPool,
        account_id: Uuid,
        change: Change,
    ) -> Result<Server, Error> {
        let (security, port) = self.check_values(&change)?;
        let Some(keys) = &self.keys else {
            return Err(Error::field(
                "password",
                "cannot be kept: this deployment has no secret keys (NOTIFICATION_SECRET_KEYS)",
            ));
        };
        let mut conn = pool.acquire().await?;
        let kept = shop_smtp::get(&mut conn, account_id).await?;
        drop(conn);
        let password = match (change.username.is_empty(), &change.password) {
            (true, _) => None,
            (false, Some(password)) => Some(password.clone()),
            (false, None) => Some(self.kept_password(account_id, kept.as_ref(), &change)?),
        };
        let address = public_host::resolve(&change.host, port, self.any_host, CHECK_TIMEOUT)
            .await
            .map_err(|problem| Error::field("host", problem))?;
        let transport = transport(
            &change.host,
            security,
            credentials(&change.username, password.clone()),
            address,
            self.send_timeout.min(CHECK_TIMEOUT),
        )
        .map_err(|e| Error::field("host", e.to_string()))?;
        check(&transport, !change.username.is_empty()).await?;
        let sealed = password.map(|p| keys.seal(p.as_bytes(), &bound_to(account_id)));
        let server = NewServer {
            host: &change.host,
            port,
            security: security.as_str(),
            username: &change.username,
            password: sealed.as_ref(),
            from_address: &change.from_address,
        };
        let kept = shop_smtp::put(pool, account_id, &server).await?;
        self.forget(account_id);
        Ok(kept)
    }

    /// Back to the deployment's server: the settings and the password gone,
    /// and this replica's connections to it closed. (Another replica's are
    /// never used again, and go once they are old.)
    pub async fn remove(&self, pool: &PgPool, account_id: Uuid) -> Result<(), Error> {
        shop_smtp::remove(pool, account_id).await?;
        self.forget(account_id);
        Ok(())
    }

    fn forget(&self, account_id: Uuid) {
        self.connections
            .lock()
            .expect("not poisoned")
            .remove(&account_id);
    }

    /// The values alone: a host name, an SMTP port, a known security, a
    /// user and password of one line, an address to send from.
    fn check_values(&self, change: &Change) -> Result<(Security, u16), Error> {
        let mut problems = Vec::new();
        if !public_host::is_host_name(&change.host) {
            problems.push(("host", "must be a host name or an IP address".to_owned()));
        }
        let port = u16::try_from(change.port).ok().filter(|p| *p > 0);
        match port {
            Some(port) if self.any_host || SMTP_PORTS.contains(&port) => {}
            _ => problems.push(("port", format!("must be an SMTP port: {}", ports_list()))),
        }
        let security = Security::parse(&change.security);
        match security {
            None => problems.push(("security", "must be starttls, tls or none".to_owned())),
            Some(Security::None) if !self.any_host => problems.push((
                "security",
                "must be starttls or tls: the password and the e-mails would cross the internet in the clear".to_owned(),
            )),
            Some(_) => {}
        }
        if change.username.chars().count() > MAX_USERNAME_CHARS
            || change.username.chars().any(char::is_control)
        {
            problems.push((
                "username",
                format!("must be one line of at most {MAX_USERNAME_CHARS} characters"),
            ));
        }
        if let Some(password) = &change.password
            && (password.len() > MAX_PASSWORD_BYTES || password.chars().any(char::is_control))
        {
            problems.push((
                "password",
                format!("must be one line of at most {MAX_PASSWORD_BYTES} bytes"),
            ));
        }
        if change.from_address.len() > 254 || change.from_address.parse::<Address>().is_err() {
            problems.push(("from_address", "must be an e-mail address".to_owned()));
        }
        match (problems.is_empty(), security, port) {
            (true, Some(security), Some(port)) => Ok((security, port)),
            _ => Err(Error::Fields(problems)),
        }
    }

    /// The password kept for this account, when `change` keeps its host and
    /// user: a password is never carried to another server, where whoever
    /// set the host could read it.
    fn kept_password(
        &self,
        account_id: Uuid,
        kept: Option<&Server>,
        change: &Change,
    ) -> Result<String, Error> {
        let required = || Error::field("password", "is required for a new server or user");
        let Some(kept) = kept.filter(|k| k.host == change.host && k.username == change.username)
        else {
            return Err(required());
        };
        let Some(sealed) = &kept.password else {
            return Err(required());
        };
        self.open(account_id, sealed).map_err(|_| required())
    }

    fn open(&self, account_id: Uuid, sealed: &Sealed) -> anyhow::Result<String> {
        let keys = self
            .keys
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("no secret keys (NOTIFICATION_SECRET_KEYS)"))?;
        let bytes = keys.open(sealed, &bound_to(account_id))?;
        Ok(String::from_utf8(bytes)?)
    }

    /// The connections to the account's server as saved at `version`, built
    /// (or built again) when needed; `None` when the shop went back to the
    /// deployment's server meanwhile. An error is why nothing can be sent
    /// through it now.
    pub async fn connection(
        &self,
        pool: &PgPool,
        account_id: Uuid,
        version: DateTime<Utc>,
    ) -> anyhow::Result<Option<Arc<Connection>>> {
        let fresh = |c: &Connection| c.built.elapsed() < CONNECTION_MAX_AGE;
        let cached = self.cached(account_id);
        if let Some(cached) = &cached
            && cached.version == version
            && fresh(cached)
        {
            return Ok(Some(cached.clone()));
        }
        let mut conn = pool.acquire().await?;
        let Some(server) = shop_smtp::get(&mut conn, account_id).await? else {
            return Ok(None);
        };
        drop(conn);
        // An e-mail claimed before a save names the older version: the
        // connections to the newer one serve it.
        if let Some(cached) = cached
            && cached.version == server.updated_at
            && fresh(&cached)
        {
            return Ok(Some(cached));
        }
        let security = Security::parse(&server.security)
            .ok_or_else(|| anyhow::anyhow!("unknown security {}", server.security))?;
        let password = server
            .password
            .as_ref()
            .map(|sealed| self.open(account_id, sealed))
            .transpose()?;
        let address = public_host::resolve(&server.host, server.port, self.any_host, CHECK_TIMEOUT)
            .await
            .map_err(|problem| anyhow::anyhow!("the shop's SMTP host {problem}"))?;
        let connection = Arc::new(Connection {
            version: server.updated_at,
            built: Instant::now(),
            transport: transport(
                &server.host,
                security,
                credentials(&server.username, password),
                address,
                self.send_timeout,
            )?,
            sending: Semaphore::new(POOL_SIZE as usize),
            from: server.from_address.parse()?,
        });
        let mut connections = self.connections.lock().expect("not poisoned");
        // Old connections go, with the passwords they hold; a newer one
        // built meanwhile stays.
        connections.retain(|_, c| fresh(c));
        if connections.len() >= MAX_CACHED {
            connections.clear();
        }
        match connections.get(&account_id) {
            Some(newer) if newer.version > connection.version => Ok(Some(newer.clone())),
            _ => {
                connections.insert(account_id, connection.clone());
                Ok(Some(connection))
            }
        }
    }

    fn cached(&self, account_id: Uuid) -> Option<Arc<Connection>> {
        let connections = self.connections.lock().expect("not poisoned");
        connections.get(&account_id).cloned()
    }

    /// Seals again, under the current key, every password an older key
    /// sealed; how many. Run at start, after the key ring changed.
    pub async fn reseal_stale(&self, pool: &PgPool) -> anyhow::Result<u64> {
        let Some(keys) = &self.keys else {
            return Ok(0);
        };
        let mut resealed = 0;
        for server in shop_smtp::sealed_under_another(pool, keys.current_id()).await? {
            let Some(sealed) = &server.password else {
                continue;
            };
            let password = match self.open(server.account_id, sealed) {
                Ok(password) => password,
                Err(e) => {
                    tracing::error!(account = %server.account_id, error = %e, "a shop's SMTP password does not open: not sealed again");
                    continue;
                }
            };
            let new = keys.seal(password.as_bytes(), &bound_to(server.account_id));
            if shop_smtp::reseal(pool, server.account_id, sealed, &new).await? {
                resealed += 1;
            }
        }
        Ok(resealed)
    }
}

/// What a password is sealed for: its account's server, nowhere else.
fn bound_to(account_id: Uuid) -> Vec<u8> {
    format!("account_smtp:{account_id}").into_bytes()
}

fn credentials(username: &str, password: Option<String>) -> Option<Credentials> {
    password
        .filter(|_| !username.is_empty())
        .map(|password| Credentials::new(username.to_owned(), password))
}

/// Connections to `address`, the TLS certificate checked for `host`.
fn transport(
    host: &str,
    security: Security,
    credentials: Option<Credentials>,
    address: SocketAddr,
    timeout: Duration,
) -> anyhow::Result<AsyncSmtpTransport<Tokio1Executor>> {
    let tls = match security {
        Security::StartTls => Tls::Required(TlsParameters::new(host.to_owned())?),
        Security::Tls => Tls::Wrapper(TlsParameters::new(host.to_owned())?),
        Security::None => Tls::None,
    };
    let mut builder =
        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(address.ip().to_string())
            .port(address.port())
            .tls(tls)
            .timeout(Some(timeout))
            .pool_config(PoolConfig::new().max_size(POOL_SIZE));
    if let Some(credentials) = credentials {
        builder = builder.credentials(credentials);
    }
    Ok(builder.build())
}

/// Connects, and signs in when there are credentials; the server's refusal
/// as a field error.
async fn check(
    transport: &AsyncSmtpTransport<Tokio1Executor>,
    signs_in: bool,
) -> Result<(), Error> {
    let checked = tokio::time::timeout(CHECK_TIMEOUT, transport.test_connection()).await;
    match checked {
        Ok(Ok(true)) => Ok(()),
        Ok(Ok(false)) => Err(Error::field("host", "the server stopped answering")),
        Ok(Err(e)) if e.is_permanent() && signs_in => Err(Error::field(
            "username",
            format!("the server refused the sign-in: {e}"),
        )),
        Ok(Err(e)) => Err(Error::field("host", format!("could not connect: {e}"))),
        Err(_) => Err(Error::field("host", "the server did not answer in time")),
    }
}

fn ports_list() -> String {
    SMTP_PORTS.map(|p| p.to_string()).join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(host: &str, port: u32, security: &str) -> Change {
        Change {
            host: host.to_owned(),
            port,
            security: security.to_owned(),
            username: "shop".to_owned(),
            password: Some("secret".to_owned()),
            from_address: "support@shop.example".to_owned(),
        }
    }

    fn fields(result: Result<(Security, u16), Error>) -> Vec<&'static str> {
        match result {
            Err(Error::Fields(problems)) => problems.into_iter().map(|(f, _)| f).collect(),
            other => panic!("refused by field: {other:?}"),
        }
    }

    fn servers(any_host: bool) -> ShopServers {
        ShopServers::new(None, any_host, Duration::from_secs(5))
    }

    #[test]
    fn a_server_is_a_host_an_smtp_port_and_tls() {
        let strict = servers(false);
        assert_eq!(
            strict
                .check_values(&change("smtp.shop.example", 587, "starttls"))
                .unwrap(),
            (Security::StartTls, 587)
        );
        assert_eq!(
            strict
                .check_values(&change("203.0.113.9", 465, "tls"))
                .unwrap()
                .0,
            Security::Tls
        );
        assert_eq!(
            fields(strict.check_values(&change("smtp.shop.example", 6379, "starttls"))),
            ["port"]
        );
        assert_eq!(
            fields(strict.check_values(&change("smtp.shop.example", 25, "none"))),
            ["security"]
        );
        let mut bad = change("smtp shop/../x", 70000, "ssl");
        bad.username = "a\nb".into();
        bad.password = Some("p\r\nQUIT".into());
        bad.from_address = "not an address".into();
        assert_eq!(
            fields(strict.check_values(&bad)),
            [
                "host",
                "port",
                "security",
                "username",
                "password",
                "from_address"
            ]
        );
        // Development and tests: any port, and no TLS.
        let any = servers(true);
        assert!(any.check_values(&change("127.0.0.1", 1025, "none")).is_ok());
    }
}
