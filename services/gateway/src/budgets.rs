//! What anonymous traffic may spend, so that a script can neither fill a
//! shop's inbox and contact list nor a replica's sockets, and managers
//! always get in:
//! - sockets: visitors' and managers' each have their own cap per replica
//!   (`GATEWAY_MAX_SOCKETS`, `GATEWAY_MAX_MANAGER_SOCKETS`), and one client
//!   address holds at most `GATEWAY_VISITOR_SOCKETS_PER_ADDRESS` visitor
//!   sockets at once and opens at most
//!   `GATEWAY_VISITOR_CONNECTS_PER_MINUTE_PER_ADDRESS` a minute;
//! - new visitors (credentials issued) per address and per site;
//! - first messages (those that open a dialog) per address and per site.
//!
//! An IPv6 address counts by its /64 ([`address_key`]).
//!
//! A socket's place is a [`SocketPermit`], given back when the socket (or
//! the upgrade that never happened) is dropped. Budgets are per replica.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use uuid::Uuid;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::limits::{KeyedLimit, address_key};

/// How long a client is asked to wait when a replica's sockets are all taken.
const FULL_RETRY_SECS: u64 = 5;

pub struct Budgets {
    max_visitor_sockets: usize,
    max_manager_sockets: usize,
    visitor_sockets_per_address: u32,
    visitor_sockets: AtomicUsize,
    manager_sockets: AtomicUsize,
    visitor_sockets_by_address: Mutex<HashMap<IpAddr, u32>>,
    connects_by_address: KeyedLimit<IpAddr>,
    new_visitors_by_address: KeyedLimit<IpAddr>,
    new_visitors_by_site: KeyedLimit<Uuid>,
    first_messages_by_address: KeyedLimit<IpAddr>,
    first_messages_by_site: KeyedLimit<Uuid>,
}

/// Which cap a socket counts against.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Visitor,
    Manager,
}

/// A socket's place; given back on drop.
pub struct SocketPermit {
    budgets: Arc<Budgets>,
    kind: Kind,
    address: Option<IpAddr>,
}

impl Budgets {
    pub fn new(config: &Config) -> Self {
        Self {
            max_visitor_sockets: config.max_sockets,
            max_manager_sockets: config.max_manager_sockets,
            visitor_sockets_per_address: config.visitor_sockets_per_address,
            visitor_sockets: AtomicUsize::new(0),
            manager_sockets: AtomicUsize::new(0),
            visitor_sockets_by_address: Mutex::default(),
            connects_by_address: KeyedLimit::per_minute(
                config.visitor_connects_per_minute_per_address,
            ),
            new_visitors_by_address: KeyedLimit::per_minute(
                config.new_visitors_per_minute_per_address,
            ),
            new_visitors_by_site: KeyedLimit::per_minute(config.new_visitors_per_minute_per_site),
            first_messages_by_address: KeyedLimit::per_minute(
                config.first_messages_per_minute_per_address,
            ),
            first_messages_by_site: KeyedLimit::per_minute(
                config.first_messages_per_minute_per_site,
            ),
        }
    }

    /// A place for a manager's socket: 503 when the replica's managers'
    /// sockets are all taken (visitors never take them).
    pub fn admit_manager(self: &Arc<Self>) -> Result<SocketPermit> {
        let taken = self.manager_sockets.fetch_add(1, Ordering::SeqCst);
        let permit = self.permit(Kind::Manager, None);
        match taken < self.max_manager_sockets {
            true => Ok(permit),
            false => Err(refused("manager_sockets", Error::Unavailable)),
        }
    }

    /// A place for a visitor's socket from `address`: 429 past the address's
    /// sockets at once or connects a minute, 503 when the replica's visitor
    /// sockets are all taken.
    pub fn admit_visitor(self: &Arc<Self>, address: Option<IpAddr>) -> Result<SocketPermit> {
        let address = address.map(address_key);
        if let Some(address) = address {
            self.connects_by_address
                .check(&address)
                .map_err(|e| refused("visitor_connects", e))?;
        }
        let taken = self.visitor_sockets.fetch_add(1, Ordering::SeqCst);
        let from_address = address.map(|address| {
            let mut by_address = self.lock_addresses();
            let count = by_address.entry(address).or_insert(0);
            *count += 1;
            *count
        });
        let permit = self.permit(Kind::Visitor, address);
        if from_address.is_some_and(|n| n > self.visitor_sockets_per_address) {
            let wait = Error::RateLimited(FULL_RETRY_SECS);
            return Err(refused("visitor_sockets_per_address", wait));
        }
        match taken < self.max_visitor_sockets {
            true => Ok(permit),
            false => Err(refused("visitor_sockets", Error::Unavailable)),
        }
    }

    /// A new visitor credential for a site of `account_id`, asked from `address`.
    pub fn new_visitor(&self, address: Option<IpAddr>, account_id: Uuid) -> Result<()> {
        if let Some(address) = address.map(address_key) {
            self.new_visitors_by_address
                .check(&address)
                .map_err(|e| refused("new_visitors", e))?;
        }
        self.new_visitors_by_site
            .check(&account_id)
            .map_err(|e| refused("new_visitors_per_site", e))
    }

    /// A visitor's first message (it opens a dialog) from `address`.
    pub fn first_message(&self, address: Option<IpAddr>, account_id: Uuid) -> Result<()> {
        if let Some(address) = address.map(address_key) {
            self.first_messages_by_address
                .check(&address)
                .map_err(|e| refused("first_messages", e))?;
        }
        self.first_messages_by_site
            .check(&account_id)
            .map_err(|e| refused("first_messages_per_site", e))
    }

    /// Visitor and manager sockets open on this replica.
    pub fn sockets(&self) -> (usize, usize) {
        (
            self.visitor_sockets.load(Ordering::SeqCst),
            self.manager_sockets.load(Ordering::SeqCst),
        )
    }

    fn permit(self: &Arc<Self>, kind: Kind, address: Option<IpAddr>) -> SocketPermit {
        SocketPermit {
            budgets: self.clone(),
            kind,
            address,
        }
    }

    fn lock_addresses(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, u32>> {
        self.visitor_sockets_by_address
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for SocketPermit {
    fn drop(&mut self) {
        let budgets = &self.budgets;
        match self.kind {
            Kind::Manager => budgets.manager_sockets.fetch_sub(1, Ordering::SeqCst),
            Kind::Visitor => budgets.visitor_sockets.fetch_sub(1, Ordering::SeqCst),
        };
        if let Some(address) = self.address {
            let mut by_address = budgets.lock_addresses();
            if let Some(count) = by_address.get_mut(&address) {
                *count -= 1;
                if *count == 0 {
                    by_address.remove(&address);
                }
            }
        }
    }
}

/// Counts a refusal by the budget that refused.
fn refused(budget: &'static str, error: Error) -> Error {
    metrics::counter!("gateway_budget_refusals_total", "budget" => budget).increment(1);
    error
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budgets(change: impl FnOnce(&mut Config)) -> Arc<Budgets> {
        let mut config = Config::default();
        change(&mut config);
        Arc::new(Budgets::new(&config))
    }

    #[test]
    fn visitors_never_take_the_managers_places() {
        let budgets = budgets(|c| {
            c.max_sockets = 2;
            c.max_manager_sockets = 1;
        });
        let visitors: Vec<_> = (0..2u8)
            .map(|i| {
                budgets
                    .admit_visitor(Some(IpAddr::from([10, 0, 0, i])))
                    .unwrap()
            })
            .collect();
        let full = budgets.admit_visitor(Some(IpAddr::from([10, 0, 0, 9])));
        assert!(matches!(full, Err(Error::Unavailable)));
        let manager = budgets.admit_manager().unwrap();
        assert!(matches!(budgets.admit_manager(), Err(Error::Unavailable)));
        assert_eq!(budgets.sockets(), (2, 1), "refusals give their place back");
        drop(visitors);
        drop(manager);
        assert_eq!(budgets.sockets(), (0, 0));
    }

    #[test]
    fn one_address_holds_a_few_sockets_and_another_still_gets_in() {
        let budgets = budgets(|c| c.visitor_sockets_per_address = 2);
        let flood = Some(IpAddr::from([198, 51, 100, 1]));
        let held: Vec<_> = (0..2)
            .map(|_| budgets.admit_visitor(flood).unwrap())
            .collect();
        assert!(matches!(
            budgets.admit_visitor(flood),
            Err(Error::RateLimited(_))
        ));
        budgets
            .admit_visitor(Some(IpAddr::from([198, 51, 100, 2])))
            .unwrap();
        drop(held);
        budgets.admit_visitor(flood).unwrap();
    }

    #[test]
    fn new_visitors_and_first_messages_have_quotas_per_address_and_site() {
        let budgets = budgets(|c| {
            c.new_visitors_per_minute_per_address = 2;
            c.first_messages_per_minute_per_site = 1;
        });
        let (shop, other_shop) = (Uuid::now_v7(), Uuid::now_v7());
        let flood = Some(IpAddr::from([198, 51, 100, 1]));
        budgets.new_visitor(flood, shop).unwrap();
        budgets.new_visitor(flood, other_shop).unwrap();
        assert!(
            budgets.new_visitor(flood, shop).is_err(),
            "per address, any site"
        );
        budgets
            .new_visitor(Some(IpAddr::from([198, 51, 100, 2])), shop)
            .unwrap();
        budgets.first_message(flood, shop).unwrap();
        assert!(
            budgets.first_message(None, shop).is_err(),
            "per site, any address"
        );
        budgets.first_message(flood, other_shop).unwrap();
    }
}
