//! Where every messenger's inbound path ends: the person's contact (found or
//! made by their id on the platform, with their profile's name) and their
//! message in that contact's dialog, posted with the platform's key of the
//! update as its client id. A redelivered update is therefore stored once:
//! the dialog service's unique key on client ids decides, not a check here.
//! The platform is answered only after this returns, so a crash in between
//! means a redelivery, never a loss.

use chat_platform::grpc::Traced;
use chat_proto::contact::v1::{self as contact_pb, contact_service_client::ContactServiceClient};
use chat_proto::dialog::v1::{self as pb, dialog_service_client::DialogServiceClient};
use tonic::Code;
use uuid::Uuid;

/// A person's message as a platform delivered it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incoming {
    pub account_id: Uuid,
    pub channel: pb::Channel,
    /// The platform's id of the person (for Telegram, also their private chat).
    pub user_id: String,
    /// From their profile; may be empty.
    pub name: String,
    /// The platform's key of the update, unique for the integration
    /// (`telegram:<bot id>:<update_id>`, ...): the message's client id.
    pub key: String,
    pub text: String,
}

/// Why an update was not stored.
#[derive(Debug, thiserror::Error)]
pub enum InboundError {
    /// Not now (a service is away): the platform must deliver it again.
    #[error("not stored now, to be delivered again: {0}")]
    Retry(String),
    /// Never storable (refused as invalid): acknowledged, and counted.
    #[error("refused: {0}")]
    Refused(String),
}

impl From<tonic::Status> for InboundError {
    fn from(status: tonic::Status) -> Self {
        match status.code() {
            Code::InvalidArgument | Code::NotFound | Code::FailedPrecondition => {
                Self::Refused(status.message().to_owned())
            }
            _ => Self::Retry(format!("{:?}: {}", status.code(), status.message())),
        }
    }
}

/// What became of an update that was stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub contact_id: String,
    pub message_id: String,
    /// The update was stored before (a redelivery).
    pub duplicate: bool,
}

/// The contact and dialog services, as the inbound path uses them, and the
/// bridge's database, where it remembers each person's chat for replies.
#[derive(Clone)]
pub struct Inbound {
    pub contacts: ContactServiceClient<Traced>,
    pub dialogs: DialogServiceClient<Traced>,
    pub pool: sqlx::PgPool,
}

/// The longest text a message of a dialog may have (the dialog service's
/// limit); a platform allows longer (VK: 9000 characters, and a line per
/// attachment).
const MAX_TEXT_CHARS: usize = 4096;
/// What ends a text cut to fit.
const CUT_NOTE: &str = "… [cut: the message was longer than 4096 characters]";

/// The text as a dialog takes it: cut, saying so, when it is too long (a
/// message refused for its length would be lost: the platform is answered
/// either way).
fn fitted(text: String) -> String {
    if text.chars().count() <= MAX_TEXT_CHARS {
        return text;
    }
    let keep = MAX_TEXT_CHARS - CUT_NOTE.chars().count();
    let mut cut: String = text.chars().take(keep).collect();
    cut.push_str(CUT_NOTE);
    cut
}

impl Inbound {
    /// Whether someone on the channel wrote to the account before (from the
    /// chat they write from): their name need not be asked of the platform.
    pub async fn knows(
        &self,
        account_id: Uuid,
        channel: pb::Channel,
        chat_id: &str,
    ) -> sqlx::Result<bool> {
        sqlx::query_scalar!(
            "select exists (select 1 from messenger_chat \
                 where account_id = $1 and channel = $2 and chat_id = $3) as \"known!\"",
            account_id,
            channel.word(),
            chat_id
        )
        .fetch_one(&self.pool)
        .await
    }

    pub async fn store(&self, incoming: Incoming) -> Result<Stored, InboundError> {
        let channel = incoming.channel.word();
        let chat_id = incoming.user_id.clone();
        let contact = self
            .contacts
            .clone()
            .resolve_messenger_user(contact_pb::ResolveMessengerUserRequest {
                account_id: incoming.account_id.to_string(),
                channel: channel.to_owned(),
                external_id: incoming.user_id,
                name: incoming.name,
            })
            .await?
            .into_inner();
        let posted = self
            .dialogs
            .clone()
            .post_message(pb::PostMessageRequest {
                account_id: incoming.account_id.to_string(),
                dialog_id: String::new(),
                contact_id: contact.id.clone(),
                author_kind: pb::AuthorKind::Visitor as i32,
                author_id: contact.id.clone(),
                client_message_id: incoming.key,
                text: fitted(incoming.text),
                channel: incoming.channel as i32,
                contact_name: contact.name,
                attachment_ids: Vec::new(),
            })
            .await?
            .into_inner();
        // Where replies to this contact go on this messenger.
        let contact_id =
            Uuid::parse_str(&contact.id).map_err(|e| InboundError::Retry(e.to_string()))?;
        sqlx::query!(
            "insert into messenger_chat (account_id, contact_id, channel, chat_id) \
             values ($1, $2, $3, $4) on conflict (account_id, contact_id, channel) do update \
             set chat_id = excluded.chat_id, last_inbound_at = now()",
            incoming.account_id,
            contact_id,
            channel,
            chat_id
        )
        .execute(&self.pool)
        .await
        .map_err(|e| InboundError::Retry(e.to_string()))?;
        let outcome = if posted.duplicate {
            "duplicate"
        } else {
            "stored"
        };
        metrics::counter!("bridge_inbound_messages_total", "channel" => channel, "outcome" => outcome)
            .increment(1);
        Ok(Stored {
            contact_id: contact.id,
            message_id: posted.message.map(|m| m.id).unwrap_or_default(),
            duplicate: posted.duplicate,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_too_long_for_a_dialog_is_cut_saying_so_and_a_short_one_is_kept() {
        assert_eq!(fitted("привет".into()), "привет");
        let long = "я".repeat(9000);
        let cut = fitted(long);
        assert_eq!(cut.chars().count(), MAX_TEXT_CHARS);
        assert!(cut.ends_with(CUT_NOTE) && cut.starts_with("яяя"));
    }
}
