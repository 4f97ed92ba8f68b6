//! Tells the dialog service what became of the messages an e-mail carried,
//! once the sender is done with it: a site-chat reply the visitor got by
//! e-mail is `emailed`, a reply by e-mail `delivered`, or `failed` with the
//! mail server's words (a site-chat reply whose e-mail failed still waits in
//! the chat). An e-mail that bounced after it was sent fails every message
//! it carried, with the report's words: `emailed` and `delivered` were not
//! true. An e-mail is marked told only after every message is, so a
//! dialog service that is away is told later.

use std::time::Duration;

use sqlx::PgPool;

use chat_platform::Shutdown;
use chat_platform::grpc::Traced;
use chat_proto::dialog::v1::{self as pb, dialog_service_client::DialogServiceClient};

use crate::db::email::{self, Untold};
use crate::replies::set_delivery_state;

/// E-mails looked at per round.
const BATCH: i64 = 64;
const TICK: Duration = Duration::from_millis(250);

pub async fn tell(pool: PgPool, dialogs: DialogServiceClient<Traced>, shutdown: Shutdown) {
    while !shutdown.is_cancelled() {
        let wait = match round(&pool, &dialogs).await {
            Ok(told) if told as i64 == BATCH => Duration::ZERO,
            Ok(_) => TICK,
            Err(e) => {
                tracing::warn!(error = %e, "delivery states not told; retrying");
                TICK * 8
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = shutdown.cancelled() => {}
        }
    }
}

async fn round(pool: &PgPool, dialogs: &DialogServiceClient<Traced>) -> anyhow::Result<usize> {
    let untold = email::untold(pool, BATCH).await?;
    for sent in &untold {
        for (message_id, channel) in sent.message_ids.iter().zip(&sent.message_channels) {
            if let Some((state, error)) = outcome(sent, channel) {
                set_delivery_state(dialogs, sent.account_id, *message_id, state, error).await?;
            }
        }
        email::told(pool, sent.id).await?;
    }
    Ok(untold.len())
}

/// What a message of the e-mail became, if anything changes.
fn outcome<'a>(sent: &'a Untold, channel: &str) -> Option<(pb::DeliveryState, &'a str)> {
    match (sent.status.as_str(), channel) {
        ("sent", "email") => Some((pb::DeliveryState::Delivered, "")),
        ("sent", _) => Some((pb::DeliveryState::Emailed, "")),
        ("failed", "email") | ("bounced", _) => Some((pb::DeliveryState::Failed, &sent.last_error)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email(status: &str) -> Untold {
        Untold {
            id: uuid::Uuid::nil(),
            account_id: uuid::Uuid::nil(),
            status: status.into(),
            last_error: "550 no such user".into(),
            message_ids: Vec::new(),
            message_channels: Vec::new(),
        }
    }

    #[test]
    fn a_sent_email_delivers_or_emails_a_failed_one_fails_email_replies_a_bounced_one_all() {
        let (sent, failed) = (email("sent"), email("failed"));
        assert_eq!(
            outcome(&sent, "email"),
            Some((pb::DeliveryState::Delivered, ""))
        );
        assert_eq!(
            outcome(&sent, "site"),
            Some((pb::DeliveryState::Emailed, ""))
        );
        assert_eq!(
            outcome(&failed, "email"),
            Some((pb::DeliveryState::Failed, "550 no such user"))
        );
        assert_eq!(outcome(&failed, "site"), None);
        let bounced = email("bounced");
        for channel in ["site", "email"] {
            assert_eq!(
                outcome(&bounced, channel),
                Some((pb::DeliveryState::Failed, "550 no such user"))
            );
        }
    }
}
