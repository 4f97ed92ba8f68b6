//! Writes the alerts whose window has ended. For each such dialog, in one
//! transaction: the messages still waiting, the recipients (its manager, or
//! every manager when it has none) who want e-mail and are offline now, and
//! for each the messages they have not read, in one e-mail recorded for the
//! sender, and a push for each of their browsers that allowed it. The messages then wait no more, whether anyone was written to or
//! not (a manager who was online saw them come).

use std::time::Duration;

use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use chat_platform::Shutdown;
use chat_platform::names::visitor_tag;

use crate::db::alerts;
use crate::db::directory;
use crate::db::email::NewEmail;
use crate::db::push;
use crate::mail::Postbox;
use crate::mail::templates::{Line, ManagerAlert};
use crate::mail::words::Words;
use crate::presence::Presence;

/// Dialogs taken in one round (one transaction).
const DIALOGS_PER_ROUND: i64 = 32;
/// How often the sweep looks for alerts that became due.
const TICK: Duration = Duration::from_millis(500);

pub const KIND_MANAGER_ALERT: &str = "manager_alert";

pub struct Digest {
    pub pool: PgPool,
    pub presence: Presence,
    pub postbox: Postbox,
    /// The console's address, ending in `/`.
    pub console_url: String,
    /// Wakes the pusher once pushes are recorded (it also looks every second).
    pub push_wake: std::sync::Arc<tokio::sync::Notify>,
}

impl Digest {
    pub async fn run(self, shutdown: Shutdown) {
        crate::sweep::every("alerts", TICK, DIALOGS_PER_ROUND as usize, shutdown, || {
            self.round()
        })
        .await;
    }

    /// One transaction: the due dialogs' alerts written, or none of them.
    async fn round(&self) -> anyhow::Result<usize> {
        let mut tx = self.pool.begin().await?;
        let due = alerts::take_due(&mut tx, DIALOGS_PER_ROUND).await?;
        let (mut recorded, mut pushed) = (0, 0);
        for &(account_id, dialog_id) in &due {
            let (emails, pushes) = self.alert(&mut tx, account_id, dialog_id).await?;
            recorded += emails;
            pushed += pushes;
        }
        tx.commit().await?;
        if recorded > 0 {
            metrics::counter!("manager_alerts_total").increment(recorded as u64);
            self.postbox.posted();
        }
        if pushed > 0 {
            self.push_wake.notify_one();
        }
        Ok(due.len())
    }

    /// Records the dialog's alert e-mails and pushes; how many of each.
    async fn alert(
        &self,
        conn: &mut PgConnection,
        account_id: Uuid,
        dialog_id: Uuid,
    ) -> anyhow::Result<(usize, usize)> {
        let waiting = alerts::unalerted(conn, account_id, dialog_id).await?;
        let Some(through) = waiting.last().map(|m| m.seq) else {
            return Ok((0, 0));
        };
        let dialog = alerts::dialog(conn, account_id, dialog_id).await?;
        let recipients = directory::alert_recipients(conn, account_id, dialog.manager_id).await?;
        let mail = directory::account_mail(conn, account_id).await?;
        // Each manager's e-mail and push in their language.
        let contact_in = |words: Words| match (dialog.contact_name.trim(), dialog.contact_id) {
            ("", Some(contact_id)) => {
                words.fill("alert.visitor", &[("id", &visitor_tag(contact_id))])
            }
            ("", None) => words.say("alert.a_visitor").to_owned(),
            (name, _) => name.to_owned(),
        };
        let shop_in = |words: Words| match mail.shop_name.is_empty() {
            true => words.say("alert.your_shop").to_owned(),
            false => mail.shop_name.clone(),
        };
        let dialog_url = format!("{}#/dialogs/{dialog_id}", self.console_url);
        let settings_url = format!("{}#/settings/notifications", self.console_url);
        let mut recorded = 0;
        let mut pushed = 0;
        for recipient in recipients {
            if self
                .presence
                .manager_online(account_id, recipient.manager_id)
                .await?
            {
                continue;
            }
            let read = alerts::read_seq(conn, account_id, dialog_id, recipient.manager_id).await?;
            let lines: Vec<Line> = waiting
                .iter()
                .filter(|m| m.seq > read)
                .map(|m| Line::new(m.created_at, &m.text))
                .collect();
            if lines.is_empty() {
                continue;
            }
            let words = Words::of(&recipient.language);
            let (contact, shop) = (contact_in(words), shop_in(words));
            if recipient.by_push {
                let subscriptions =
                    push::subscriptions(conn, account_id, recipient.manager_id).await?;
                let payload = serde_json::json!({
                    "title": words.fill("alert.push_title", &[("contact", &contact), ("shop", &shop)]),
                    "body": lines.last().map(|l| l.text.chars().take(200).collect::<String>()),
                    "url": dialog_url,
                    "tag": format!("dialog-{dialog_id}"),
                });
                for subscription in subscriptions {
                    let key = format!(
                        "alert:{dialog_id}:{}:{through}:{}",
                        recipient.manager_id, subscription.id
                    );
                    if push::record(conn, account_id, &key, subscription.id, &payload).await? {
                        pushed += 1;
                    }
                }
            }
            if !recipient.by_email {
                continue;
            }
            let rendered = ManagerAlert {
                words,
                shop: &shop,
                contact: &contact,
                messages: &lines,
                dialog_url: &dialog_url,
                settings_url: &settings_url,
            }
            .render()?;
            let email = NewEmail {
                account_id,
                dedupe_key: format!("alert:{dialog_id}:{}:{through}", recipient.manager_id),
                kind: KIND_MANAGER_ALERT,
                manager_id: Some(recipient.manager_id),
                to_address: recipient.email,
                from_name: mail.from_name().to_owned(),
                reply_to: String::new(),
                subject: rendered.subject,
                text_body: rendered.text,
                html_body: rendered.html,
                headers: unsubscribe_headers(&self.console_url, recipient.unsubscribe_token),
                dialog_id: None,
                message_ids: Vec::new(),
                message_channels: Vec::new(),
            };
            if self.postbox.record(conn, &email).await?.is_some() {
                recorded += 1;
            }
        }
        alerts::alerted(conn, account_id, dialog_id, through).await?;
        Ok((recorded, pushed))
    }
}

/// The alert's unsubscribe headers: one-click (RFC 8058), a `POST` to the
/// gateway's `/api/v1/unsubscribe/<token>` beside the console, which turns
/// the manager's alert e-mails off; a mail program that only opens links
/// gets the console's page for it.
fn unsubscribe_headers(console_url: &str, token: Uuid) -> serde_json::Value {
    let one_click = url::Url::parse(console_url)
        .and_then(|console| console.join(&format!("../api/v1/unsubscribe/{token}")));
    match one_click {
        Ok(link) => serde_json::json!({
            "List-Unsubscribe": format!("<{link}>"),
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }),
        // Not a URL the gateway can be found beside: the settings page, to
        // open (it takes no POST).
        Err(_) => serde_json::json!({
            "List-Unsubscribe": format!("<{console_url}#/settings/notifications>"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_unsubscribe_link_is_the_gateways_beside_the_console() {
        let token = Uuid::nil();
        let headers = unsubscribe_headers("https://chat.shop.example/console/", token);
        assert_eq!(
            headers["List-Unsubscribe"],
            format!("<https://chat.shop.example/api/v1/unsubscribe/{token}>")
        );
        assert_eq!(
            headers["List-Unsubscribe-Post"],
            "List-Unsubscribe=One-Click"
        );
    }
}
