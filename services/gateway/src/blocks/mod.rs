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
        if !address.is_empty() && !addresses.contains(&address) {
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
