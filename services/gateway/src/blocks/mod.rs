//! Blocked visitors: a manager blocks a visitor who spams or abuses the
//! chat (from their dialog, or by marking dialogs as spam). The block holds
//! the visitor's credential and the addresses they were online from; their
//! sockets close on every replica at once (a notice on core NATS), a
//! blocked visitor's widget is closed when it connects (4403 `blocked`, and
//! it shows nothing), so nothing more of theirs is stored. Lifting the block
//! lets them back.
//!
//! - [`db`]: the SQL.

pub mod db;

use std::net::IpAddr;

use chat_proto::contact::v1 as contact_pb;
use uuid::Uuid;

use crate::auth::Manager;
use crate::error::{Error, Result};
use crate::state::AppState;

pub use db::BlockRow;

/// Why a visitor was blocked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// A manager blocked them.
    Blocked,
    /// A manager marked their dialog as spam.
    Spam,
}

impl Reason {
    fn as_str(self) -> &'static str {
        match self {
            Reason::Blocked => "",
            Reason::Spam => "spam",
        }
    }
}

/// Blocks the visitor of `contact_id`, a contact of the manager's account
/// (404 otherwise; 422 when the contact is no site visitor, e.g. a
/// messenger's user).
pub async fn block(
    state: &AppState,
    manager: &Manager,
    contact_id: Uuid,
    reason: Reason,
) -> Result<BlockRow> {
    let request = contact_pb::GetContactRequest {
        account_id: manager.account_id.to_string(),
        contact_id: contact_id.to_string(),
    };
    let contact = state
        .contacts
        .clone()
        .get_contact(request)
        .await?
        .into_inner();
    if contact.visitor_id.is_empty() {
        return Err(Error::Invalid(
            "only visitors of the site can be blocked here".into(),
        ));
    }
    let online = state
        .presence
        .visitor_sockets(manager.account_id, contact_id);
    let mut visitor_ids = vec![contact.visitor_id.clone()];
    let mut addresses = Vec::new();
    for (visitor_id, address) in online {
        if !visitor_ids.contains(&visitor_id) {
            visitor_ids.push(visitor_id);
        }
        if blockable(&address) && !addresses.contains(&address) {
            addresses.push(address);
        }
    }
    let new = db::NewBlock {
        account_id: manager.account_id,
        visitor_ids: &visitor_ids,
        addresses: &addresses,
        contact_id,
        contact_name: &contact.name,
        blocked_by: manager.id,
        reason: reason.as_str(),
    };
    let block = db::insert(&state.pool, &new).await?;
    announce(state, manager.account_id, contact_id).await;
    Ok(block)
}

/// Whether an address may be blocked: only a public one. A loopback,
/// private, link-local or carrier-grade NAT address is most likely a proxy
/// or a network many people share (an ingress whose address the suite was
/// not told to look behind, a shop's office), and blocking it would block
/// them all; such a visitor is blocked by credential only.
fn blockable(address: &str) -> bool {
    match address.parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => {
            let carrier_nat = v4.octets()[0] == 100 && (v4.octets()[1] & 0xc0) == 64;
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || carrier_nat)
        }
        Ok(IpAddr::V6(v6)) => {
            let unique_local = (v6.segments()[0] & 0xfe00) == 0xfc00;
            let link_local = (v6.segments()[0] & 0xffc0) == 0xfe80;
            !(v6.is_loopback() || v6.is_unspecified() || unique_local || link_local)
        }
        Err(_) => false,
    }
}

/// Whether a visitor may not connect: blocked by credential or address.
pub async fn is_blocked(
    state: &AppState,
    account_id: Uuid,
    visitor_id: &str,
    address: Option<IpAddr>,
) -> Result<bool> {
    let address = address.map(|a| a.to_string());
    Ok(db::blocked(&state.pool, account_id, visitor_id, address.as_deref()).await?)
}

/// The subject on which replicas hear of blocked visitors (core NATS).
pub fn blocked_subject(bus: &chat_platform::bus::Bus) -> String {
    format!("{}.live.visitor_blocked", bus.prefix())
}

/// Closes the visitor's sockets on this replica and tells the others to.
async fn announce(state: &AppState, account_id: Uuid, contact_id: Uuid) {
    state.hub.disconnect_visitor(account_id, contact_id);
    let mut notice = account_id.as_bytes().to_vec();
    notice.extend_from_slice(contact_id.as_bytes());
    let sent = state
        .bus
        .client
        .publish(blocked_subject(&state.bus), notice.into())
        .await;
    if let Err(e) = sent {
        tracing::warn!(error = %e, "could not tell other replicas of a blocked visitor");
    }
}

/// The account and contact of a notice from [`announce`].
pub fn parse_notice(payload: &[u8]) -> Option<(Uuid, Uuid)> {
    let (account, contact) = payload.split_at_checked(16)?;
    Some((
        Uuid::from_slice(account).ok()?,
        Uuid::from_slice(contact).ok()?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_are_blocked() {
        for public in ["198.51.100.66", "8.8.8.8", "2001:db8::7"] {
            assert!(blockable(public), "{public}");
        }
        for shared in [
            "127.0.0.1",
            "10.1.2.3",
            "172.20.0.5",
            "192.168.1.10",
            "100.64.12.1",
            "169.254.1.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "",
            "nonsense",
        ] {
            assert!(!blockable(shared), "{shared}");
        }
    }
}
