//! The picture of who is online, as every replica keeps it from the
//! bucket's entries: managers by socket, visitors by contact and tab; and
//! what each change means for the sockets.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use uuid::Uuid;

use super::{VisitorOut, VisitorPage};

/// Everyone online, by account.
#[derive(Default)]
pub(crate) struct View {
    pub(crate) accounts: HashMap<Uuid, Present>,
}

/// Who of one account is online.
#[derive(Default)]
pub(crate) struct Present {
    /// Manager socket keys, with when each was last put.
    managers: HashMap<String, Instant>,
    /// Visitor pages by contact, then by key (one a tab), each with when it
    /// was last put: a contact's answer looks at their own tabs only.
    pub(crate) visitors: HashMap<Uuid, Tabs>,
}

/// One contact's open pages by key (one a tab), each with when it was last
/// put. A contact has one or a few, so a list holding exactly them: a map
/// starts at four slots of a page each, and every visitor online on every
/// replica has one of these.
#[derive(Default)]
pub(crate) struct Tabs(Vec<(String, VisitorPage, Instant)>);

impl Tabs {
    fn put(&mut self, key: &str, page: VisitorPage, at: Instant) {
        match self.0.iter_mut().find(|(k, ..)| k == key) {
            Some(tab) => (tab.1, tab.2) = (page, at),
            None => {
                self.0.reserve_exact(1);
                self.0.push((key.to_owned(), page, at));
            }
        }
    }

    fn remove(&mut self, key: &str) {
        self.0.retain(|(k, ..)| k != key);
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn pages(&self) -> impl Iterator<Item = &VisitorPage> {
        self.0.iter().map(|(_, page, _)| page)
    }

    /// Each tab's key with when it was last put.
    fn put_at(&self) -> impl Iterator<Item = (&String, Instant)> {
        self.0.iter().map(|(key, _, at)| (key, *at))
    }
}

impl Present {
    pub(crate) fn managers_online(&self) -> bool {
        !self.managers.is_empty()
    }

    /// Whether any console of this manager is open (`account` as in the keys).
    pub(crate) fn manager_online(&self, account: &str, manager: Uuid) -> bool {
        let prefix = format!("{account}.m.{manager}.");
        self.managers.keys().any(|key| key.starts_with(&prefix))
    }

    pub(crate) fn visitor(&self, contact_id: Uuid) -> Option<VisitorOut> {
        let pages: Vec<&VisitorPage> = self.visitors.get(&contact_id)?.pages().collect();
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

pub use chat_platform::names::visitor_label as label;

/// What one change in the bucket did, for the sockets to hear.
#[derive(Debug, PartialEq)]
pub(crate) enum Change {
    ManagersOnline(Uuid, bool),
    /// One manager's first console opened (`true`) or last one closed.
    Manager(Uuid, Uuid, bool),
    Visitor(Uuid, Uuid, Option<VisitorOut>),
}

impl View {
    /// Applies a put (`Some`) or delete (`None`) of `key`; what it changed.
    pub(crate) fn apply(&mut self, key: &str, value: Option<&[u8]>, at: Instant) -> Vec<Change> {
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
                let manager_before = online.manager_online(account, who);
                match value {
                    Some(_) => online.managers.insert(key.to_owned(), at),
                    None => online.managers.remove(key),
                };
                if before != online.managers_online() {
                    changes.push(Change::ManagersOnline(account_id, !before));
                }
                if manager_before != online.manager_online(account, who) {
                    changes.push(Change::Manager(account_id, who, !manager_before));
                }
            }
            "v" => {
                let before = online.visitor(who);
                match value.map(serde_json::from_slice::<VisitorPage>) {
                    Some(Ok(page)) => {
                        online.visitors.entry(who).or_default().put(key, page, at);
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
    pub(crate) fn sweep(&mut self, now: Instant, ttl: Duration) -> Vec<Change> {
        let stale: Vec<String> = self
            .accounts
            .values()
            .flat_map(|online| {
                let managers = online.managers.iter().map(|(k, at)| (k, *at));
                let visitors = online.visitors.values().flat_map(Tabs::put_at);
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

#[cfg(test)]
mod tests {
    use super::super::watch::MAX_SWEEP;
    use super::*;
    use chrono::Utc;

    fn page(contact_id: Uuid, url: &str, seconds_ago: i64) -> Vec<u8> {
        let now = Utc::now();
        serde_json::to_vec(&VisitorPage {
            contact_id,
            visitor_id: "v".into(),
            address: String::new(),
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
            [
                Change::ManagersOnline(account, true),
                Change::Manager(account, m1, true)
            ]
        );
        assert_eq!(
            view.apply(&k2, Some(b""), now),
            [Change::Manager(account, m2, true)]
        );
        assert_eq!(
            view.apply(&k1, None, now),
            [Change::Manager(account, m1, false)]
        );
        assert_eq!(
            view.apply(&k2, None, now),
            [
                Change::ManagersOnline(account, false),
                Change::Manager(account, m2, false)
            ]
        );
    }

    #[test]
    fn a_manager_is_online_from_their_first_console_to_their_last() {
        let (account, manager) = (Uuid::new_v4(), Uuid::new_v4());
        let mut view = View::default();
        let now = Instant::now();
        let laptop = format!("{account}.m.{manager}.{}", Uuid::new_v4());
        let phone = format!("{account}.m.{manager}.{}", Uuid::new_v4());
        view.apply(&laptop, Some(b""), now);
        assert_eq!(view.apply(&phone, Some(b""), now), []);
        assert_eq!(view.apply(&laptop, None, now), []);
        assert_eq!(
            view.apply(&phone, None, now),
            [
                Change::ManagersOnline(account, false),
                Change::Manager(account, manager, false)
            ]
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
            [
                Change::ManagersOnline(account, false),
                Change::Manager(account, manager, false)
            ]
        );
    }

    #[test]
    fn labels_are_short_and_stable() {
        let id = Uuid::parse_str("0195f0c2-7a1b-7c3d-8e4f-a1b2c3d44f2a").unwrap();
        assert_eq!(label(id), "Visitor 4F2A");
    }
}
