//! The sender: takes recorded e-mails from the log and sends them through
//! the deployment's SMTP server (lettre, a pool of connections).
//!
//! An e-mail is claimed before its try and marked after it: sent; to try
//! again later (the server is away, or answered 4xx), with backoff; or
//! failed for good (5xx, or out of tries), with the server's words kept.
//! With an inbound domain set, each e-mail's envelope sender is a bounce
//! address of its own, so a later report that it could not be delivered
//! comes back to the SMTP listener and names it (VERP).
//!
//! A shop with an SMTP server of its own has its e-mails to contacts leave
//! by it, from its own address, which is then also the envelope sender (a
//! shop's server accepts no other): its bounces go to the shop's mailbox.
//! Managers' alerts and access e-mails always leave by the deployment's, so
//! a shop's broken server never locks its team out. A failure through the
//! shop's server is kept for the owner to see, and cleared by a success.
//!
//! A sender that dies mid-send leaves its claim to run out, and the e-mail
//! is tried again with the same Message-ID; a claim runs out long after an
//! SMTP exchange could take, so two senders never hold one e-mail.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use lettre::address::Envelope;
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::PoolConfig;
use lettre::{Address, AsyncSmtpTransport, AsyncTransport as _, Message, Tokio1Executor};
use sqlx::PgPool;
use tokio::sync::Notify;

use chat_platform::Shutdown;

use crate::config::Config;
use crate::db::email::{self, Outgoing};
use crate::db::shop_smtp;
use crate::mail::shop_server::ShopServers;
use crate::replies::KIND_VISITOR_REPLY;

/// E-mails claimed at once.
const CLAIM_BATCH: i64 = 32;
/// The longest backoff between two tries.
const MAX_BACKOFF: Duration = Duration::from_secs(30 * 60);

pub struct Sender {
    pool: PgPool,
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Address,
    shop_servers: ShopServers,
    /// Where each e-mail's delivery failures return, when answers come back.
    bounces: Option<crate::inbound::ReplyAddresses>,
    max_attempts: i32,
    retry_base: Duration,
    claim: Duration,
    in_flight: usize,
    wake: Arc<Notify>,
}

impl Sender {
    pub fn new(
        config: &Config,
        pool: PgPool,
        shop_servers: ShopServers,
        wake: Arc<Notify>,
    ) -> anyhow::Result<Self> {
        let timeout = Duration::from_secs(config.smtp_timeout_secs);
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&config.smtp_url)
            .map_err(|e| anyhow::anyhow!("NOTIFICATION_SMTP_URL: {e}"))?
            .pool_config(PoolConfig::new().max_size(config.smtp_pool_size.max(1)))
            .timeout(Some(timeout))
            .build();
        let from = config
            .mail_from
            .parse::<Address>()
            .map_err(|e| anyhow::anyhow!("NOTIFICATION_MAIL_FROM: {e}"))?;
        let bounces =
            crate::inbound::ReplyAddresses::new(&config.inbound_domain, &config.inbound_secret)?;
        Ok(Self {
            pool,
            transport,
            from,
            shop_servers,
            bounces,
            max_attempts: config.send_attempts.max(1),
            retry_base: Duration::from_millis(config.retry_base_ms.max(1)),
            // An exchange has a few steps, each within the timeout.
            claim: timeout * 6,
            in_flight: config.smtp_pool_size.max(1) as usize,
            wake,
        })
    }

    /// Sends what the log holds until shutdown; e-mails being sent then are
    /// finished first.
    pub async fn run(self, shutdown: Shutdown) {
        let claim_secs = self.claim.as_secs_f64();
        crate::queue::drain(
            "e-mails",
            &self.wake,
            self.in_flight,
            shutdown,
            || email::claim(&self.pool, CLAIM_BATCH, claim_secs, KIND_VISITOR_REPLY),
            |outgoing| self.send(outgoing),
        )
        .await;
    }

    async fn send(&self, outgoing: Outgoing) {
        let shop = match outgoing.shop_server {
            Some(version) => {
                match self
                    .shop_servers
                    .connection(&self.pool, outgoing.account_id, version)
                    .await
                {
                    Ok(shop) => shop,
                    Err(e) => {
                        // A lookup or a password that does not open now
                        // may later (DNS back, the key ring fixed).
                        let error = format!("{e:#}");
                        self.shop_server_failed(&outgoing, version, &error).await;
                        self.settle(&outgoing, Err(Failure::Transient(error))).await;
                        return;
                    }
                }
            }
            None => None,
        };
        let message = match &shop {
            Some(shop) => message(&shop.from, None, &outgoing),
            None => {
                let bounce_to = self.bounces.as_ref().map(|b| b.for_bounces(outgoing.id));
                message(&self.from, bounce_to.as_deref(), &outgoing)
            }
        };
        let message = match message {
            Ok(message) => message,
            Err(e) => {
                tracing::error!(email = %outgoing.id, error = %e, "an e-mail cannot be built");
                self.settle(&outgoing, Err(Failure::Permanent(e.to_string())))
                    .await;
                return;
            }
        };
        let result = match &shop {
            Some(shop) => {
                let _turn = shop.sending.acquire().await;
                let sent = shop.transport.send(message).await.map(drop);
                match &sent {
                    Ok(()) => {
                        let worked =
                            shop_smtp::worked(&self.pool, outgoing.account_id, shop.version);
                        if let Err(e) = worked.await {
                            tracing::warn!(error = %e, "could not clear a shop server's failure");
                        }
                    }
                    Err(e) => {
                        self.shop_server_failed(&outgoing, shop.version, &e.to_string())
                            .await
                    }
                }
                sent.map_err(|e| shop_failure(&e))
            }
            None => {
                self.transport
                    .send(message)
                    .await
                    .map(drop)
                    .map_err(|e| match e.is_permanent() {
                        true => Failure::Permanent(e.to_string()),
                        false => Failure::Transient(e.to_string()),
                    })
            }
        };
        self.settle(&outgoing, result).await;
    }

    /// Keeps why the shop's own server (as saved at `version`) did not take
    /// an e-mail, for its owner.
    async fn shop_server_failed(&self, outgoing: &Outgoing, version: DateTime<Utc>, error: &str) {
        metrics::counter!("shop_smtp_failures_total").increment(1);
        tracing::info!(email = %outgoing.id, account = %outgoing.account_id, %error, "the shop's SMTP server did not take an e-mail");
        let failed = shop_smtp::failed(&self.pool, outgoing.account_id, version, error);
        if let Err(e) = failed.await {
            tracing::warn!(error = %e, "could not keep a shop server's failure");
        }
    }

    /// Records how the try went. When the database is away the claim runs
    /// out and the e-mail is tried again: a sent one may then go twice,
    /// with the same Message-ID, which mail programs show once.
    async fn settle(&self, outgoing: &Outgoing, result: Result<(), Failure>) {
        let recorded = match result {
            Ok(()) => {
                metrics::counter!("emails_sent_total").increment(1);
                email::sent(&self.pool, outgoing.id).await
            }
            Err(Failure::Transient(error)) if outgoing.attempts < self.max_attempts => {
                metrics::counter!("email_send_retries_total").increment(1);
                let wait = backoff(self.retry_base, outgoing.attempts);
                tracing::info!(email = %outgoing.id, attempts = outgoing.attempts, ?wait, %error, "e-mail not sent; trying again later");
                let next = Utc::now() + chrono::Duration::from_std(wait).unwrap_or_default();
                email::retry_at(&self.pool, outgoing.id, next, &error).await
            }
            Err(Failure::Transient(error) | Failure::Permanent(error)) => {
                metrics::counter!("emails_failed_total").increment(1);
                tracing::warn!(email = %outgoing.id, attempts = outgoing.attempts, %error, "e-mail failed for good");
                email::failed(&self.pool, outgoing.id, &error).await
            }
        };
        if let Err(e) = recorded {
            tracing::warn!(email = %outgoing.id, error = %e, "could not record an e-mail's try; its claim will run out");
        }
    }
}

enum Failure {
    /// Worth another try later: the server away, or a 4xx answer.
    Transient(String),
    /// The server refused it for good (5xx), or it cannot be built.
    Permanent(String),
}

/// What a failure through a shop's own server means. Its refusal to let
/// the suite sign in or send from the shop's address (a changed password,
/// say) is the shop's to fix, and the e-mails wait for that with backoff
/// rather than fail at once; any other 5xx (a recipient refused) is final.
/// (553 may also refuse a recipient: such an e-mail fails once out of tries.)
fn shop_failure(e: &lettre::transport::smtp::Error) -> Failure {
    /// Authentication required, too weak, refused, or needing encryption;
    /// the sender refused.
    const THE_SHOPS_TO_FIX: [u16; 5] = [530, 534, 535, 538, 553];
    let code = e.status().map(u16::from);
    match e.is_permanent() && !code.is_some_and(|c| THE_SHOPS_TO_FIX.contains(&c)) {
        true => Failure::Permanent(e.to_string()),
        false => Failure::Transient(e.to_string()),
    }
}

/// The wait before try `attempts + 1`: `base`, doubling, at most 30 minutes.
pub fn backoff(base: Duration, attempts: i32) -> Duration {
    let doublings = attempts.clamp(1, 20) as u32 - 1;
    base.saturating_mul(1 << doublings).min(MAX_BACKOFF)
}

/// The e-mail as it goes on the wire: multipart text and HTML, with its
/// bounce address as the envelope sender when there is one.
fn message(
    from: &Address,
    bounce_to: Option<&str>,
    outgoing: &Outgoing,
) -> anyhow::Result<Message> {
    let to: Mailbox = outgoing.to_address.parse()?;
    let mut builder = Message::builder()
        .from(Mailbox::new(Some(outgoing.from_name.clone()), from.clone()))
        .to(to.clone())
        .subject(outgoing.subject.clone())
        .message_id(Some(outgoing.message_id.clone()));
    if !outgoing.reply_to.is_empty() {
        builder = builder.reply_to(outgoing.reply_to.parse()?);
    }
    if let Some(bounce_to) = bounce_to {
        builder = builder.envelope(Envelope::new(Some(bounce_to.parse()?), vec![to.email])?);
    }
    if let Some(headers) = outgoing.headers.as_object() {
        for (name, value) in headers {
            let Some(value) = value.as_str() else {
                continue;
            };
            let name = HeaderName::new_from_ascii(name.clone())
                .map_err(|e| anyhow::anyhow!("header {name}: {e}"))?;
            builder = builder.raw_header(HeaderValue::new(name, value.to_owned()));
        }
    }
    Ok(builder.multipart(MultiPart::alternative_plain_html(
        outgoing.text_body.clone(),
        outgoing.html_body.clone(),
    ))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_the_base_up_to_half_an_hour() {
        let base = Duration::from_secs(5);
        assert_eq!(backoff(base, 1), Duration::from_secs(5));
        assert_eq!(backoff(base, 2), Duration::from_secs(10));
        assert_eq!(backoff(base, 4), Duration::from_secs(40));
        assert_eq!(backoff(base, 19), MAX_BACKOFF);
        assert_eq!(backoff(base, 1000), MAX_BACKOFF);
    }
}
