//! The JSON shapes of the public API (REST bodies and socket frames), built
//! from the backends' protobuf messages.

use serde::Serialize;
use utoipa::ToSchema;

use chat_proto::dialog::v1 as pb;
use chat_proto::time::from_proto;

/// A message of a dialog.
#[derive(Debug, Clone, Serialize, PartialEq, ToSchema)]
#[schema(as = Message)]
pub struct MessageOut {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub dialog_id: String,
    /// Its number in the dialog: 1, 2, 3, ... without gaps.
    pub seq: i64,
    #[schema(value_type = String, example = "visitor")]
    /// `visitor`, `manager` or `system`.
    pub author_kind: &'static str,
    /// The contact (visitor) or manager; null for system messages.
    #[schema(format = Uuid)]
    pub author_id: Option<String>,
    /// The id its sender gave it.
    pub client_message_id: String,
    /// As sent: show it as text, never as markup.
    pub text: String,
    /// `site`, `email`, `telegram`, `vk` or `facebook`.
    #[schema(value_type = String, example = "site")]
    pub channel: &'static str,
    /// `stored`, `delivered` or `failed`.
    #[schema(value_type = String, example = "stored")]
    pub delivery_state: &'static str,
    #[schema(format = DateTime)]
    pub created_at: String,
}

/// A dialog with a contact.
#[derive(Debug, Clone, Serialize, PartialEq, ToSchema)]
#[schema(as = Dialog)]
pub struct DialogOut {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub contact_id: String,
    /// `open` or `closed`.
    #[schema(value_type = String, example = "open")]
    pub status: &'static str,
    /// The manager responsible; null for a new dialog.
    #[schema(format = Uuid)]
    pub manager_id: Option<String>,
    /// The `seq` of its newest message.
    pub last_seq: i64,
    /// The start of its newest message (200 characters), for previews.
    pub last_message_text: String,
    #[schema(format = DateTime)]
    pub last_message_at: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
}

fn rfc3339(t: Option<&prost_types::Timestamp>) -> Option<String> {
    t.map(|t| from_proto(t).to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
}

fn non_empty(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

impl From<pb::Message> for MessageOut {
    fn from(m: pb::Message) -> Self {
        Self {
            author_kind: match m.author_kind() {
                pb::AuthorKind::Visitor => "visitor",
                pb::AuthorKind::Manager => "manager",
                _ => "system",
            },
            channel: match m.channel() {
                pb::Channel::Email => "email",
                pb::Channel::Telegram => "telegram",
                pb::Channel::Vk => "vk",
                pb::Channel::Facebook => "facebook",
                _ => "site",
            },
            delivery_state: match m.delivery_state() {
                pb::DeliveryState::Delivered => "delivered",
                pb::DeliveryState::Failed => "failed",
                _ => "stored",
            },
            created_at: rfc3339(m.created_at.as_ref()).unwrap_or_default(),
            id: m.id,
            dialog_id: m.dialog_id,
            seq: m.seq,
            author_id: non_empty(m.author_id),
            client_message_id: m.client_message_id,
            text: m.text,
        }
    }
}

impl From<pb::Dialog> for DialogOut {
    fn from(d: pb::Dialog) -> Self {
        Self {
            status: match d.status() {
                pb::DialogStatus::Closed => "closed",
                _ => "open",
            },
            last_message_at: rfc3339(d.last_message_at.as_ref()),
            created_at: rfc3339(d.created_at.as_ref()).unwrap_or_default(),
            id: d.id,
            contact_id: d.contact_id,
            manager_id: non_empty(d.manager_id),
            last_seq: d.last_seq,
            last_message_text: d.last_message_text,
        }
    }
}
