//! Settles managers' replies to visitors. When a dialog's replies are due
//! (a moment after a site-chat reply, at once for one by e-mail), in one
//! transaction: a visitor with the widget open saw them (`delivered`); one
//! who left and whose address is known gets them by e-mail, with the
//! conversation before them (`emailed` once sent, or `delivered` for a reply
//! by e-mail); one without an address keeps them waiting in the chat
//! (`stored`), and a reply by e-mail to them fails.

use std::collections::HashMap;
use std::time::Duration;

use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use chat_platform::Shutdown;
use chat_platform::grpc::Traced;
use chat_proto::dialog::v1::{self as pb, dialog_service_client::DialogServiceClient};

use crate::db::email::NewEmail;
use crate::db::{alerts, contacts, directory, replies};
use crate::mail::Postbox;
use crate::mail::templates::{HistoryLine, Line, VisitorReply};
use crate::mail::words::Words;
use crate::presence::Presence;

/// Dialogs taken in one round (one transaction).
const DIALOGS_PER_ROUND: i64 = 16;
/// How often the sweep looks for replies that became due.
const TICK: Duration = Duration::from_millis(250);
/// Earlier messages an e-mail to a visitor shows.
const HISTORY: u32 = 6;

pub const KIND_VISITOR_REPLY: &str = "visitor_reply";
/// Why a reply by e-mail to a contact without an address fails.
pub const NO_ADDRESS: &str = "the contact has no e-mail address";

pub struct Settler {
    pub pool: PgPool,
    pub presence: Presence,
    pub postbox: Postbox,
    pub dialogs: DialogServiceClient<Traced>,
    /// Each dialog's reply address, when answers by e-mail come back.
    pub reply_addresses: Option<crate::inbound::ReplyAddresses>,
}

impl Settler {
    pub async fn run(self, shutdown: Shutdown) {
        crate::sweep::every(
            "replies",
            TICK,
            DIALOGS_PER_ROUND as usize,
            shutdown,
            || self.round(),
        )
        .await;
    }

    async fn round(&self) -> anyhow::Result<usize> {
        let mut tx = self.pool.begin().await?;
        let due = replies::take_due(&mut tx, DIALOGS_PER_ROUND).await?;
        let mut recorded = 0;
        for &(account_id, dialog_id) in &due {
            recorded += self.settle(&mut tx, account_id, dialog_id).await? as usize;
        }
        tx.commit().await?;
        if recorded > 0 {
            metrics::counter!("visitor_emails_total").increment(recorded as u64);
            self.postbox.posted();
        }
        Ok(due.len())
    }

    /// Settles the dialog's waiting replies; whether an e-mail was recorded.
    /// The dialog service is told of what is final now before the
    /// transaction commits (it keeps final states, so a retry is harmless).
    async fn settle(
        &self,
        conn: &mut PgConnection,
        account_id: Uuid,
        dialog_id: Uuid,
    ) -> anyhow::Result<bool> {
        let unsent = replies::unsent(conn, account_id, dialog_id).await?;
        let Some(through) = unsent.last().map(|r| r.seq) else {
            return Ok(false);
        };
        let dialog = alerts::dialog(conn, account_id, dialog_id).await?;
        let contact = match dialog.contact_id {
            Some(contact_id) => contacts::get(conn, account_id, contact_id).await?,
            None => contacts::Contact::default(),
        };
        let online = match dialog.contact_id {
            Some(contact_id) => self.presence.visitor_online(account_id, contact_id).await?,
            None => false,
        };
        let (by_email, site): (Vec<_>, Vec<_>) =
            unsent.into_iter().partition(|r| r.channel == "email");
        let mut to_email = by_email.clone();
        if online {
            for reply in &site {
                self.set_state(
                    account_id,
                    reply.message_id,
                    pb::DeliveryState::Delivered,
                    "",
                )
                .await?;
            }
        } else {
            to_email.extend(site);
            to_email.sort_by_key(|r| r.seq);
        }
        let mut recorded = false;
        if contact.email.is_empty() {
            // Site replies wait in the chat; replies by e-mail cannot go.
            for reply in &by_email {
                self.set_state(
                    account_id,
                    reply.message_id,
                    pb::DeliveryState::Failed,
                    NO_ADDRESS,
                )
                .await?;
            }
        } else if !to_email.is_empty() {
            recorded = self
                .email(conn, account_id, dialog_id, &contact, &to_email, through)
                .await?;
        }
        replies::settled(conn, account_id, dialog_id, through).await?;
        Ok(recorded)
    }

    /// Records the e-mail carrying `replies` to the contact.
    async fn email(
        &self,
        conn: &mut PgConnection,
        account_id: Uuid,
        dialog_id: Uuid,
        contact: &contacts::Contact,
        replies: &[replies::Unsent],
        through: i64,
    ) -> anyhow::Result<bool> {
        let mail = directory::account_mail(conn, account_id).await?;
        // In the shop's widget language: the one its visitor chatted in.
        let words = Words::of(&mail.language);
        let mut names = Names(HashMap::new(), words);
        let last_author = replies.iter().rev().find_map(|r| r.manager_id);
        let manager = names.manager(conn, account_id, last_author).await?;
        let shop = match mail.shop_name.is_empty() {
            true => words.say("reply.the_shop").to_owned(),
            false => mail.shop_name.clone(),
        };
        let earlier = self
            .dialogs
            .clone()
            .list_messages(pb::ListMessagesRequest {
                account_id: account_id.to_string(),
                dialog_id: dialog_id.to_string(),
                after_seq: 0,
                before_seq: replies[0].seq,
                limit: HISTORY,
            })
            .await?
            .into_inner()
            .messages;
        let mut history = Vec::with_capacity(earlier.len());
        for message in earlier {
            let who = match message.author_kind() {
                pb::AuthorKind::Visitor => words.say("reply.you").to_owned(),
                pb::AuthorKind::Manager => {
                    let author = Uuid::parse_str(&message.author_id).ok();
                    names.manager(conn, account_id, author).await?
                }
                _ => continue,
            };
            let at = message
                .created_at
                .as_ref()
                .map(chat_proto::time::from_proto)
                .unwrap_or_default();
            history.push(HistoryLine {
                time: at.format(words.say("reply.date_format")).to_string(),
                who,
                text: message.text_with_files(),
            });
        }
        let lines: Vec<Line> = replies
            .iter()
            .map(|r| Line::new(r.created_at, &r.text))
            .collect();
        let rendered = VisitorReply {
            words,
            shop: &shop,
            manager: &manager,
            replies: &lines,
            history: &history,
            shop_url: &mail.shop_url,
            answer_by_email: self.reply_addresses.is_some(),
        }
        .render()?;
        let thread = replies::thread(conn, account_id, dialog_id).await?;
        let headers = match &thread {
            Some(first) => serde_json::json!({ "In-Reply-To": first, "References": first }),
            None => serde_json::json!({}),
        };
        let email = NewEmail {
            account_id,
            dedupe_key: format!("reply:{dialog_id}:{through}"),
            kind: KIND_VISITOR_REPLY,
            manager_id: None,
            to_address: contact.email.clone(),
            from_name: format!("{manager} from {}", mail.from_name_or(&shop)),
            reply_to: match &self.reply_addresses {
                Some(addresses) => addresses.for_dialog(dialog_id),
                None => mail.reply_to.clone(),
            },
            subject: rendered.subject,
            text_body: rendered.text,
            html_body: rendered.html,
            headers,
            dialog_id: Some(dialog_id),
            message_ids: replies.iter().map(|r| r.message_id).collect(),
            message_channels: replies.iter().map(|r| r.channel.clone()).collect(),
        };
        let Some(message_id) = self.postbox.record(conn, &email).await? else {
            return Ok(false);
        };
        if thread.is_none() {
            replies::start_thread(conn, account_id, dialog_id, &message_id).await?;
        }
        Ok(true)
    }

    async fn set_state(
        &self,
        account_id: Uuid,
        message_id: Uuid,
        state: pb::DeliveryState,
        error: &str,
    ) -> anyhow::Result<()> {
        set_delivery_state(&self.dialogs, account_id, message_id, state, error).await
    }
}

/// Tells the dialog service what became of a message; a message it does
/// not know (gone with its account) is no error.
pub async fn set_delivery_state(
    dialogs: &DialogServiceClient<Traced>,
    account_id: Uuid,
    message_id: Uuid,
    state: pb::DeliveryState,
    error: &str,
) -> anyhow::Result<()> {
    let request = pb::SetDeliveryStateRequest {
        account_id: account_id.to_string(),
        message_id: message_id.to_string(),
        state: state as i32,
        error: error.to_owned(),
    };
    match dialogs.clone().set_delivery_state(request).await {
        Ok(_) => Ok(()),
        Err(status) if status.code() == tonic::Code::NotFound => Ok(()),
        Err(status) => Err(status.into()),
    }
}

/// Managers' names, asked once per e-mail; the words of the one unknown.
struct Names(HashMap<Uuid, String>, Words);

impl Names {
    async fn manager(
        &mut self,
        conn: &mut PgConnection,
        account_id: Uuid,
        manager_id: Option<Uuid>,
    ) -> sqlx::Result<String> {
        let Some(manager_id) = manager_id else {
            return Ok(self.1.say("reply.the_manager").to_owned());
        };
        if let Some(name) = self.0.get(&manager_id) {
            return Ok(name.clone());
        }
        let name = directory::manager_name(conn, account_id, manager_id)
            .await?
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| self.1.say("reply.the_manager").to_owned());
        self.0.insert(manager_id, name.clone());
        Ok(name)
    }
}
