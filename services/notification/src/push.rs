//! Browser push (Web Push, RFC 8030/8291/8292): the deployment's VAPID key,
//! which endpoints a subscription may name, and the pusher that takes
//! recorded pushes to the browsers' push services. Encryption and the VAPID
//! signature are web-push-native's (pure Rust); the requests go by reqwest.
//!
//! A push is recorded before it is sent, once per event and subscription;
//! the pusher claims, sends and marks it: sent (2xx), gone (404, 410: the
//! subscription is forgotten), tried again with backoff (429, 5xx, the
//! service away) or failed (another 4xx).

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use sqlx::PgPool;
use tokio::sync::Notify;
use web_push_native::jwt_simple::algorithms::{ECDSAP256PublicKeyLike as _, ES256KeyPair};
use web_push_native::{Auth, WebPushBuilder, p256};

use chat_platform::Shutdown;

use crate::config::Config;
use crate::db::push::{self, Outgoing};
use crate::mail::sender::backoff;

const CLAIM_BATCH: i64 = 32;
/// Pushes sent at once.
const PUSHES_IN_FLIGHT: usize = 8;
/// A claim runs out long after a push request could take.
const CLAIM_SECS: f64 = 120.0;
/// How long a push service keeps a push for an offline browser.
const TTL: Duration = Duration::from_secs(24 * 3600);

/// The deployment's VAPID key pair.
#[derive(Clone)]
pub struct Vapid {
    key: Arc<ES256KeyPair>,
}

impl Vapid {
    /// The key `NOTIFICATION_VAPID_PRIVATE_KEY` gives, else the one kept in
    /// the database (made now by the first replica to start).
    pub async fn load(config: &Config, pool: &PgPool) -> anyhow::Result<Self> {
        let encoded = match config.vapid_private_key.trim() {
            "" => {
                let candidate = URL_SAFE_NO_PAD.encode(ES256KeyPair::generate().to_bytes());
                push::vapid_key(pool, &candidate).await?
            }
            given => given.to_owned(),
        };
        let bytes = decode(&encoded)
            .ok_or_else(|| anyhow::anyhow!("NOTIFICATION_VAPID_PRIVATE_KEY is not base64url"))?;
        let key = ES256KeyPair::from_bytes(&bytes)
            .map_err(|e| anyhow::anyhow!("the VAPID private key: {e}"))?;
        Ok(Self { key: Arc::new(key) })
    }

    /// The public key browsers subscribe with (`applicationServerKey`):
    /// the uncompressed point, base64url.
    pub fn public_key(&self) -> String {
        let point = self.key.public_key().public_key().to_bytes_uncompressed();
        URL_SAFE_NO_PAD.encode(point)
    }
}

/// Base64url with or without padding (browsers give it without).
pub fn decode(value: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD
        .decode(value.trim().trim_end_matches('='))
        .ok()
}

/// The push services a subscription's endpoint may be at: each host, or a
/// subdomain of it. Anything else is refused, so no manager can make the
/// service post to an address of their choosing.
#[derive(Debug, Clone)]
pub struct PushHosts(Vec<String>);

impl PushHosts {
    pub fn parse(list: &str) -> Self {
        Self(
            list.split(',')
                .map(|h| h.trim().to_lowercase())
                .filter(|h| !h.is_empty())
                .collect(),
        )
    }

    /// Whether `endpoint` is an https address at one of the hosts (plain
    /// http only at 127.0.0.1 or localhost, for tests).
    pub fn allows(&self, endpoint: &str) -> bool {
        let Ok(url) = url::Url::parse(endpoint) else {
            return false;
        };
        let Some(host) = url.host_str().map(str::to_lowercase) else {
            return false;
        };
        let local = host == "127.0.0.1" || host == "localhost";
        let scheme_ok = url.scheme() == "https" || (url.scheme() == "http" && local);
        scheme_ok
            && self
                .0
                .iter()
                .any(|allowed| host == *allowed || host.ends_with(&format!(".{allowed}")))
    }
}

pub struct Pusher {
    pub pool: PgPool,
    pub http: reqwest::Client,
    pub vapid: Vapid,
    /// `mailto:` of whom a push service may contact about these pushes.
    pub contact: String,
    pub max_attempts: i32,
    pub retry_base: Duration,
    pub wake: Arc<Notify>,
}

impl Pusher {
    /// Sends what the log holds until shutdown, a few at a time.
    pub async fn run(self, shutdown: Shutdown) {
        let this = &self;
        crate::queue::drain(
            "pushes",
            &self.wake,
            PUSHES_IN_FLIGHT,
            shutdown,
            || push::claim(&self.pool, CLAIM_BATCH, CLAIM_SECS),
            move |outgoing| async move {
                let result = this.send(&outgoing).await;
                if let Err(e) = this.settle(&outgoing, result).await {
                    tracing::warn!(push = %outgoing.id, error = %e, "could not record a push's try; its claim will run out");
                }
            },
        )
        .await;
    }

    async fn send(&self, outgoing: &Outgoing) -> Result<(), Failure> {
        let request = self.request(outgoing).map_err(Failure::Permanent)?;
        let response = self
            .http
            .execute(request)
            .await
            .map_err(|e| Failure::Transient(e.to_string()))?;
        let status = response.status();
        match status.as_u16() {
            200..=299 => Ok(()),
            404 | 410 => Err(Failure::Gone),
            429 | 500..=599 => Err(Failure::Transient(format!(
                "the push service answered {status}"
            ))),
            _ => Err(Failure::Permanent(format!(
                "the push service answered {status}"
            ))),
        }
    }

    /// The encrypted, signed request for the push.
    fn request(&self, outgoing: &Outgoing) -> Result<reqwest::Request, String> {
        let endpoint = outgoing
            .endpoint
            .parse()
            .map_err(|e| format!("endpoint: {e}"))?;
        let public = decode(&outgoing.p256dh)
            .and_then(|b| p256::PublicKey::from_sec1_bytes(&b).ok())
            .ok_or("p256dh is not a P-256 public key")?;
        let auth = decode(&outgoing.auth)
            .filter(|b| b.len() == 16)
            .map(|b| Auth::clone_from_slice(&b))
            .ok_or("auth is not 16 bytes")?;
        let body = serde_json::to_vec(&outgoing.payload).map_err(|e| e.to_string())?;
        let built = WebPushBuilder::new(endpoint, public, auth)
            .with_valid_duration(TTL)
            .with_vapid(&self.vapid.key, &self.contact)
            .build(body)
            .map_err(|e| format!("encrypting: {e}"))?;
        let (parts, body) = built.into_parts();
        let mut request = self
            .http
            .post(parts.uri.to_string())
            .body(body)
            .build()
            .map_err(|e| e.to_string())?;
        for (name, value) in &parts.headers {
            if let (Ok(name), Ok(value)) = (
                reqwest::header::HeaderName::from_bytes(name.as_str().as_bytes()),
                reqwest::header::HeaderValue::from_bytes(value.as_bytes()),
            ) {
                request.headers_mut().insert(name, value);
            }
        }
        Ok(request)
    }

    async fn settle(&self, outgoing: &Outgoing, result: Result<(), Failure>) -> sqlx::Result<()> {
        match result {
            Ok(()) => {
                metrics::counter!("pushes_sent_total").increment(1);
                push::sent(&self.pool, outgoing.id).await
            }
            Err(Failure::Gone) => {
                metrics::counter!("push_subscriptions_gone_total").increment(1);
                push::gone(&self.pool, outgoing.subscription_id).await
            }
            Err(Failure::Transient(error)) if outgoing.attempts < self.max_attempts => {
                let wait = backoff(self.retry_base, outgoing.attempts);
                let next = Utc::now() + chrono::Duration::from_std(wait).unwrap_or_default();
                push::retry_at(&self.pool, outgoing.id, next, &error).await
            }
            Err(Failure::Transient(error) | Failure::Permanent(error)) => {
                metrics::counter!("pushes_failed_total").increment(1);
                push::failed(&self.pool, outgoing.id, &error).await
            }
        }
    }
}

enum Failure {
    Transient(String),
    Permanent(String),
    /// The subscription no longer exists.
    Gone,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_push_services_are_endpoints() {
        let hosts = PushHosts::parse("fcm.googleapis.com, push.services.mozilla.com");
        assert!(hosts.allows("https://fcm.googleapis.com/fcm/send/abc"));
        assert!(hosts.allows("https://updates.push.services.mozilla.com/wpush/v2/x"));
        assert!(!hosts.allows("http://fcm.googleapis.com/fcm/send/abc"));
        assert!(!hosts.allows("https://evil.example/fcm.googleapis.com"));
        assert!(!hosts.allows("https://fcm.googleapis.com.evil.example/"));
        assert!(!hosts.allows("https://10.0.0.5/internal"));
        let local = PushHosts::parse("127.0.0.1");
        assert!(local.allows("http://127.0.0.1:4000/push/1"));
        assert!(!hosts.allows("http://127.0.0.1:4000/push/1"));
    }
}
