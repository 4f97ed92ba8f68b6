//! Whether a manager has the console open, or a visitor a page with the
//! widget: read from the gateway's presence bucket (`<prefix>_presence`,
//! NATS KV), where each socket keeps an entry (`<account>.m.<manager>.<socket>`,
//! `<account>.v.<contact>.<socket>`) while it is open and the bucket drops
//! entries nobody renewed (so a dead replica's sockets count as gone). The
//! gateway alone writes it; this only looks.

use async_nats::jetstream::kv;
use futures::TryStreamExt as _;
use uuid::Uuid;

use chat_platform::bus::Bus;

#[derive(Clone)]
pub struct Presence {
    bus: Bus,
}

impl Presence {
    pub fn new(bus: Bus) -> Self {
        Self { bus }
    }

    /// Whether any console socket of the manager is open now. No bucket
    /// means no gateway ever ran: nobody is online. An error (NATS away) is
    /// for the caller to retry, never a guess.
    pub async fn manager_online(&self, account_id: Uuid, manager_id: Uuid) -> anyhow::Result<bool> {
        self.any_open(account_id, "m", manager_id).await
    }

    /// Whether any page of the visitor (contact) with the widget is open now.
    pub async fn visitor_online(&self, account_id: Uuid, contact_id: Uuid) -> anyhow::Result<bool> {
        self.any_open(account_id, "v", contact_id).await
    }

    async fn any_open(&self, account_id: Uuid, kind: &str, id: Uuid) -> anyhow::Result<bool> {
        let name = self.bus.name("presence");
        let stream = match self.bus.jetstream.get_stream(format!("KV_{name}")).await {
            Ok(stream) => stream,
            Err(e) if stream_missing(&e) => return Ok(false),
            Err(e) => return Err(e.into()),
        };
        let prefix = format!("$KV.{name}.");
        let filter = format!("{prefix}{account_id}.{kind}.{id}.*");
        let subjects: Vec<String> = stream
            .info_with_subjects(filter)
            .await?
            .map_ok(|(subject, _messages)| subject)
            .try_collect()
            .await?;
        if subjects.is_empty() {
            return Ok(false);
        }
        let store = self.bus.jetstream.get_key_value(name).await?;
        for subject in subjects {
            let key = subject.trim_start_matches(&prefix);
            if let Some(entry) = store.entry(key).await?
                && entry.operation == kv::Operation::Put
            {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

fn stream_missing(e: &async_nats::jetstream::context::GetStreamError) -> bool {
    use async_nats::jetstream::{ErrorCode, context::GetStreamErrorKind};
    matches!(e.kind(), GetStreamErrorKind::JetStream(inner)
        if inner.error_code() == ErrorCode::STREAM_NOT_FOUND)
}
