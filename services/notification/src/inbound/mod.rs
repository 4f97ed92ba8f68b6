//! Answers by e-mail come back into their dialogs. Each dialog's e-mails to
//! its visitor carry a reply address of its own ([`address`]); an answer to
//! it arrives by the service's SMTP listener ([`smtp`]) or by the inbound
//! webhook of a mail host ([`webhook`], Postmark's format). What the person
//! wrote above the quote ([`quoting`]) becomes the contact's message in the
//! dialog, through the e-mail channel; an answer from another address is
//! held as a note for a manager to see. The dialog service stores it before
//! the sender is told "accepted" (250, 200): when it is away the sender is
//! told to try later (451, 503), so nothing is lost, and the message's
//! Message-ID makes a second delivery store nothing new.
//!
//! Delivery failures come back the same way: every e-mail leaves with a
//! bounce address of its own as the envelope sender ([`address`]), and a
//! report of a permanent failure to it ([`dsn`]) marks the e-mail bounced,
//! which the message it carried then shows.

pub mod address;
pub mod dsn;
pub mod held;
pub mod quoting;
pub mod smtp;
pub mod webhook;

use mail_parser::MimeHeaders as _;
use sha2::Digest as _;
use sqlx::PgPool;
use uuid::Uuid;

use chat_platform::grpc::Traced;
use chat_proto::dialog::v1::{self as pb, dialog_service_client::DialogServiceClient};

use chat_platform::files;

use crate::db::{self, alerts, contacts, email};
pub use address::ReplyAddresses;

/// The longest message the dialog service takes, in characters.
const MAX_TEXT_CHARS: usize = 4096;
/// The largest e-mail taken, in bytes (more is refused, 552 / 413).
pub const MAX_EMAIL_BYTES: usize = 10 << 20;

/// An answer as it came, from either door.
#[derive(Debug, Clone)]
pub struct Incoming {
    /// Where it was sent: the envelope's recipients, or the host's.
    pub recipients: Vec<String>,
    /// Who sent it (the From address).
    pub from: String,
    pub message_id: String,
    /// The text part, quotes and all.
    pub text: String,
    /// The permanent failure it reports, when it is a delivery status
    /// notification (a bounce).
    pub delivery_failure: Option<String>,
    /// Its attached files, in order.
    pub attachments: Vec<Attachment>,
}

/// A file attached to an answer.
#[derive(Debug, Clone)]
pub struct Attachment {
    pub name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

impl Incoming {
    /// Reads a whole e-mail (RFC 5322) sent to `recipients`.
    pub fn parse(recipients: Vec<String>, raw: &[u8]) -> Option<Incoming> {
        let parsed = mail_parser::MessageParser::default().parse(raw)?;
        let from = parsed
            .from()
            .and_then(|list| list.first())
            .and_then(|address| address.address())
            .unwrap_or_default()
            .to_owned();
        let message_id = match parsed.message_id() {
            Some(id) => id.to_owned(),
            // None given: the content names it, so a second delivery is one.
            None => hex::encode(sha2::Sha256::digest(raw)),
        };
        Some(Incoming {
            recipients,
            from,
            message_id,
            text: parsed.body_text(0).unwrap_or_default().into_owned(),
            delivery_failure: dsn::permanent_failure(raw),
            attachments: parsed
                .attachments()
                .map(|part| Attachment {
                    name: part.attachment_name().unwrap_or("attachment").to_owned(),
                    content_type: part
                        .content_type()
                        .map(|kind| match kind.subtype() {
                            Some(sub) => format!("{}/{sub}", kind.ctype()),
                            None => kind.ctype().to_owned(),
                        })
                        .unwrap_or_else(|| "application/octet-stream".into())
                        .to_ascii_lowercase(),
                    bytes: part.contents().to_vec(),
                })
                .collect(),
        })
    }
}

/// What became of an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// In the dialog, as the contact's message.
    Posted,
    /// From an address that is not the contact's: a note for managers.
    Held,
    /// Nothing new in it (an empty answer, or a report to a bounce
    /// address that is no permanent failure).
    Empty,
    /// A permanent failure of one of our e-mails, recorded.
    Bounced,
}

#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// Not to a reply address of ours (or of a dialog we do not know).
    #[error("no such mailbox")]
    NotOurs,
    /// The dialog service is away: the sender should try again later.
    #[error("try again later: {0}")]
    Unavailable(#[from] tonic::Status),
    /// Our own database is away.
    #[error("try again later: {0}")]
    Database(#[from] sqlx::Error),
}

#[derive(Clone)]
pub struct Receiver {
    pub pool: PgPool,
    pub dialogs: DialogServiceClient<Traced>,
    pub addresses: ReplyAddresses,
}

impl Receiver {
    /// Whether `address` is a reply or bounce address of ours (for SMTP's RCPT).
    pub fn accepts(&self, address: &str) -> bool {
        self.addresses.dialog_of(address).is_some() || self.addresses.bounce_of(address).is_some()
    }

    pub async fn receive(&self, incoming: &Incoming) -> Result<Outcome, Refusal> {
        if let Some(email_id) = incoming
            .recipients
            .iter()
            .find_map(|r| self.addresses.bounce_of(r))
        {
            return self.bounce(email_id, incoming).await;
        }
        let dialog_id = incoming
            .recipients
            .iter()
            .find_map(|r| self.addresses.dialog_of(r))
            .ok_or(Refusal::NotOurs)?;
        let mut conn = self.pool.acquire().await?;
        let (account_id, dialog) = alerts::dialog_by_id(&mut conn, dialog_id)
            .await?
            .ok_or(Refusal::NotOurs)?;
        let contact_id = dialog.contact_id.ok_or(Refusal::NotOurs)?;
        let contact = contacts::get(&mut conn, account_id, contact_id).await?;
        drop(conn);
        let words = quoting::new_text(&incoming.text);
        if words.is_empty() && incoming.attachments.is_empty() {
            return Ok(Outcome::Empty);
        }
        let client_id = format!(
            "email-{}",
            &hex::encode(sha2::Sha256::digest(incoming.message_id.as_bytes()))[..32]
        );
        let links = self
            .keep_files(account_id, dialog_id, &client_id, &incoming.attachments)
            .await?;
        let text = with_links(&words, &links);
        let from_contact =
            !contact.email.is_empty() && contact.email.eq_ignore_ascii_case(incoming.from.trim());
        if from_contact {
            let request = pb::PostMessageRequest {
                account_id: account_id.to_string(),
                dialog_id: dialog_id.to_string(),
                contact_id: contact_id.to_string(),
                author_kind: pb::AuthorKind::Visitor as i32,
                author_id: contact_id.to_string(),
                client_message_id: client_id,
                text,
                channel: pb::Channel::Email as i32,
                contact_name: String::new(),
                attachment_ids: Vec::new(),
            };
            self.dialogs.clone().post_message(request).await?;
            metrics::counter!("inbound_emails_total", "outcome" => "posted").increment(1);
            return Ok(Outcome::Posted);
        }
        let from = match incoming.from.trim() {
            "" => "an unknown sender",
            from => from,
        };
        crate::db::held::hold(
            &self.pool, account_id, dialog_id, contact_id, from, &text, &client_id,
        )
        .await?;
        let note = clip(&format!(
            "An e-mail answer from {from}, which is not this contact's address, was held here. Check who wrote; \
             \"Post as the contact's message\" above the composer puts it in the dialog:\n\n{text}",
        ));
        let request = pb::AddNoteRequest {
            account_id: account_id.to_string(),
            dialog_id: dialog_id.to_string(),
            author_id: Uuid::nil().to_string(),
            text: note,
            client_note_id: client_id,
        };
        self.dialogs.clone().add_note(request).await?;
        metrics::counter!("inbound_emails_total", "outcome" => "held").increment(1);
        Ok(Outcome::Held)
    }
}

impl Receiver {
    /// Keeps the answer's files; each one's line for the message, as a
    /// messenger's file is linked (`[file] /api/v1/files/email/<id>?name=`).
    async fn keep_files(
        &self,
        account_id: Uuid,
        dialog_id: Uuid,
        client_id: &str,
        attachments: &[Attachment],
    ) -> Result<Vec<String>, Refusal> {
        let mut links = Vec::with_capacity(attachments.len());
        for (position, attachment) in attachments.iter().enumerate() {
            let name: String = attachment
                .name
                .trim()
                .chars()
                .take(files::MAX_NAME_CHARS)
                .collect();
            let name = if name.is_empty() {
                "attachment".into()
            } else {
                name
            };
            let file = db::files::NewFile {
                account_id,
                dialog_id,
                client_message_id: client_id,
                position: position as i32,
                name: &name,
                content_type: &attachment.content_type,
                bytes: &attachment.bytes,
            };
            let id = db::files::keep(&self.pool, &file).await?;
            links.push(format!(
                "[file] {}",
                files::link("email", &id.to_string(), Some(&name))
            ));
        }
        Ok(links)
    }

    /// A report to an e-mail's bounce address: a permanent failure marks the
    /// e-mail bounced (a second report changes nothing).
    async fn bounce(&self, email_id: Uuid, incoming: &Incoming) -> Result<Outcome, Refusal> {
        let Some(failure) = &incoming.delivery_failure else {
            return Ok(Outcome::Empty);
        };
        let marked = email::bounced(&self.pool, email_id, failure).await?;
        if marked {
            metrics::counter!("emails_bounced_total").increment(1);
            tracing::info!(email = %email_id, %failure, "an e-mail bounced");
        }
        Ok(Outcome::Bounced)
    }
}

/// The person's words and a line per file: the words are cut so that every
/// link fits in a message.
fn with_links(words: &str, links: &[String]) -> String {
    let room = MAX_TEXT_CHARS.saturating_sub(links.iter().map(|l| l.chars().count() + 1).sum());
    let words = clip_to(words, room.max(1));
    [words.as_str()]
        .into_iter()
        .filter(|w| !w.is_empty())
        .chain(links.iter().map(String::as_str))
        .collect::<Vec<_>>()
        .join("\n")
}

/// At most what a message may hold, cut at a character.
fn clip(text: &str) -> String {
    clip_to(text, MAX_TEXT_CHARS)
}

/// At most `chars` characters (the last an ellipsis when cut).
fn clip_to(text: &str, chars: usize) -> String {
    match text.char_indices().nth(chars.max(1) - 1) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_words_are_cut_so_that_every_file_link_fits() {
        let links = vec![
            "[file] /api/v1/files/email/1?name=a.png".to_owned(),
            "[file] /api/v1/files/email/2?name=b.pdf".to_owned(),
        ];
        let text = with_links(&"word ".repeat(2000), &links);
        assert!(
            text.chars().count() <= MAX_TEXT_CHARS,
            "{}",
            text.chars().count()
        );
        assert!(text.ends_with(&format!("…\n{}\n{}", links[0], links[1])));
        assert_eq!(with_links("", &links[..1]), links[0]);
        assert_eq!(with_links("Hi", &[]), "Hi");
    }
}
