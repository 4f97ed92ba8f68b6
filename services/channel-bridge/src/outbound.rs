//! The delivery log: every manager reply whose channel is a messenger is
//! queued here once (the unique key on the message makes redelivered events
//! harmless). The dialog service publishes those replies under a type of
//! their own, so site-chat traffic never reaches the bridge; anything else
//! under it is passed over.
//! Events are taken in batches, written with one statement.

use sqlx::PgPool;
use uuid::Uuid;

use chat_platform::Shutdown;
use chat_platform::bus::{BATCH_LINGER, Batches, Bus, HandlerError};
use chat_platform::events::{MESSENGER_REPLY_CREATED, MessageCreated, id};
use chat_proto::dialog::v1 as pb;
use chat_proto::events::v1 as ev;

pub const OUTBOUND_CONSUMER: &str = "bridge_outbound";
/// Most events written in one statement.
const MAX_BATCH: usize = 256;

pub async fn queue_replies(bus: Bus, pool: PgPool, shutdown: Shutdown) {
    bus.consume_batches(
        OUTBOUND_CONSUMER,
        &[MESSENGER_REPLY_CREATED],
        Batches::lingering(MAX_BATCH, BATCH_LINGER),
        shutdown,
        |envelopes| {
            let pool = pool.clone();
            async move { queue(&pool, envelopes).await }
        },
    )
    .await;
}

/// The messenger a message must be delivered through, if any.
pub fn messenger_of(message: &pb::Message) -> Option<&'static str> {
    let channel = message.channel();
    (message.author_kind() == pb::AuthorKind::Manager && channel.is_messenger())
        .then(|| channel.word())
}

async fn queue(pool: &PgPool, envelopes: Vec<ev::Envelope>) -> Result<(), HandlerError> {
    let (mut accounts, mut messages, mut dialogs, mut channels) = (vec![], vec![], vec![], vec![]);
    let (mut contacts, mut texts) = (vec![], vec![]);
    for envelope in &envelopes {
        let created = MessageCreated::decode(envelope)?;
        let message = created.message;
        let Some(channel) = messenger_of(&message) else {
            continue;
        };
        accounts.push(id(&message.account_id)?);
        messages.push(id(&message.id)?);
        dialogs.push(id(&message.dialog_id)?);
        channels.push(channel);
        contacts.push(created.contact_id);
        texts.push(message.text);
    }
    if messages.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = messages.iter().map(|_| Uuid::now_v7()).collect();
    sqlx::query!(
        "insert into delivery (id, account_id, message_id, dialog_id, channel, contact_id, text) \
         select * from unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::text[], \
             $6::uuid[], $7::text[]) \
         on conflict on constraint delivery_message_unique do nothing",
        &ids,
        &accounts,
        &messages,
        &dialogs,
        &channels as &[&str],
        &contacts,
        &texts
    )
    .execute(pool)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(author: pb::AuthorKind, channel: pb::Channel) -> pb::Message {
        pb::Message {
            author_kind: author as i32,
            channel: channel as i32,
            ..Default::default()
        }
    }

    #[test]
    fn only_manager_replies_through_messengers_are_queued() {
        assert_eq!(
            messenger_of(&message(pb::AuthorKind::Manager, pb::Channel::Telegram)),
            Some("telegram")
        );
        assert_eq!(
            messenger_of(&message(pb::AuthorKind::Manager, pb::Channel::Vk)),
            Some("vk")
        );
        assert_eq!(
            messenger_of(&message(pb::AuthorKind::Manager, pb::Channel::Site)),
            None
        );
        assert_eq!(
            messenger_of(&message(pb::AuthorKind::Visitor, pb::Channel::Telegram)),
            None
        );
    }
}
