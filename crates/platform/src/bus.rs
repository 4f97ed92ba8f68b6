//! The event bus on NATS JetStream: one stream for the suite's events, names
//! carrying a configurable prefix (so many suites and tests share a server),
//! and durable pull consumers with explicit acks.
//!
//! Subjects are `<prefix>.events.<service>.<event>`; the stream is
//! `<prefix>_events`; a consumer is `<prefix>_<service>_<purpose>`.

use std::future::Future;
use std::time::Duration;

use anyhow::Context as _;
use async_nats::jetstream::context::ConsumerInfoErrorKind;
use async_nats::jetstream::{self, AckKind, consumer::pull, stream};
use futures::StreamExt as _;
use prost::Message as _;
use tracing::Instrument as _;

use chat_proto::events::v1::Envelope;

use crate::config::Common;
use crate::shutdown::Shutdown;

/// How long JetStream remembers a `Nats-Msg-Id` to drop a repeated publish.
pub const DUPLICATE_WINDOW_SECS: u64 = 10 * 60;
/// How often a retired consumer is looked for again.
pub const RETIRED_CHECK: Duration = Duration::from_secs(600);
/// How long events stay in the stream for consumers that fell behind.
pub const RETENTION_DAYS: u64 = 7;
/// How long a consumer off the message's way to its readers waits for
/// more events once one is there (see [`Batches::lingering`]).
pub const BATCH_LINGER: Duration = Duration::from_millis(20);
/// How long a consumer's event may stay unacked before it is delivered again.
const ACK_WAIT_SECS: u64 = 30;
/// Waits between attempts to reopen a consumer: the first, and the longest.
const REOPEN_DELAY_MIN_MS: u64 = 200;
const REOPEN_DELAY_MAX_MS: u64 = 5_000;

/// A connection to NATS with the suite's naming rules.
#[derive(Clone)]
pub struct Bus {
    pub client: async_nats::Client,
    pub jetstream: jetstream::Context,
    prefix: String,
    events_max_bytes: i64,
    connections: tokio::sync::watch::Receiver<u64>,
}

impl Bus {
    /// Connects in the background, retrying for as long as it takes: a service
    /// starts and keeps its outbox filling while NATS is away.
    pub async fn connect(config: &Common, client_name: &str) -> anyhow::Result<Self> {
        validate_prefix(&config.nats_prefix)?;
        let (connected, connections) = tokio::sync::watch::channel(0u64);
        let client = async_nats::ConnectOptions::new()
            .name(client_name)
            .retry_on_initial_connect()
            .max_reconnects(None)
            .event_callback(move |event| {
                if matches!(event, async_nats::Event::Connected) {
                    connected.send_modify(|n| *n += 1);
                }
                log_connection_event(event);
                async {}
            })
            .connect(config.nats_url.as_str())
            .await
            .with_context(|| format!("while connecting to NATS at {}", config.nats_url))?;
        let jetstream = jetstream::new(client.clone());
        Ok(Self {
            client,
            jetstream,
            prefix: config.nats_prefix.clone(),
            events_max_bytes: config.events_max_bytes,
            connections,
        })
    }

    /// Changes each time the client (re)connects: what core subscriptions and
    /// ephemeral consumers, which a restarted server forgot, wait on to reopen.
    pub fn connections(&self) -> tokio::sync::watch::Receiver<u64> {
        self.connections.clone()
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The subject of an event type such as `dialog.message_created`.
    pub fn subject(&self, event_type: &str) -> String {
        format!("{}.events.{event_type}", self.prefix)
    }

    /// A prefixed name for a stream, consumer or bucket.
    pub fn name(&self, suffix: &str) -> String {
        format!("{}_{suffix}", self.prefix)
    }

    pub fn is_connected(&self) -> bool {
        self.client.connection_state() == async_nats::connection::State::Connected
    }

    /// The suite's event stream: created if it is missing (a new NATS, or
    /// one that lost its storage), its bounds brought up to date if they
    /// changed.
    pub async fn ensure_stream(&self) -> anyhow::Result<stream::Stream> {
        let config = stream::Config {
            name: self.name("events"),
            subjects: vec![format!("{}.events.>", self.prefix)],
            storage: stream::StorageType::File,
            duplicate_window: Duration::from_secs(DUPLICATE_WINDOW_SECS),
            max_age: Duration::from_secs(RETENTION_DAYS * 24 * 3600),
            max_bytes: self.events_max_bytes,
            discard: stream::DiscardPolicy::Old,
            ..Default::default()
        };
        let mut stream = self
            .jetstream
            .get_or_create_stream(config.clone())
            .await
            .map_err(|e| anyhow::anyhow!("while creating the event stream: {e}"))?;
        let current = &stream.cached_info().config;
        if current.max_bytes != config.max_bytes
            || current.max_age != config.max_age
            || current.duplicate_window != config.duplicate_window
        {
            tracing::info!(stream = %config.name, max_bytes = config.max_bytes, "updating the event stream's bounds");
            self.jetstream
                .update_stream(config.clone())
                .await
                .map_err(|e| anyhow::anyhow!("while updating the event stream: {e}"))?;
            stream
                .info()
                .await
                .map_err(|e| anyhow::anyhow!("while reading the event stream: {e}"))?;
        }
        Ok(stream)
    }

    /// Runs a durable consumer until shutdown, handing `handler` the events
    /// that come together (as [`Batches`] says), so that one transaction can
    /// take many.
    ///
    /// Events are acked only after the handler's effect is committed, for
    /// the whole batch. A transient failure is retried with backoff (the
    /// whole batch); when a batch fails for good, its events are handled one
    /// by one, so only the bad one is terminated (as is an event that cannot
    /// be decoded).
    pub async fn consume_batches<H, F>(
        &self,
        consumer: &str,
        event_types: &[&str],
        batches: Batches,
        shutdown: Shutdown,
        handler: H,
    ) where
        H: Fn(Vec<Envelope>) -> F + Clone,
        F: Future<Output = Result<(), HandlerError>>,
    {
        self.run_consumer(consumer, event_types, batches, shutdown, |messages| {
            let handler = handler.clone();
            async move {
                let mut decoded = Vec::with_capacity(messages.len());
                for message in messages {
                    match decode(&message) {
                        Some(envelope) => decoded.push((message, envelope)),
                        None => settle(&message, AckKind::Term).await,
                    }
                }
                let Some((first, _)) = decoded.first() else {
                    return;
                };
                let span = consume_span(first, decoded.len());
                async {
                    let envelopes = decoded.iter().map(|(_, e)| e.clone()).collect();
                    match handler(envelopes).await {
                        Err(HandlerError::Permanent(e)) if decoded.len() > 1 => {
                            tracing::warn!(error = %e, "a batch failed; handling its events one by one");
                            for (message, envelope) in decoded {
                                let ack = ack_for(&message, handler(vec![envelope]).await);
                                settle(&message, ack).await;
                            }
                        }
                        result => {
                            let ack = ack_for(&decoded[0].0, result);
                            for (message, _) in &decoded {
                                settle(message, ack).await;
                            }
                        }
                    }
                }
                .instrument(span)
                .await
            }
        })
        .await;
    }

    /// The loop both kinds of consumer share: (re)opens the durable consumer,
    /// passes over events of types it does not want, and gives `on_ready` the
    /// events that come together (as `batches` says), one group at a time.
    ///
    /// It heals itself: when the pull fails (the server forgot the consumer
    /// or the stream, or stopped answering) or the client reconnects (the
    /// server may have restarted), it opens the consumer again, creating it
    /// if need be. Each reopening is counted in `bus_consumer_reopened_total`.
    async fn run_consumer<C, Fut>(
        &self,
        consumer: &str,
        event_types: &[&str],
        batches: Batches,
        shutdown: Shutdown,
        on_ready: C,
    ) where
        C: Fn(Vec<jetstream::Message>) -> Fut,
        Fut: Future<Output = ()>,
    {
        let durable = self.name(consumer);
        let wanted: Vec<String> = event_types.iter().map(|t| self.subject(t)).collect();
        let filter = server_filter(&wanted, &self.prefix);
        let mut connections = self.connections();
        let mut delay = Duration::from_millis(REOPEN_DELAY_MIN_MS);
        let mut opened_before = false;
        'open: while !shutdown.is_cancelled() {
            connections.mark_unchanged();
            let messages = match self.open_consumer(&durable, &filter).await {
                Ok(messages) => messages,
                Err(e) => {
                    tracing::warn!(consumer = %durable, error = %e, "consumer not ready; retrying");
                    tokio::select! {
                        _ = tokio::time::sleep(delay) => {}
                        _ = shutdown.cancelled() => break,
                    }
                    delay = (delay * 2).min(Duration::from_millis(REOPEN_DELAY_MAX_MS));
                    continue;
                }
            };
            if opened_before {
                metrics::counter!("bus_consumer_reopened_total", "consumer" => consumer.to_owned())
                    .increment(1);
            }
            opened_before = true;
            let mut messages = messages;
            loop {
                let first = tokio::select! {
                    first = messages.next() => first,
                    // Reconnected: the server may be a new one that forgot the consumer.
                    Ok(()) = connections.changed() => {
                        tracing::info!(consumer = %durable, "reconnected to NATS; reopening the consumer");
                        continue 'open;
                    }
                    _ = shutdown.cancelled() => break 'open,
                };
                let Some(first) = first else {
                    tracing::info!(consumer = %durable, "consumer ended; reopening it");
                    continue 'open;
                };
                // Not cancelled by shutdown: what was taken is handled and acked.
                let chunk = batches.gather(first, &mut messages).await;
                let mut mine = Vec::with_capacity(chunk.len());
                let mut failed = None;
                for message in chunk {
                    match message {
                        Ok(message) if wanted.iter().any(|w| *w == message.subject.as_str()) => {
                            mine.push(message)
                        }
                        // Another type under the server-side filter: not this consumer's.
                        Ok(message) => settle(&message, AckKind::Ack).await,
                        Err(e) => failed = Some(e),
                    }
                }
                if !mine.is_empty() {
                    on_ready(mine).await;
                    delay = Duration::from_millis(REOPEN_DELAY_MIN_MS);
                }
                if let Some(e) = failed {
                    tracing::warn!(consumer = %durable, error = %e, ?delay, "consumer failed; reopening it");
                    tokio::select! {
                        _ = tokio::time::sleep(delay) => {}
                        _ = shutdown.cancelled() => break 'open,
                    }
                    delay = (delay * 2).min(Duration::from_millis(REOPEN_DELAY_MAX_MS));
                    continue 'open;
                }
            }
        }
        tracing::info!(consumer = %durable, "consumer stopped");
    }

    /// Deletes the durable consumer `<prefix>_<consumer>` if it is there: one
    /// a service no longer reads (merged into another), which would
    /// otherwise keep its state on the server for good.
    pub async fn retire_consumer(&self, consumer: &str) -> anyhow::Result<()> {
        let stream = self.ensure_stream().await?;
        let durable = self.name(consumer);
        match stream.consumer_info(&durable).await {
            Ok(_) => {
                stream
                    .delete_consumer(&durable)
                    .await
                    .map_err(|e| anyhow::anyhow!("while retiring consumer {durable}: {e}"))?;
                tracing::info!(consumer = %durable, "retired a consumer no longer read");
                Ok(())
            }
            Err(e) if e.kind() == ConsumerInfoErrorKind::NotFound => Ok(()),
            Err(e) => anyhow::bail!("while looking up consumer {durable}: {e}"),
        }
    }

    /// Keeps `consumer` retired (see [`Bus::retire_consumer`]) until
    /// `shutdown`: retired at once, tried again while NATS cannot be asked,
    /// and looked for again every [`RETIRED_CHECK`], since a replica of an
    /// older build still running during a rollout may create it anew.
    pub async fn keep_consumer_retired(&self, consumer: &str, shutdown: Shutdown) {
        let mut delay = Duration::from_millis(500);
        loop {
            match self.retire_consumer(consumer).await {
                Ok(()) => delay = RETIRED_CHECK,
                Err(e) => {
                    tracing::warn!(error = %e, consumer, "could not retire a consumer yet");
                    delay = (delay * 2).min(Duration::from_secs(30));
                }
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(delay) => {}
            }
        }
    }

    /// Opens the durable consumer, creating it when the server does not
    /// know it (from the stream's first event: handlers are idempotent), and
    /// recreating it when its settings changed (what the service consumes),
    /// from the first event it had not acked.
    async fn open_consumer(
        &self,
        durable: &str,
        filter_subject: &str,
    ) -> anyhow::Result<pull::Stream> {
        let stream = self.ensure_stream().await?;
        let mut config = pull::Config {
            durable_name: Some(durable.to_owned()),
            filter_subject: filter_subject.to_owned(),
            ack_policy: jetstream::consumer::AckPolicy::Explicit,
            ack_wait: Duration::from_secs(ACK_WAIT_SECS),
            max_deliver: -1,
            ..Default::default()
        };
        let consumer = match stream.consumer_info(durable).await {
            Ok(info) if settings_match(&info.config, &config) => stream
                .get_consumer::<pull::Config>(durable)
                .await
                .map_err(|e| anyhow::anyhow!("while opening consumer {durable}: {e}"))?,
            Ok(info) => {
                let start_sequence = info.ack_floor.stream_sequence + 1;
                tracing::info!(consumer = %durable, filter = %filter_subject, start_sequence,
                    "the consumer's settings changed; recreating it from its first unacked event");
                stream
                    .delete_consumer(durable)
                    .await
                    .map_err(|e| anyhow::anyhow!("while replacing consumer {durable}: {e}"))?;
                config.deliver_policy =
                    jetstream::consumer::DeliverPolicy::ByStartSequence { start_sequence };
                stream
                    .create_consumer(config)
                    .await
                    .map_err(|e| anyhow::anyhow!("while creating consumer {durable}: {e}"))?
            }
            Err(e) if e.kind() == ConsumerInfoErrorKind::NotFound => {
                tracing::info!(consumer = %durable, "creating the consumer");
                stream
                    .create_consumer(config)
                    .await
                    .map_err(|e| anyhow::anyhow!("while creating consumer {durable}: {e}"))?
            }
            Err(e) => anyhow::bail!("while looking up consumer {durable}: {e}"),
        };
        consumer
            .messages()
            .await
            .map_err(|e| anyhow::anyhow!("while pulling {durable}: {e}"))
    }
}

/// How a consumer groups the events it hands its handler.
#[derive(Debug, Clone, Copy)]
pub struct Batches {
    /// Most events in one group.
    pub max: usize,
    /// How long to wait for more once one event is there: zero hands over
    /// what is ready at once. A consumer off the path a message takes to
    /// its readers waits a little, so a busy service pays one statement and
    /// one wake-up for many events rather than one for each.
    pub linger: Duration,
}

impl Batches {
    /// What is ready, up to `max`, at once.
    pub fn at_once(max: usize) -> Self {
        Self {
            max: max.max(1),
            linger: Duration::ZERO,
        }
    }

    /// Up to `max`, waiting up to `linger` after the first for more.
    pub fn lingering(max: usize, linger: Duration) -> Self {
        Self {
            max: max.max(1),
            linger,
        }
    }

    /// The group that starts with `first`: what else is ready, or comes
    /// within the linger, up to the most.
    async fn gather<T, S>(&self, first: T, more: &mut S) -> Vec<T>
    where
        S: futures::Stream<Item = T> + Unpin,
    {
        use futures::FutureExt as _;
        let mut group = vec![first];
        let deadline = tokio::time::Instant::now() + self.linger;
        while group.len() < self.max {
            let next = match self.linger.is_zero() {
                true => more.next().now_or_never(),
                false => tokio::time::timeout_at(deadline, more.next()).await.ok(),
            };
            match next {
                Some(Some(item)) => group.push(item),
                // Nothing more now, or the stream ended (the next read tells).
                _ => break,
            }
        }
        group
    }
}

/// Whether a consumer on the server has the settings the service asks for
/// (where it starts is not a setting: a recreated consumer starts elsewhere).
fn settings_match(on_server: &jetstream::consumer::Config, wanted: &pull::Config) -> bool {
    on_server.filter_subject == wanted.filter_subject
        && on_server.ack_policy == wanted.ack_policy
        && on_server.ack_wait == wanted.ack_wait
        && on_server.max_deliver == wanted.max_deliver
}

fn log_connection_event(event: async_nats::Event) {
    use async_nats::Event;
    match event {
        Event::Connected => tracing::info!("connected to NATS"),
        Event::Disconnected => tracing::warn!("disconnected from NATS; reconnecting"),
        Event::ClientError(e) => tracing::debug!(error = %e, "NATS client error"),
        other => tracing::info!(event = %other, "NATS event"),
    }
}

/// What a handler reports about an event it could not handle.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// Try again later (database away, a dependency timing out).
    #[error("transient: {0:#}")]
    Transient(anyhow::Error),
    /// Never going to work: terminate the event and log it.
    #[error("permanent: {0:#}")]
    Permanent(anyhow::Error),
}

impl From<sqlx::Error> for HandlerError {
    /// Data the database refuses (SQLSTATE class 22, data exception; 23,
    /// integrity constraint) will be refused again: permanent, so a batch
    /// holding it is split and only the bad event is terminated. The rest
    /// (the database away, a deadlock) may pass later: transient.
    fn from(e: sqlx::Error) -> Self {
        let refused = e
            .as_database_error()
            .and_then(|d| d.code())
            .is_some_and(|code| code.starts_with("22") || code.starts_with("23"));
        match refused {
            true => Self::Permanent(e.into()),
            false => Self::Transient(e.into()),
        }
    }
}

/// The span of handling a batch: in the trace of its first event (a batch's
/// events come from many traces; the first stands for them).
fn consume_span(first: &jetstream::Message, events: usize) -> tracing::Span {
    let span = tracing::info_span!("consume", subject = %first.subject, events);
    crate::telemetry::set_parent_from_nats(&span, first.headers.as_ref());
    span
}

/// The event in a message; `None` (and logged) when it can never be decoded.
fn decode(message: &jetstream::Message) -> Option<Envelope> {
    match Envelope::decode(message.payload.clone()) {
        Ok(envelope) => Some(envelope),
        Err(e) => {
            tracing::error!(subject = %message.subject, error = %e, "event cannot be decoded; terminating it");
            None
        }
    }
}

/// The ack a handler's result calls for: done, never, or later with a
/// backoff that grows with the deliveries so far.
fn ack_for(message: &jetstream::Message, result: Result<(), HandlerError>) -> AckKind {
    match result {
        Ok(()) => AckKind::Ack,
        Err(HandlerError::Permanent(e)) => {
            tracing::error!(subject = %message.subject, error = %e, "event cannot be handled; terminating it");
            AckKind::Term
        }
        Err(HandlerError::Transient(e)) => {
            let attempt = message.info().map(|i| i.delivered).unwrap_or(1).max(1);
            let backoff = Duration::from_millis(250 * 2u64.pow((attempt as u32).min(7)));
            tracing::warn!(error = %e, attempt, ?backoff, "event handling failed; will retry");
            AckKind::Nak(Some(backoff))
        }
    }
}

async fn settle(message: &jetstream::Message, ack: AckKind) {
    if let Err(e) = message.ack_with(ack).await {
        // Not acked: JetStream redelivers after ack_wait; handlers are idempotent.
        tracing::warn!(error = %e, "ack failed");
    }
}

/// The one subject filter the server applies: the event's own subject when a
/// consumer wants one type, else all the suite's events (which the consumer
/// then sorts itself). One filter, because NATS servers before 2.10 (Debian
/// 12 ships 2.9) silently ignore a list of filters.
fn server_filter(wanted: &[String], prefix: &str) -> String {
    match wanted {
        [one] => one.clone(),
        _ => format!("{prefix}.events.>"),
    }
}

/// The prefix goes into subjects and stream names: letters, digits, `_`, `-`.
fn validate_prefix(prefix: &str) -> anyhow::Result<()> {
    let ok = !prefix.is_empty()
        && prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    anyhow::ensure!(
        ok,
        "CHAT_NATS_PREFIX must be letters, digits, '_' or '-', got {prefix:?}"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_consumer_of_one_type_is_filtered_by_the_server() {
        let one = vec!["p.events.dialog.message_created".to_owned()];
        assert_eq!(server_filter(&one, "p"), "p.events.dialog.message_created");
        let two = vec![one[0].clone(), "p.events.dialog.dialog_created".to_owned()];
        assert_eq!(server_filter(&two, "p"), "p.events.>");
    }

    #[test]
    fn prefixes_that_would_break_subjects_are_refused() {
        assert!(validate_prefix("chat").is_ok());
        assert!(validate_prefix("t_1a2b-x").is_ok());
        for bad in ["", "a.b", "a b", "a>", "a*"] {
            assert!(validate_prefix(bad).is_err(), "{bad:?} accepted");
        }
    }
}
