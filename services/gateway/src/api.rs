//! The JSON shapes of the public API (REST bodies and socket frames), built
//! from the backends' protobuf messages.

use serde::Serialize;

use chat_proto::dialog::v1 as pb;
use chat_proto::time::from_proto;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MessageOut {
    pub id: String,
    pub dialog_id: String,
    pub seq: i64,
    pub author_kind: &'static str,
    pub author_id: Option<String>,
    pub client_message_id: String,
    pub text: String,
    pub channel: &'static str,
    pub delivery_state: &'static str,
    pub created_at: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DialogOut {
    pub id: String,
    pub contact_id: String,
    pub status: &'static str,
    pub manager_id: Option<String>,
    pub last_seq: i64,
    pub last_message_text: String,
    pub last_message_at: Option<String>,
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
