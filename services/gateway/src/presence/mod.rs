//! Presence: which managers have the console open and which visitors have a
//! page with the widget open, shared by every gateway replica through a NATS
//! KV bucket (`<prefix>_presence`, in memory).
//!
//! Each socket puts one entry (`<account>.m.<manager>.<socket>` or
//! `<account>.v.<contact>.<socket>`) and deletes it when it closes. Its
//! replica puts it again every third of the TTL (`GATEWAY_PRESENCE_TTL_SECS`),
//! and an entry not put for the TTL counts as gone (the bucket also drops it
//! then): so the sockets of a replica that dies go offline on their own.
//! Every replica watches the bucket, keeps the whole picture in memory, and
//! tells its own sockets of
//! what changed: visitors' widgets when the first manager comes or the last
//! goes, managers' consoles when a visitor arrives, moves or leaves.
//!
//! - [`view`]: the whole picture, as this replica keeps it.
//! - [`store`]: the bucket, and the writer of this replica's entries.
//! - [`watch`]: following the bucket, and telling the sockets.

mod store;
mod view;
mod watch;

use std::sync::{Arc, RwLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use chat_platform::{Shutdown, bus::Bus};

use crate::hub::Hub;
use view::{Present, View};

/// What the visitors list shows of one open page.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct VisitorPage {
    pub contact_id: Uuid,
    /// The visitor's id (never shown): a manager who writes first to a
    /// visitor without a contact yet creates it through this.
    #[serde(default)]
    pub visitor_id: String,
    /// The client's address (never shown): blocking a visitor blocks it.
    #[serde(default)]
    pub address: String,
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
    pub(crate) fn key(&self, socket: Uuid) -> String {
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

    pub(crate) fn value(&self) -> bytes::Bytes {
        match self {
            Entry::Manager { .. } => bytes::Bytes::new(),
            Entry::Visitor { page, .. } => serde_json::to_vec(page).unwrap_or_default().into(),
        }
    }
}

/// What the sockets asked of the bucket and the writer has not done yet:
/// at most one change per socket, the latest (a put, or `None` for a
/// delete), so a visitor who changes pages faster than NATS takes them costs
/// one entry, not a queue; bounded by the replica's sockets.
#[derive(Default)]
pub(crate) struct Pending {
    changes: std::sync::Mutex<std::collections::HashMap<Uuid, Option<Entry>>>,
    ready: tokio::sync::Notify,
}

impl Pending {
    fn change(&self, socket: Uuid, entry: Option<Entry>) {
        self.lock().insert(socket, entry);
        self.ready.notify_one();
    }

    /// Takes every change asked so far.
    pub(crate) fn take(&self) -> std::collections::HashMap<Uuid, Option<Entry>> {
        std::mem::take(&mut *self.lock())
    }

    /// Waits until a change is asked (at once if one was since the last wait).
    pub(crate) async fn changed(&self) {
        self.ready.notified().await;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<Uuid, Option<Entry>>> {
        self.changes.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The replica's handle on presence: sockets tell it of themselves, handlers
/// ask it who is online.
pub struct Presence {
    /// An entry not put again for this long is gone.
    ttl: Duration,
    pending: Arc<Pending>,
    view: RwLock<View>,
}

impl Presence {
    /// Starts the presence tasks of this replica: the writer of its sockets'
    /// entries and the watcher of everyone's.
    pub fn start(
        bus: Bus,
        hub: Arc<Hub>,
        ttl: Duration,
        shutdown: Shutdown,
        tasks: &chat_platform::shutdown::Tasks,
    ) -> Arc<Self> {
        let pending = Arc::new(Pending::default());
        let presence = Arc::new(Self {
            ttl,
            pending: pending.clone(),
            view: RwLock::default(),
        });
        tasks.spawn(store::write(bus.clone(), pending, ttl, shutdown.clone()));
        tasks.spawn(watch::watch(presence.clone(), bus, hub, shutdown));
        presence
    }

    /// Puts (or replaces) the entry of the socket `socket`.
    pub fn put(&self, socket: Uuid, entry: Entry) {
        self.pending.change(socket, Some(entry));
    }

    /// Deletes the socket's entry (it closed).
    pub fn delete(&self, socket: Uuid) {
        self.pending.change(socket, None);
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

impl Presence {
    /// The visitor id of an online visitor whose socket is addressed by
    /// `contact_id` (their contact may not exist yet).
    pub fn visitor_id_of(&self, account_id: Uuid, contact_id: Uuid) -> Option<String> {
        self.visitor_sockets(account_id, contact_id)
            .into_iter()
            .map(|(visitor_id, _)| visitor_id)
            .find(|id| !id.is_empty())
    }

    /// The visitor id and client address of each page a contact has open.
    pub fn visitor_sockets(&self, account_id: Uuid, contact_id: Uuid) -> Vec<(String, String)> {
        let view = self.view.read().expect("presence lock");
        let Some(pages) = view
            .accounts
            .get(&account_id)
            .and_then(|present| present.visitors.get(&contact_id))
        else {
            return Vec::new();
        };
        pages
            .pages()
            .map(|page| (page.visitor_id.clone(), page.address.clone()))
            .collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_sockets_changes_coalesce_into_its_latest() {
        let pending = Pending::default();
        let (tab, console) = (Uuid::new_v4(), Uuid::new_v4());
        let manager = |manager_id| Entry::Manager {
            account_id: Uuid::nil(),
            manager_id,
        };
        for _ in 0..1000 {
            pending.change(tab, Some(manager(Uuid::new_v4())));
        }
        pending.change(tab, None);
        pending.change(console, Some(manager(Uuid::nil())));
        pending.changed().await;
        let changes = pending.take();
        assert_eq!(changes.len(), 2, "one change a socket, however many asked");
        assert!(changes[&tab].is_none(), "the latest: deleted");
        assert!(changes[&console].is_some());
        assert!(pending.take().is_empty());
    }
}
