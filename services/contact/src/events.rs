//! Events of the contact service: it publishes `contact.contact_updated`
//! when a manager changes a contact, and consumes none.

use prost::Message as _;

use chat_proto::events::v1 as ev;

pub use chat_platform::events::CONTACT_UPDATED;

pub fn contact_updated(
    account_id: uuid::Uuid,
    contact: &chat_proto::contact::v1::Contact,
) -> chat_platform::outbox::NewEvent {
    chat_platform::outbox::NewEvent::new(
        account_id,
        CONTACT_UPDATED,
        ev::ContactUpdated {
            contact: Some(contact.clone()),
        }
        .encode_to_vec(),
    )
}

/// The consumer that once copied every stored message onto its contact's
/// timeline; the gateway reads the messages from the dialog service now.
pub const RETIRED_TIMELINE_CONSUMER: &str = "contact_timeline";
