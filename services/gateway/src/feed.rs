//! This replica's feed of the suite's events, from JetStream, without
//! gaps: an ordered consumer that picks up after the last event it saw when
//! the connection to NATS comes back (or is recreated from there), so a
//! replica that was cut off from NATS still pushes every event to its sockets.
//! It starts with the events published since the gateway started, even when
//! NATS was away then; and when the stream is a new one (NATS lost its
//! storage), it reads the new stream from its start. Alongside, the live
//! notices between replicas (logouts, blocked visitors) on core NATS.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use async_nats::jetstream::consumer::{DeliverPolicy, pull};
use futures::StreamExt as _;
use prost::Message as _;
use uuid::Uuid;

use chat_platform::{Shutdown, bus::Bus};
use chat_proto::events::v1 as ev;

use crate::hub::{self, Hub};

/// Waiting between attempts to open the feed while NATS is away.
const REOPEN_DELAY_MS: u64 = 500;
/// How much earlier than its start the feed begins: the clocks of NATS and
/// of the gateway may differ a little, and an event pushed twice is dropped
/// by the socket (it knows what it sent).
const START_MARGIN: Duration = Duration::from_secs(2);

/// Where the feed goes on from.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Position {
    /// Nothing read yet: every event published since this time.
    Since(SystemTime),
    /// After an event read from the stream created at `stream_created`.
    At {
        stream_created: time::OffsetDateTime,
        next_sequence: u64,
    },
}

impl Position {
    /// Where a consumer on the stream created at `stream_created` starts.
    fn deliver_policy(&self, stream_created: time::OffsetDateTime) -> DeliverPolicy {
        match *self {
            Position::Since(time) => DeliverPolicy::ByStartTime {
                start_time: time.into(),
            },
            Position::At {
                stream_created: created,
                next_sequence,
            } if created == stream_created => DeliverPolicy::ByStartSequence {
                start_sequence: next_sequence,
            },
            // A new stream: everything in it came after what was read.
            Position::At { .. } => DeliverPolicy::All,
        }
    }
}

/// Feeds `hub` until shutdown; `open` tells whether the feed is open now
/// (the gateway is not ready until it is).
pub async fn run(
    hub: Arc<Hub>,
    bus: Bus,
    open: Arc<AtomicBool>,
    shutdown: Shutdown,
) -> anyhow::Result<()> {
    let logouts = tokio::spawn(forward_logouts(hub.clone(), bus.clone(), shutdown.clone()));
    let blocks = tokio::spawn(forward_blocks(hub.clone(), bus.clone(), shutdown.clone()));
    let mut position = Position::Since(SystemTime::now() - START_MARGIN);
    let mut connections = bus.connections();
    let mut watching = true;
    'feed: while !shutdown.is_cancelled() {
        open.store(false, Ordering::Relaxed);
        connections.mark_unchanged();
        let (mut events, stream_created) = match open_feed(&bus, position).await {
            Ok(opened) => opened,
            Err(e) => {
                tracing::warn!(error = %e, "event feed not open yet; retrying");
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(REOPEN_DELAY_MS)) => continue,
                    _ = shutdown.cancelled() => break,
                }
            }
        };
        open.store(true, Ordering::Relaxed);
        loop {
            let next = tokio::select! {
                next = events.next() => next,
                // Reconnected: the server may have forgotten the consumer; reopen
                // at once rather than wait for missed heartbeats to tell.
                changed = connections.changed(), if watching => match changed {
                    Ok(()) => continue 'feed,
                    // The client is gone; the ordered consumer's heartbeats still tell.
                    Err(_) => { watching = false; continue }
                },
                _ = shutdown.cancelled() => break 'feed,
            };
            match next {
                Some(Ok(message)) => {
                    if let Ok(info) = message.info() {
                        position = Position::At {
                            stream_created,
                            next_sequence: info.stream_sequence + 1,
                        };
                    }
                    dispatch(&hub, message.message.payload);
                }
                Some(Err(e)) => {
                    tracing::debug!(error = %e, "event feed interrupted; reopening");
                    continue 'feed;
                }
                None => continue 'feed,
            }
        }
    }
    open.store(false, Ordering::Relaxed);
    logouts.await?;
    blocks.await?;
    Ok(())
}

/// An ordered consumer of the suite's events from `position` on, and when
/// the stream it reads was created.
async fn open_feed(
    bus: &Bus,
    position: Position,
) -> anyhow::Result<(pull::Ordered, time::OffsetDateTime)> {
    let stream = bus.ensure_stream().await?;
    let created = stream.cached_info().created;
    let consumer = stream
        .create_consumer(pull::OrderedConfig {
            // Every service's events (one filter: nats-server 2.9 knows no
            // more); the hub keeps the ones sockets see.
            filter_subject: bus.subject(">"),
            deliver_policy: position.deliver_policy(created),
            ..Default::default()
        })
        .await
        .map_err(|e| anyhow::anyhow!("while creating the gateway's event feed: {e}"))?;
    let events = consumer
        .messages()
        .await
        .map_err(|e| anyhow::anyhow!("while reading the gateway's event feed: {e}"))?;
    Ok((events, created))
}

fn dispatch(hub: &Hub, payload: bytes::Bytes) {
    let envelope = match ev::Envelope::decode(payload) {
        Ok(envelope) => envelope,
        Err(e) => {
            tracing::warn!(error = %e, "undecodable event on the bus");
            return;
        }
    };
    match hub::to_hub_event(envelope) {
        Ok(Some(event)) => hub.dispatch(std::sync::Arc::new(event)),
        Ok(None) => {}
        Err(e) => tracing::warn!(error = %e, "malformed event"),
    }
}

/// Closes the sockets of sessions that ended on another replica.
async fn forward_logouts(hub: Arc<Hub>, bus: Bus, shutdown: Shutdown) {
    let subject = hub::session_ended_subject(&bus);
    listen(
        bus,
        subject,
        "logouts",
        shutdown,
        |payload| match Uuid::from_slice(payload) {
            Ok(session_id) => hub.end_session(session_id),
            Err(_) => tracing::warn!("malformed logout notice"),
        },
    )
    .await
}

/// Closes the sockets of visitors blocked on another replica.
async fn forward_blocks(hub: Arc<Hub>, bus: Bus, shutdown: Shutdown) {
    let subject = crate::blocks::blocked_subject(&bus);
    listen(
        bus,
        subject,
        "blocked visitors",
        shutdown,
        |payload| match crate::blocks::parse_notice(payload) {
            Some((account_id, contact_id)) => hub.disconnect_visitor(account_id, contact_id),
            None => tracing::warn!("malformed block notice"),
        },
    )
    .await
}

/// Hands every notice on a core NATS subject to `on_notice` until shutdown,
/// subscribing again whenever the subscription ends or cannot be made.
async fn listen(
    bus: Bus,
    subject: String,
    what: &'static str,
    shutdown: Shutdown,
    on_notice: impl Fn(&[u8]),
) {
    while !shutdown.is_cancelled() {
        let mut notices = match bus.client.subscribe(subject.clone()).await {
            Ok(notices) => notices,
            Err(e) => {
                // Meanwhile sockets find out at their own checks, or on reconnecting.
                tracing::warn!(error = %e, what, "cannot hear of other replicas' notices yet");
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(REOPEN_DELAY_MS)) => continue,
                    _ = shutdown.cancelled() => return,
                }
            }
        };
        loop {
            let notice = tokio::select! {
                notice = notices.next() => notice,
                _ = shutdown.cancelled() => return,
            };
            let Some(notice) = notice else { break }; // subscribe again
            on_notice(&notice.payload);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_feed_goes_on_after_what_it_read_unless_the_stream_is_new() {
        let created = time::OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000);
        let at = Position::At {
            stream_created: created,
            next_sequence: 42,
        };
        assert_eq!(
            at.deliver_policy(created),
            DeliverPolicy::ByStartSequence { start_sequence: 42 }
        );
        let recreated = created + time::Duration::minutes(5);
        assert_eq!(at.deliver_policy(recreated), DeliverPolicy::All);
        let started = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(
            Position::Since(started).deliver_policy(created),
            DeliverPolicy::ByStartTime {
                start_time: started.into()
            }
        );
    }
}
