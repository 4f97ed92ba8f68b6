//! Posting a message: checks the input, finds or opens the dialog, gives the
//! message the dialog's next sequence number, and writes it with its events in
//! one transaction (which [`crate::writer`] may share with other posts; a
//! post that arrives alone may instead be one statement, [`crate::alone`],
//! which writes the same). A repeated client message id returns the stored
//! message.
//!
//! A message into a closed dialog reopens it (a contact has one dialog, so a
//! client id resent after a close still finds its message). A manager's
//! first reply to a dialog nobody has takes it, and a manager's message
//! counts as having read the dialog up to it.

use uuid::Uuid;

use chat_proto::dialog::v1 as pb;

use crate::db::{self, Appended, MessageRow, NewMessage, Target};
use crate::error::{Error, Result, parse_id};
use crate::events;
use crate::files::{self, Attachment};
use chat_platform::outbox::NewEvent;

/// Longest message text, in characters (Telegram's limit, so every channel can carry it).
pub const MAX_TEXT_CHARS: usize = 4096;
/// Longest client message id, in characters.
pub const MAX_CLIENT_MESSAGE_ID_CHARS: usize = 64;
/// Longest contact name kept on a dialog (the contact service's limit).
pub const MAX_CONTACT_NAME_CHARS: usize = 200;

pub struct Posted {
    pub message: MessageRow,
    pub duplicate: bool,
    pub dialog_created: bool,
}

/// A checked `PostMessageRequest`.
#[derive(Debug)]
pub struct Post {
    account_id: Uuid,
    target: Target,
    author_kind: &'static str,
    author_id: Option<Uuid>,
    client_message_id: String,
    text: String,
    /// `None`: a manager's reply without a chosen channel, which goes where
    /// the contact last wrote from.
    channel: Option<&'static str>,
    /// Kept on the dialog if this post opens it.
    contact_name: String,
    /// The files it names, checked as ids; [`Post::attach`] gives what they are.
    attachment_ids: Vec<Uuid>,
    attachments: Vec<Attachment>,
}

impl Post {
    /// `visitor`, `manager` or `system`.
    pub fn author_kind(&self) -> &'static str {
        self.author_kind
    }

    pub fn account_id(&self) -> Uuid {
        self.account_id
    }

    /// The dialog the post goes into, when the request names it; else the
    /// contact whose dialog it is.
    pub fn target(&self) -> Target {
        self.target
    }

    /// The channel it came through; `None` for a manager's reply that goes
    /// where the contact last wrote from.
    pub fn channel(&self) -> Option<&'static str> {
        self.channel
    }

    /// The files it names, as ids.
    pub fn attachment_ids(&self) -> &[Uuid] {
        &self.attachment_ids
    }

    /// What the files it names are, found in its dialog ([`files::for_post`]).
    pub fn attach(&mut self, attachments: Vec<Attachment>) {
        self.attachments = attachments;
    }

    /// The message to add at the end of its dialog.
    pub fn new_message(&self) -> NewMessage<'_> {
        NewMessage {
            account_id: self.account_id,
            target: self.target,
            author_kind: self.author_kind,
            author_id: self.author_id,
            client_message_id: &self.client_message_id,
            text: &self.text,
            channel: self.channel,
            system: None,
            attachments: &self.attachments,
        }
    }
}

pub fn check(req: pb::PostMessageRequest) -> Result<Post> {
    let account_id = parse_id("account_id", &req.account_id)?;
    let kind = pb::AuthorKind::try_from(req.author_kind).unwrap_or(pb::AuthorKind::Unspecified);
    let author_kind = kind
        .word()
        .ok_or_else(|| Error::InvalidArgument("author_kind is required".into()))?;
    let author_id = match req.author_id.as_str() {
        "" => None,
        id => Some(parse_id("author_id", id)?),
    };
    if req.client_message_id.is_empty()
        || req.client_message_id.chars().count() > MAX_CLIENT_MESSAGE_ID_CHARS
        || req.client_message_id.contains('\0')
    {
        return Err(Error::InvalidArgument(format!(
            "client_message_id must be 1 to {MAX_CLIENT_MESSAGE_ID_CHARS} characters, without NUL"
        )));
    }
    // PostgreSQL text cannot hold NUL; no channel carries it either.
    if req.text.contains('\0') {
        return Err(Error::InvalidArgument(
            "text contains a NUL character".into(),
        ));
    }
    let attachment_ids = files::checked_ids(&req.attachment_ids)?;
    if req.text.trim().is_empty() && attachment_ids.is_empty() {
        return Err(Error::InvalidArgument("text is empty".into()));
    }
    if req.text.chars().count() > MAX_TEXT_CHARS {
        return Err(Error::InvalidArgument(format!(
            "text is longer than {MAX_TEXT_CHARS} characters"
        )));
    }
    let visitor = (kind == pb::AuthorKind::Visitor)
        .then(|| parse_id("contact_id", &req.contact_id))
        .transpose()?;
    let target = match (req.dialog_id.as_str(), req.contact_id.as_str(), visitor) {
        ("", _, Some(contact_id)) => Target::DialogOf { contact_id },
        ("", "", None) => {
            return Err(Error::InvalidArgument(
                "dialog_id or contact_id is required".into(),
            ));
        }
        ("", contact_id, None) => Target::DialogOf {
            contact_id: parse_id("contact_id", contact_id)?,
        },
        (id, _, visitor) => Target::Dialog {
            dialog_id: parse_id("dialog_id", id)?,
            visitor,
        },
    };
    let channel = match pb::Channel::try_from(req.channel).unwrap_or_default() {
        pb::Channel::Unspecified if kind == pb::AuthorKind::Manager => None,
        chosen => Some(chosen.word()),
    };
    Ok(Post {
        account_id,
        target,
        author_kind,
        author_id: if kind == pb::AuthorKind::Visitor {
            visitor
        } else {
            author_id
        },
        client_message_id: req.client_message_id,
        text: req.text,
        channel,
        contact_name: req
            .contact_name
            .chars()
            .take(MAX_CONTACT_NAME_CHARS)
            .collect(),
        attachment_ids,
        attachments: Vec::new(),
    })
}

/// Writes one post in the caller's transaction: the message at the end of
/// its dialog (opening the visitor's dialog if need be) and its events,
/// which it adds to `events`. A duplicate changes nothing.
pub async fn write(
    tx: &mut sqlx::PgConnection,
    post: &Post,
    events: &mut Vec<NewEvent>,
) -> Result<Posted> {
    let new = post.new_message();
    let mut opened = None;
    let appended = match db::append_message(tx, &new).await? {
        Appended::NoDialog => match post.target {
            Target::DialogOf { contact_id } => {
                // The contact's first message: open a dialog (or find the one a
                // concurrent post just opened) and go again.
                opened =
                    db::insert_open_dialog(tx, post.account_id, contact_id, &post.contact_name)
                        .await?;
                db::append_message(tx, &new).await?
            }
            Target::Dialog { .. } => Appended::NoDialog,
        },
        appended => appended,
    };
    match appended {
        Appended::NoDialog => Err(Error::NotFound("dialog")),
        // A retry of a message stored before is its duplicate, whatever it names.
        Appended::Unreachable(dialog_id, _)
            if let Some(message) = db::find_message_by_client_id(
                tx,
                post.account_id,
                dialog_id,
                post.author_kind,
                &post.client_message_id,
            )
            .await? =>
        {
            Ok(Posted {
                message,
                duplicate: true,
                dialog_created: false,
            })
        }
        Appended::Unreachable(_, reachable) => Err(Error::Fields(vec![(
            "channel",
            match reachable.is_empty() {
                true => {
                    "is not one the contact can be reached on: they have not written yet".into()
                }
                false => format!(
                    "is not one the contact can be reached on: they wrote from {}",
                    reachable.join(", ")
                ),
            },
        )])),
        Appended::Duplicate(dialog_id) => {
            let message = db::find_message_by_client_id(
                tx,
                post.account_id,
                dialog_id,
                post.author_kind,
                &post.client_message_id,
            )
            .await?
            .ok_or(Error::NotFound("message"))?;
            Ok(Posted {
                message,
                duplicate: true,
                dialog_created: false,
            })
        }
        Appended::Stored(message, mut dialog, reopened) => {
            let dialog_created = opened.is_some();
            if dialog_created {
                events.push(events::dialog_created(&dialog));
            }
            events.extend(events::message_stored(&message, dialog.contact_id));
            let mut change = reopened.then_some(events::REOPENED);
            if let (Some(manager_id), "manager") = (message.author_id, post.author_kind) {
                if dialog.manager_id.is_none()
                    && let Some(taken) =
                        db::take_dialog(tx, dialog.account_id, dialog.id, manager_id).await?
                {
                    dialog.manager_id = taken.manager_id;
                    change = Some(events::ASSIGNED);
                }
                db::read_up_to_own_message(tx, &dialog, manager_id).await?;
            }
            if let Some(change) = change.filter(|_| !dialog_created) {
                events.push(events::dialog_updated(&dialog, change));
            }
            Ok(Posted {
                message: *message,
                duplicate: false,
                dialog_created,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(text: &str) -> pb::PostMessageRequest {
        pb::PostMessageRequest {
            account_id: Uuid::now_v7().to_string(),
            contact_id: Uuid::now_v7().to_string(),
            author_kind: pb::AuthorKind::Visitor as i32,
            client_message_id: "c1".into(),
            text: text.into(),
            ..Default::default()
        }
    }

    fn rejection(req: &pb::PostMessageRequest) -> String {
        match check(req.clone()) {
            Err(Error::InvalidArgument(m)) => m,
            Err(e) => panic!("unexpected error {e}"),
            Ok(_) => panic!("accepted"),
        }
    }

    #[test]
    fn empty_and_blank_text_are_refused() {
        assert_eq!(rejection(&request("")), "text is empty");
        assert_eq!(rejection(&request(" \n\t")), "text is empty");
    }

    #[test]
    fn text_is_limited_in_characters_not_bytes() {
        assert!(check(request(&"я".repeat(MAX_TEXT_CHARS))).is_ok());
        assert!(rejection(&request(&"я".repeat(MAX_TEXT_CHARS + 1))).contains("longer"));
    }

    #[test]
    fn a_client_message_id_is_required_and_bounded() {
        let mut req = request("hi");
        req.client_message_id.clear();
        assert!(rejection(&req).contains("client_message_id"));
        req.client_message_id = "x".repeat(MAX_CLIENT_MESSAGE_ID_CHARS + 1);
        assert!(rejection(&req).contains("client_message_id"));
    }

    #[test]
    fn nul_characters_are_refused_in_text_and_client_ids() {
        assert_eq!(rejection(&request("a\0b")), "text contains a NUL character");
        let mut req = request("hi");
        req.client_message_id = "c\0x".into();
        assert!(rejection(&req).contains("NUL"));
    }

    #[test]
    fn a_manager_names_the_dialog_or_the_contact() {
        let mut req = request("hi");
        req.author_kind = pb::AuthorKind::Manager as i32;
        assert!(matches!(
            check(req.clone()).unwrap().target,
            Target::DialogOf { .. }
        ));
        req.contact_id.clear();
        assert_eq!(rejection(&req), "dialog_id or contact_id is required");
    }

    #[test]
    fn a_visitor_message_is_authored_by_its_contact() {
        let req = request("hi");
        let post = check(req.clone()).unwrap();
        assert_eq!(post.author_id.unwrap().to_string(), req.contact_id);
        assert!(matches!(post.target, Target::DialogOf { .. }));
    }
}
