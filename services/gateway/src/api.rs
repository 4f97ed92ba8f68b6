//! The JSON shapes of the public API (REST bodies and socket frames), built
//! from the backends' protobuf messages.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

use chat_proto::contact::v1 as contact_pb;
use chat_proto::dialog::v1 as pb;
use chat_proto::time::from_proto;

use crate::system_lines::SystemOut;

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
    /// `stored`, `delivered`, `emailed` or `failed`. A message through a
    /// messenger or by e-mail is `stored` until it is taken (`delivered`) or
    /// refused (`failed`); a site-chat reply is `delivered` when the visitor's
    /// widget is open, `emailed` when they had left and got it by e-mail. The
    /// manager socket tells of each change (`message_updated`).
    #[schema(value_type = String, example = "stored")]
    pub delivery_state: &'static str,
    /// `failed`: why, in the messenger's words; else null.
    pub delivery_error: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    /// On system lines only: what the line records, to word it in the
    /// reader's language. Lines from before it was kept have none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system: Option<SystemOut>,
    /// The files it carries, in the order they were attached (maybe with
    /// no text). Managers fetch them at `/api/v1/attachments/{id}`, the
    /// visitor at `/widget/v1/attachments/{id}`.
    pub attachments: Vec<AttachmentOut>,
}

/// A file a message carries.
#[derive(Debug, Clone, Serialize, PartialEq, ToSchema)]
#[schema(as = Attachment)]
pub struct AttachmentOut {
    #[schema(format = Uuid)]
    pub id: String,
    /// The name it was sent under: show it as text.
    pub name: String,
    /// `image/jpeg`, `image/png` or `image/gif` for an image (found from
    /// its bytes, which were checked and written again); else the type its
    /// name's extension says.
    #[schema(example = "image/jpeg")]
    pub content_type: String,
    /// In bytes.
    pub size: i64,
    /// An image's size in pixels (it has a thumbnail); absent for other files.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
}

impl From<pb::Attachment> for AttachmentOut {
    fn from(a: pb::Attachment) -> Self {
        let image = a.width > 0 && a.height > 0;
        Self {
            id: a.id,
            name: a.name,
            content_type: a.content_type,
            size: a.size,
            width: image.then_some(a.width),
            height: image.then_some(a.height),
        }
    }
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
    /// The contact's name; empty while unknown.
    pub contact_name: String,
    /// The channels the contact has written from (`site`, `telegram`, `vk`,
    /// `facebook`), first used first, and `email` while their address is
    /// known: a reply may go out through any of them.
    #[schema(value_type = Vec<String>, example = json!(["site", "telegram"]))]
    pub channels: Vec<&'static str>,
    /// Where a reply goes unless the manager chooses: the channel the contact
    /// last wrote from (`site` while they have not written).
    #[schema(value_type = String, example = "telegram")]
    pub reply_channel: &'static str,
    /// Visitor messages after your read position (REST only; absent in socket frames).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unread_count: Option<i64>,
}

/// A note on a dialog: for the account's managers only.
#[derive(Debug, Clone, Serialize, PartialEq, ToSchema)]
#[schema(as = Note)]
pub struct NoteOut {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub dialog_id: String,
    /// The manager who wrote it.
    #[schema(format = Uuid)]
    pub author_id: String,
    /// Show it as text, never as markup.
    pub text: String,
    #[schema(format = DateTime)]
    pub created_at: String,
}

/// A reply template.
#[derive(Debug, Clone, Serialize, PartialEq, ToSchema)]
#[schema(as = Template)]
pub struct TemplateOut {
    #[schema(format = Uuid)]
    pub id: String,
    pub name: String,
    pub text: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

/// A customer: a site visitor or a messenger user, with what is known of them.
#[derive(Debug, Clone, Serialize, PartialEq, ToSchema)]
#[schema(as = Contact)]
pub struct ContactOut {
    #[schema(format = Uuid)]
    pub id: String,
    pub name: String,
    pub email: String,
    pub phone: String,
    pub custom_fields: BTreeMap<String, String>,
    /// Where they can be reached: `site`, `email`, and the messengers they wrote
    /// from (`telegram`, `vk`, `facebook`).
    pub channels: Vec<String>,
    /// The e-mail came from the shop's site with a valid identity hash.
    pub email_verified: bool,
    #[schema(format = DateTime)]
    pub first_seen_at: Option<String>,
    #[schema(format = DateTime)]
    pub last_seen_at: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
}

/// One entry of a contact's timeline.
#[derive(Debug, Clone, Serialize, PartialEq, ToSchema)]
#[schema(as = TimelineEvent)]
pub struct TimelineEventOut {
    #[schema(format = Uuid)]
    pub id: String,
    /// `message`, `order`, `mailing`, `page_visit` or `widget_shown`.
    pub kind: String,
    /// What it points at, e.g. the message id.
    pub ref_id: String,
    pub summary: String,
    #[schema(format = DateTime)]
    pub occurred_at: Option<String>,
}

/// A time as every answer writes it: RFC 3339 in UTC with microseconds.
pub fn time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

pub fn rfc3339(t: Option<&prost_types::Timestamp>) -> Option<String> {
    t.map(|t| from_proto(t).to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
}

fn non_empty(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

impl From<pb::Message> for MessageOut {
    fn from(m: pb::Message) -> Self {
        Self {
            author_kind: m.author_kind().word().unwrap_or("system"),
            channel: m.channel().word(),
            delivery_state: m.delivery_state().word(),
            created_at: rfc3339(m.created_at.as_ref()).unwrap_or_default(),
            id: m.id,
            dialog_id: m.dialog_id,
            seq: m.seq,
            author_id: non_empty(m.author_id),
            client_message_id: m.client_message_id,
            text: m.text,
            delivery_error: non_empty(m.delivery_error),
            system: m.system.map(SystemOut::from),
            attachments: m.attachments.into_iter().map(AttachmentOut::from).collect(),
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
            channels: d.reply_channels().map(pb::Channel::word).collect(),
            reply_channel: d.reply_channel().word(),
            id: d.id,
            contact_id: d.contact_id,
            manager_id: non_empty(d.manager_id),
            last_seq: d.last_seq,
            last_message_text: d.last_message_text,
            contact_name: d.contact_name,
            unread_count: None,
        }
    }
}

impl DialogOut {
    /// As the asking manager sees it in REST answers: with their unread count.
    pub fn viewed(d: pb::Dialog) -> Self {
        let unread = d.unread_count;
        Self {
            unread_count: Some(unread),
            ..d.into()
        }
    }
}

impl From<pb::Note> for NoteOut {
    fn from(n: pb::Note) -> Self {
        Self {
            created_at: rfc3339(n.created_at.as_ref()).unwrap_or_default(),
            id: n.id,
            dialog_id: n.dialog_id,
            author_id: n.author_id,
            text: n.text,
        }
    }
}

impl From<pb::Template> for TemplateOut {
    fn from(t: pb::Template) -> Self {
        Self {
            created_at: rfc3339(t.created_at.as_ref()).unwrap_or_default(),
            updated_at: rfc3339(t.updated_at.as_ref()).unwrap_or_default(),
            id: t.id,
            name: t.name,
            text: t.text,
        }
    }
}

impl From<contact_pb::Contact> for ContactOut {
    fn from(c: contact_pb::Contact) -> Self {
        Self {
            first_seen_at: rfc3339(c.first_seen_at.as_ref()),
            last_seen_at: rfc3339(c.last_seen_at.as_ref()),
            created_at: rfc3339(c.created_at.as_ref()).unwrap_or_default(),
            id: c.id,
            name: c.name,
            email: c.email,
            phone: c.phone,
            custom_fields: c.custom_fields.into_iter().collect(),
            channels: c.channels,
            email_verified: c.email_verified,
        }
    }
}

impl From<contact_pb::TimelineEvent> for TimelineEventOut {
    fn from(e: contact_pb::TimelineEvent) -> Self {
        Self {
            occurred_at: rfc3339(e.occurred_at.as_ref()),
            id: e.id,
            kind: e.kind,
            ref_id: e.ref_id,
            summary: e.summary,
        }
    }
}
