//! Presence: which managers have the console open and which visitors have a
//! page with the widget open, shared by every gateway replica through a NATS
//! KV bucket (`<prefix>_presence`, in memory).
//!
//! Each socket puts one entry (`<account>.m.<manager>.<socket>` or
//! `<account>.v.<contact>.<socket>`) and deletes it when it closes. Its
//! replica puts it again every third of the TTL (`GATEWAY_PRESENCE_TTL_SECS`),
//! and an entry not put for the TTL counts as gone (the bucket also drops it
//! then): so the sockets of a replica that dies go offline on their own. Every replica watches the
//! bucket, keeps the whole picture in memory, and tells its own sockets of
//! what changed: visitors' widgets when the first manager comes or the last
//! goes, managers' consoles when a visitor arrives, moves or leaves.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use async_nats::jetstream::kv;
use chrono::{DateTime, Utc};
use futures::StreamExt as _;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use uuid::Uuid;

use chat_platform::{Shutdown, bus::Bus};

use crate::hub::{Hub, HubEvent};

/// Puts in flight at once when a replica puts its entries again.
const HEARTBEAT_PUTS_IN_FLIGHT: usize = 64;
/// The most time between sweeps of the picture for entries past their TTL.
const MAX_SWEEP: Duration = Duration::from_secs(5);

/// What the visitors list shows of one open page.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct VisitorPage {
    pub contact_id: Uuid,
    pub name: String,
    pub email: String,
    pub page_url: String,
    pub page_title: String,
    pub visit_started_at: DateTime<Utc>,
    pub pages_seen: u32,
    /// When this page was opened (the socket connected or the page changed).
    pub at: DateTime<Utc>,
}

/// A visitor as the console lists them: their latest page, and how many
/// pages (tabs) with the widget they have open.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct VisitorOut {
    pub contact_id: Uuid,
    pub name: String,
    pub email: String,
    /// What to call them while `name` is empty, e.g. `Visitor 4F2A`.
    pub label: String,
    pub page_url: String,
    pub page_title: String,
    #[schema(value_type = String, format = DateTime)]
    pub visit_started_at: DateTime<Utc>,
    pub pages_seen: u32,
    pub tabs: usize,
}

/// One socket's entry.
#[derive(Debug, Clone)]
pub enum Entry {
    Manager { account_id: Uuid, manager_id: Uuid },
    Visitor { account_id: Uuid, page: VisitorPage },
}

impl Entry {
    fn key(&self, socket: Uuid) -> String {
        match self {
            Entry::Manager {
                account_id,
                manager_id,
            } => format!("{account_id}.m.{manager_id}.{socket}"),
            Entry::Visitor { account_id, page } => {
                format!("{account_id}.v.{}.{socket}", page.contact_id)
            }
        }
    }

    fn value(&self) -> bytes::Bytes {
        match self {
            Entry::Manager { .. } => bytes::Bytes::new(),
            Entry::Visitor { page, .. } => serde_json::to_vec(page).unwrap_or_default().into(),
        }
    }
}

enum Command {
    Put(Uuid, Entry),
    Delete(Uuid),
}

/// The replica's handle on presence: sockets tell it of themselves, handlers
/// ask it who is online.
pub struct Presence {
    /// An entry not put again for this long is gone.
    ttl: Duration,
    commands: mpsc::UnboundedSender<Command>,
    view: RwLock<View>,
}

/// Everyone online, by account.
#[derive(Default)]
struct View {
    accounts: HashMap<Uuid, Present>,
}

/// Who of one account is online.
#[derive(Default)]
struct Present {
    /// Manager socket keys, with when each was last put.
    managers: HashMap<String, Instant>,
    /// Visitor pages by contact, then by key (one a tab), each with when it
    /// was last put: a contact's answer looks at their own tabs only.
    visitors: HashMap<Uuid, HashMap<String, (VisitorPage, Instant)>>,
}

impl Present {
    fn managers_online(&self) -> bool {
        !self.managers.is_empty()
    }

    fn visitor(&self, contact_id: Uuid) -> Option<VisitorOut> {
        let pages: Vec<&VisitorPage> = self
            .visitors
            .get(&contact_id)?
            .values()
            .map(|(page, _)| page)
            .collect();
        let latest = pages.iter().max_by_key(|page| page.at)?;
        Some(VisitorOut {
            contact_id,
            name: latest.name.clone(),
            email: latest.email.clone(),
            label: label(contact_id),
            page_url: latest.page_url.clone(),
            page_title: latest.page_title.clone(),
            visit_started_at: pages.iter().map(|p| p.visit_started_at).min()?,
            pages_seen: pages.iter().map(|p| p.pages_seen).max()?,
            tabs: pages.len(),
        })
    }
}

/// An anonymous visitor's name: the start of their contact id.
pub fn label(contact_id: Uuid) -> String {
    let simple = contact_id.simple().to_string().to_uppercase();
    format!("Visitor {}", &simple[simple.len() - 4..])
}

/// What one change in the bucket did, for the sockets to hear.
#[derive(Debug, PartialEq)]
enum Change {
    ManagersOnline(Uuid, bool),
    Visitor(Uuid, Uuid, Option<VisitorOut>),
}

impl View {
    /// Applies a put (`Some`) or delete (`None`) of `key`; what it changed.
    fn apply(&mut self, key: &str, value: Option<&[u8]>, at: Instant) -> Vec<Change> {
        let mut parts = key.splitn(4, '.');
        let (Some(account), Some(kind), Some(who)) = (parts.next(), parts.next(), parts.next())
        else {
            return vec![];
        };
        let (Ok(account_id), Ok(who)) = (Uuid::parse_str(account), Uuid::parse_str(who)) else {
            return vec![];
        };
        let online = self.accounts.entry(account_id).or_default();
        let mut changes = vec![];
        match kind {
            "m" => {
                let before = online.managers_online();
                match value {
                    Some(_) => online.managers.insert(key.to_owned(), at),
                    None => online.managers.remove(key),
                };
                if before != online.managers_online() {
                    changes.push(Change::ManagersOnline(account_id, !before));
                }
            }
            "v" => {
                let before = online.visitor(who);
                match value.map(serde_json::from_slice::<VisitorPage>) {
                    Some(Ok(page)) => {
                        let tabs = online.visitors.entry(who).or_default();
                        tabs.insert(key.to_owned(), (page, at));
                    }
                    Some(Err(_)) => return vec![],
                    None => {
                        if let Some(tabs) = online.visitors.get_mut(&who) {
                            tabs.remove(key);
                            if tabs.is_empty() {
                                online.visitors.remove(&who);
                            }
                        }
                    }
                }
                let after = online.visitor(who);
                if before != after {
                    changes.push(Change::Visitor(account_id, who, after));
                }
            }
            _ => {}
        }
        if online.managers.is_empty() && online.visitors.is_empty() {
            self.accounts.remove(&account_id);
        }
        changes
    }

    /// Forgets entries not put for `ttl`.
    fn sweep(&mut self, now: Instant, ttl: Duration) -> Vec<Change> {
        let stale: Vec<String> = self
            .accounts
            .values()
            .flat_map(|online| {
                let managers = online.managers.iter().map(|(k, at)| (k, *at));
                let visitors = online
                    .visitors
                    .values()
                    .flatten()
                    .map(|(k, (_, at))| (k, *at));
                managers.chain(visitors)
            })
            .filter(|(_, at)| now.duration_since(*at) > ttl)
            .map(|(key, _)| key.clone())
            .collect();
        stale
            .iter()
            .flat_map(|key| self.apply(key, None, now))
            .collect()
    }
}

impl Presence {
    /// Starts the presence tasks of this replica: the writer of its sockets'
    /// entries and the watcher of everyone's.
    pub fn start(bus: Bus, hub: Arc<Hub>, ttl: Duration, shutdown: Shutdown) -> Arc<Self> {
        let (commands, receiver) = mpsc::unbounded_channel();
        let presence = Arc::new(Self {
            ttl,
            commands,
            view: RwLock::default(),
        });
        tokio::spawn(write(bus.clone(), receiver, ttl, shutdown.clone()));
        tokio::spawn(watch(presence.clone(), bus, hub, shutdown));
        presence
    }

    /// Puts (or replaces) the entry of the socket `socket`.
    pub fn put(&self, socket: Uuid, entry: Entry) {
        let _ = self.commands.send(Command::Put(socket, entry));
    }

    /// Deletes the socket's entry (it closed).
    pub fn delete(&self, socket: Uuid) {
        let _ = self.commands.send(Command::Delete(socket));
    }

    pub fn managers_online(&self, account_id: Uuid) -> bool {
        let view = self.view.read().expect("presence lock");
        view.accounts
            .get(&account_id)
            .is_some_and(Present::managers_online)
    }

    /// The account's visitors online, the latest arrival first.
    pub fn visitors(&self, account_id: Uuid) -> Vec<VisitorOut> {
        let view = self.view.read().expect("presence lock");
        let Some(online) = view.accounts.get(&account_id) else {
            return vec![];
        };
        let mut visitors: Vec<VisitorOut> = online
            .visitors
            .keys()
            .copied()
            .filter_map(|c| online.visitor(c))
            .collect();
        visitors.sort_by_key(|visitor| std::cmp::Reverse(visitor.visit_started_at));
        visitors
    }
}

/// A socket's presence: put while it lives, deleted when dropped.
pub struct Online {
    presence: Arc<Presence>,
    socket: Uuid,
}

impl Online {
    pub fn manager(state: &crate::state::AppState, account_id: Uuid, manager_id: Uuid) -> Self {
        let online = Self {
            presence: state.presence.clone(),
            socket: Uuid::new_v4(),
        };
        online.presence.put(
            online.socket,
            Entry::Manager {
                account_id,
                manager_id,
            },
        );
        online
    }

    /// A visitor's socket, online from its first page on.
    pub fn visitor(state: &crate::state::AppState) -> Self {
        Self {
            presence: state.presence.clone(),
            socket: Uuid::new_v4(),
        }
    }

    /// The visitor is on this page now.
    pub fn page(&self, account_id: Uuid, page: VisitorPage) {
        self.presence
            .put(self.socket, Entry::Visitor { account_id, page });
    }
}

impl Drop for Online {
    fn drop(&mut self) {
        self.presence.delete(self.socket);
    }
}

/// Opens the bucket, creating it if missing. Created as its stream (what
/// `create_key_value` would make), because async-nats 0.51 first asks for
/// the account's info, whose answer from Debian's nats-server 2.9 it cannot
/// parse.
async fn bucket(bus: &Bus, ttl: Duration) -> anyhow::Result<kv::Store> {
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

/// Puts and deletes this replica's entries in the order sockets asked, and
/// puts them all again every third of the TTL (also after NATS was away).
async fn write(
    bus: Bus,
    mut commands: mpsc::UnboundedReceiver<Command>,
    ttl: Duration,
    shutdown: Shutdown,
) {
    let mut mine: HashMap<Uuid, Entry> = HashMap::new();
    let mut bucket = Bucket {
        bus,
        ttl,
        store: None,
    };
    let mut heartbeat = tokio::time::interval(ttl / 3);
    loop {
        tokio::select! {
            command = commands.recv() => match command {
                Some(Command::Put(socket, entry)) => {
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
                Some(Command::Delete(socket)) => {
                    if let Some(entry) = mine.remove(&socket) {
                        bucket.delete(&entry.key(socket)).await;
                    }
                }
                None => return,
            },
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

/// Follows the bucket from its current state on, into the view, and tells
/// this replica's sockets what changed; reopens the watch when it breaks.
async fn watch(presence: Arc<Presence>, bus: Bus, hub: Arc<Hub>, shutdown: Shutdown) {
    let ttl = presence.ttl;
    let mut sweep = tokio::time::interval(MAX_SWEEP.min(ttl / 4));
    loop {
        let watching = async {
            let store = bucket(&bus, ttl).await?;
            anyhow::Ok(store.watch_with_history(">").await?)
        };
        let mut entries = tokio::select! {
            opened = watching => match opened {
                Ok(entries) => entries,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot watch presence; retrying");
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_secs(1)) => continue,
                        _ = shutdown.cancelled() => return,
                    }
                }
            },
            _ = shutdown.cancelled() => return,
        };
        loop {
            tokio::select! {
                entry = entries.next() => {
                    let Some(Ok(entry)) = entry else {
                        tracing::warn!("the presence watch ended; reopening");
                        break;
                    };
                    let age = (Utc::now() - DateTime::<Utc>::from(std::time::SystemTime::from(entry.created)))
                        .to_std()
                        .unwrap_or_default();
                    let at = Instant::now().checked_sub(age).unwrap_or_else(Instant::now);
                    let value = match entry.operation {
                        kv::Operation::Put => Some(entry.value.as_ref()),
                        kv::Operation::Delete | kv::Operation::Purge => None,
                    };
                    let changes = presence.view.write().expect("presence lock").apply(&entry.key, value, at);
                    tell(&hub, changes);
                }
                _ = sweep.tick() => {
                    let changes = presence.view.write().expect("presence lock").sweep(Instant::now(), ttl);
                    tell(&hub, changes);
                }
                _ = shutdown.cancelled() => return,
            }
        }
    }
}

fn tell(hub: &Hub, changes: Vec<Change>) {
    for change in changes {
        match change {
            Change::ManagersOnline(account_id, online) => {
                let frame = serde_json::json!({"type": "presence", "managers_online": online});
                hub.dispatch_to_visitors(
                    account_id,
                    Arc::new(HubEvent::control(account_id, frame)),
                );
            }
            Change::Visitor(account_id, contact_id, visitor) => {
                let frame = match visitor {
                    Some(visitor) => {
                        serde_json::json!({"type": "visitor_online", "visitor": visitor})
                    }
                    None => {
                        serde_json::json!({"type": "visitor_offline", "contact_id": contact_id})
                    }
                };
                hub.dispatch(Arc::new(HubEvent::control(account_id, frame)));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(contact_id: Uuid, url: &str, seconds_ago: i64) -> Vec<u8> {
        let now = Utc::now();
        serde_json::to_vec(&VisitorPage {
            contact_id,
            name: String::new(),
            email: String::new(),
            page_url: url.into(),
            page_title: "A page".into(),
            visit_started_at: now - chrono::Duration::minutes(3),
            pages_seen: 2,
            at: now - chrono::Duration::seconds(seconds_ago),
        })
        .unwrap()
    }

    #[test]
    fn managers_online_flips_only_at_the_first_and_the_last() {
        let (account, m1, m2) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let mut view = View::default();
        let now = Instant::now();
        let k1 = format!("{account}.m.{m1}.{}", Uuid::new_v4());
        let k2 = format!("{account}.m.{m2}.{}", Uuid::new_v4());
        assert_eq!(
            view.apply(&k1, Some(b""), now),
            [Change::ManagersOnline(account, true)]
        );
        assert_eq!(view.apply(&k2, Some(b""), now), []);
        assert_eq!(view.apply(&k1, None, now), []);
        assert_eq!(
            view.apply(&k2, None, now),
            [Change::ManagersOnline(account, false)]
        );
    }

    #[test]
    fn a_visitor_is_their_latest_page_across_tabs_until_the_last_closes() {
        let (account, contact) = (Uuid::new_v4(), Uuid::new_v4());
        let mut view = View::default();
        let now = Instant::now();
        let tab1 = format!("{account}.v.{contact}.{}", Uuid::new_v4());
        let tab2 = format!("{account}.v.{contact}.{}", Uuid::new_v4());
        let changes = view.apply(&tab1, Some(&page(contact, "https://s/a", 10)), now);
        assert!(
            matches!(&changes[..], [Change::Visitor(_, _, Some(v))] if v.page_url == "https://s/a" && v.tabs == 1)
        );
        let changes = view.apply(&tab2, Some(&page(contact, "https://s/b", 1)), now);
        assert!(
            matches!(&changes[..], [Change::Visitor(_, _, Some(v))] if v.page_url == "https://s/b" && v.tabs == 2)
        );
        let changes = view.apply(&tab2, None, now);
        assert!(
            matches!(&changes[..], [Change::Visitor(_, _, Some(v))] if v.page_url == "https://s/a" && v.tabs == 1)
        );
        assert_eq!(
            view.apply(&tab1, None, now),
            [Change::Visitor(account, contact, None)]
        );
        assert!(view.accounts.is_empty());
    }

    #[test]
    fn entries_not_put_within_the_ttl_are_swept() {
        let (account, manager) = (Uuid::new_v4(), Uuid::new_v4());
        let mut view = View::default();
        let start = Instant::now();
        view.apply(
            &format!("{account}.m.{manager}.{}", Uuid::new_v4()),
            Some(b""),
            start,
        );
        let ttl = Duration::from_secs(60);
        assert_eq!(view.sweep(start + ttl / 2, ttl), []);
        assert_eq!(
            view.sweep(start + ttl + MAX_SWEEP, ttl),
            [Change::ManagersOnline(account, false)]
        );
    }

    #[test]
    fn labels_are_short_and_stable() {
        let id = Uuid::parse_str("0195f0c2-7a1b-7c3d-8e4f-a1b2c3d44f2a").unwrap();
        assert_eq!(label(id), "Visitor 4F2A");
    }
}
