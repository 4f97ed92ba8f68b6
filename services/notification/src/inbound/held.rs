//! Answers from a stranger's address: held (with a note that tells the
//! managers) until a manager accepts one, which posts it into the dialog as
//! the contact's message by e-mail. The post carries the e-mail's own client
//! id, so accepting twice, or after a crash between the post and the
//! record, gives one message.

use sqlx::PgPool;
use uuid::Uuid;

use chat_platform::grpc::Traced;
use chat_proto::dialog::v1::{self as pb, dialog_service_client::DialogServiceClient};

use super::Refusal;
use crate::db::held::{self, HeldAnswer};

/// Posts the account's held answer `id` as its contact's message; `None`
/// when the account has no such answer.
pub async fn accept(
    pool: &PgPool,
    dialogs: &DialogServiceClient<Traced>,
    account_id: Uuid,
    id: Uuid,
    manager_id: Uuid,
) -> Result<Option<HeldAnswer>, Refusal> {
    let mut tx = pool.begin().await?;
    let Some(answer) = held::lock(&mut tx, account_id, id).await? else {
        return Ok(None);
    };
    if answer.message_id.is_some() {
        return Ok(Some(answer));
    }
    let request = pb::PostMessageRequest {
        account_id: account_id.to_string(),
        dialog_id: answer.dialog_id.to_string(),
        contact_id: answer.contact_id.to_string(),
        author_kind: pb::AuthorKind::Visitor as i32,
        author_id: answer.contact_id.to_string(),
        client_message_id: answer.client_message_id.clone(),
        text: answer.text.clone(),
        channel: pb::Channel::Email as i32,
        contact_name: String::new(),
        attachment_ids: Vec::new(),
    };
    let posted = dialogs.clone().post_message(request).await?.into_inner();
    let message_id = posted
        .message
        .and_then(|m| Uuid::try_parse(&m.id).ok())
        .ok_or_else(|| tonic::Status::internal("the dialog service answered without a message"))?;
    let answer = held::accepted(&mut tx, account_id, id, manager_id, message_id).await?;
    tx.commit().await?;
    metrics::counter!("held_answers_accepted_total").increment(1);
    Ok(Some(answer))
}
