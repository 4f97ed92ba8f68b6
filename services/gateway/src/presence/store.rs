//! The presence bucket, and the writer of this replica's entries: each
//! socket's latest put or delete, and every entry again every third of the
//! TTL.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::kv;
use uuid::Uuid;

use chat_platform::{Shutdown, bus::Bus};

use super::{Entry, Pending};

/// Puts in flight at once when a replica puts its entries again.
const HEARTBEAT_PUTS_IN_FLIGHT: usize = 64;

/// Opens the bucket, creating it if missing. Created as its stream (what
/// `create_key_value` would make), because async-nats 0.51 first asks for
/// the account's info, whose answer from Debian's nats-server 2.9 it cannot
/// parse.
pub(crate) async fn bucket(bus: &Bus, ttl: Duration) -> anyhow::Result<kv::Store> {
    use async_nats::jetstream::stream;
    let name = bus.name("presence");
    let config = stream::Config {
        name: format!("KV_{name}"),
        description: Some("who is online: managers' consoles and visitors' pages".into()),
        subjects: vec![format!("$KV.{name}.>")],
        max_messages_per_subject: 1,
        max_age: ttl,
        storage: stream::StorageType::Memory,
        allow_rollup: true,
        deny_delete: true,
        allow_direct: true,
        discard: stream::DiscardPolicy::New,
        num_replicas: 1,
        ..Default::default()
    };
    bus.jetstream.get_or_create_stream(config).await?;
    Ok(bus.jetstream.get_key_value(name).await?)
}

/// Puts and deletes this replica's entries as the sockets asked (the latest
/// of each socket), and puts them all again every third of the TTL (also
/// after NATS was away).
pub(crate) async fn write(bus: Bus, pending: Arc<Pending>, ttl: Duration, shutdown: Shutdown) {
    let mut mine: HashMap<Uuid, Entry> = HashMap::new();
    let mut bucket = Bucket {
        bus,
        ttl,
        store: None,
    };
    let mut heartbeat = tokio::time::interval(ttl / 3);
    loop {
        tokio::select! {
            _ = pending.changed() => {
                for (socket, change) in pending.take() {
                    apply(&mut bucket, &mut mine, socket, change).await;
                }
            }
            _ = heartbeat.tick() => bucket.put_all(&mine).await,
            _ = shutdown.cancelled() => {
                // Leave as a replica that stops cleanly: its sockets go offline now.
                for (socket, entry) in &mine {
                    bucket.delete(&entry.key(*socket)).await;
                }
                return;
            }
        }
    }
}

/// One socket's latest change: its entry put (the old one deleted when its
/// key changed), or deleted.
async fn apply(
    bucket: &mut Bucket,
    mine: &mut HashMap<Uuid, Entry>,
    socket: Uuid,
    change: Option<Entry>,
) {
    match change {
        Some(entry) => {
            let key = entry.key(socket);
            let value = entry.value();
            if let Some(old) = mine.insert(socket, entry) {
                let old_key = old.key(socket);
                if old_key != key {
                    bucket.delete(&old_key).await;
                }
            }
            bucket.put(&key, value).await;
        }
        None => {
            if let Some(entry) = mine.remove(&socket) {
                bucket.delete(&entry.key(socket)).await;
            }
        }
    }
}

/// The bucket as the writer uses it: opened when first needed, and again
/// after a failure.
struct Bucket {
    bus: Bus,
    ttl: Duration,
    store: Option<kv::Store>,
}

impl Bucket {
    async fn put(&mut self, key: &str, value: bytes::Bytes) {
        let result = match self.open().await {
            Ok(store) => store
                .put(key, value)
                .await
                .map(drop)
                .map_err(anyhow::Error::from),
            Err(e) => Err(e),
        };
        if let Err(e) = result {
            tracing::debug!(error = %e, key, "presence put failed; the next heartbeat retries");
            self.store = None;
        }
    }

    /// Puts every entry again, many at a time; a failure ends the round
    /// (NATS is away: the next round tries again, and entries expire
    /// meanwhile only if it stays away for the TTL).
    async fn put_all(&mut self, entries: &HashMap<Uuid, Entry>) {
        use futures::stream::{self, TryStreamExt as _};
        let Ok(store) = self.open().await.cloned() else {
            self.store = None;
            return;
        };
        let puts = stream::iter(entries.iter().map(anyhow::Ok)).try_for_each_concurrent(
            HEARTBEAT_PUTS_IN_FLIGHT,
            |(socket, entry)| {
                let store = store.clone();
                async move {
                    store.put(entry.key(*socket), entry.value()).await?;
                    Ok(())
                }
            },
        );
        if let Err(e) = puts.await {
            tracing::debug!(error = %e, "presence heartbeat failed; the next one retries");
            self.store = None;
        }
    }

    async fn delete(&mut self, key: &str) {
        let result = match self.open().await {
            Ok(store) => store.delete(key).await.map_err(anyhow::Error::from),
            Err(e) => Err(e),
        };
        if let Err(e) = result {
            tracing::debug!(error = %e, key, "presence delete failed; the entry expires instead");
            self.store = None;
        }
    }

    async fn open(&mut self) -> anyhow::Result<&kv::Store> {
        if self.store.is_none() {
            self.store = Some(bucket(&self.bus, self.ttl).await?);
        }
        Ok(self.store.as_ref().expect("just opened"))
    }
}
