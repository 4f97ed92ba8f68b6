//! The gRPC server of the notification service: managers' choices, how the
//! account's e-mails are signed and the server they leave by
//! (`chat.notification.v1`).

use sqlx::PgPool;
use tokio::net::TcpListener;
use tonic::{Request, Response, Status};

use chat_platform::Shutdown;
use chat_platform::grpc::Traced;
use chat_platform::service_error::{Error, parse_id};
use chat_proto::dialog::v1::dialog_service_client::DialogServiceClient;
use chat_proto::notification::v1::{self as pb, notification_service_server as server};

use crate::db::email::NewEmail;
use crate::db::{directory, email, files, held, shop_smtp};
use crate::inbound::Refusal;
use crate::mail::Postbox;
use crate::mail::shop_server::{Change, ShopServers};
use crate::mail::templates::{Access, AccessKind};
use crate::mail::words::Words;

/// Longest link in an access e-mail, in bytes.
const MAX_LINK_BYTES: usize = 2048;

/// Longest sender name, in characters.
pub const MAX_SENDER_NAME_CHARS: usize = 100;

#[derive(Clone)]
pub struct NotificationApi {
    pub pool: PgPool,
    pub postbox: Postbox,
    pub vapid: crate::push::Vapid,
    pub push_hosts: crate::push::PushHosts,
    pub shop_servers: ShopServers,
    /// Where accepted answers are posted.
    pub dialogs: DialogServiceClient<Traced>,
}

pub async fn serve(
    listener: TcpListener,
    api: NotificationApi,
    shutdown: Shutdown,
) -> anyhow::Result<()> {
    chat_platform::grpc::serve(
        listener,
        server::NotificationServiceServer::new(api),
        shutdown,
    )
    .await
}

impl NotificationApi {
    async fn preferences_out(
        &self,
        account_id: uuid::Uuid,
        manager_id: uuid::Uuid,
        preferences: directory::Preferences,
    ) -> Result<pb::Preferences, Error> {
        let last_failure = email::manager_failure(&self.pool, account_id, manager_id).await?;
        Ok(pb::Preferences {
            email: preferences.email_on,
            push: preferences.push_on,
            email_address: preferences.email,
            last_failure: last_failure.unwrap_or_default(),
        })
    }
}

#[tonic::async_trait]
impl server::NotificationService for NotificationApi {
    async fn get_preferences(
        &self,
        request: Request<pb::GetPreferencesRequest>,
    ) -> Result<Response<pb::Preferences>, Status> {
        let request = request.into_inner();
        let account_id = parse_id("account_id", &request.account_id)?;
        let manager_id = parse_id("manager_id", &request.manager_id)?;
        let preferences = directory::preferences(&self.pool, account_id, manager_id)
            .await
            .map_err(Error::from)?;
        Ok(Response::new(
            self.preferences_out(account_id, manager_id, preferences)
                .await?,
        ))
    }

    async fn set_preferences(
        &self,
        request: Request<pb::SetPreferencesRequest>,
    ) -> Result<Response<pb::Preferences>, Status> {
        let request = request.into_inner();
        let account_id = parse_id("account_id", &request.account_id)?;
        let manager_id = parse_id("manager_id", &request.manager_id)?;
        let preferences = directory::set_preferences(
            &self.pool,
            account_id,
            manager_id,
            request.email,
            request.push,
        )
        .await
        .map_err(Error::from)?;
        Ok(Response::new(
            self.preferences_out(account_id, manager_id, preferences)
                .await?,
        ))
    }

    async fn get_account_mail(
        &self,
        request: Request<pb::GetAccountMailRequest>,
    ) -> Result<Response<pb::AccountMail>, Status> {
        let account_id = parse_id("account_id", &request.into_inner().account_id)?;
        let mut conn = self.pool.acquire().await.map_err(Error::from)?;
        let mail = directory::account_mail(&mut conn, account_id)
            .await
            .map_err(Error::from)?;
        Ok(Response::new(account_mail_out(mail)))
    }

    async fn send_access_email(
        &self,
        request: Request<pb::AccessEmailRequest>,
    ) -> Result<Response<pb::AccessEmailResponse>, Status> {
        let recorded = self.access_email(request.into_inner()).await?;
        Ok(Response::new(pb::AccessEmailResponse { recorded }))
    }

    async fn get_push_key(
        &self,
        _request: Request<pb::GetPushKeyRequest>,
    ) -> Result<Response<pb::PushKey>, Status> {
        Ok(Response::new(pb::PushKey {
            public_key: self.vapid.public_key(),
        }))
    }

    async fn add_push_subscription(
        &self,
        request: Request<pb::PushSubscription>,
    ) -> Result<Response<pb::PushSubscriptionResponse>, Status> {
        let request = request.into_inner();
        let account_id = parse_id("account_id", &request.account_id)?;
        let manager_id = parse_id("manager_id", &request.manager_id)?;
        let mut problems = Vec::new();
        if request.endpoint.len() > MAX_LINK_BYTES || !self.push_hosts.allows(&request.endpoint) {
            problems.push((
                "endpoint",
                "must be an https address of a browser's push service".to_owned(),
            ));
        }
        let p256dh = crate::push::decode(&request.p256dh);
        let point = |key: Vec<u8>| web_push_native::p256::PublicKey::from_sec1_bytes(&key);
        if p256dh.is_none_or(|key| point(key).is_err()) {
            problems.push((
                "keys.p256dh",
                "must be a P-256 public key, base64url".to_owned(),
            ));
        }
        if crate::push::decode(&request.auth).is_none_or(|auth| auth.len() != 16) {
            problems.push(("keys.auth", "must be 16 bytes, base64url".to_owned()));
        }
        if !problems.is_empty() {
            return Err(Error::Fields(problems).into());
        }
        let subscription = crate::db::push::Subscription {
            id: uuid::Uuid::now_v7(),
            endpoint: request.endpoint,
            p256dh: request.p256dh,
            auth: request.auth,
        };
        crate::db::push::subscribe(&self.pool, account_id, manager_id, &subscription)
            .await
            .map_err(Error::from)?;
        Ok(Response::new(pb::PushSubscriptionResponse {
            changed: true,
        }))
    }

    async fn remove_push_subscription(
        &self,
        request: Request<pb::RemovePushSubscriptionRequest>,
    ) -> Result<Response<pb::PushSubscriptionResponse>, Status> {
        let request = request.into_inner();
        let account_id = parse_id("account_id", &request.account_id)?;
        let manager_id = parse_id("manager_id", &request.manager_id)?;
        let changed =
            crate::db::push::unsubscribe(&self.pool, account_id, manager_id, &request.endpoint)
                .await
                .map_err(Error::from)?;
        Ok(Response::new(pb::PushSubscriptionResponse { changed }))
    }

    async fn set_account_mail(
        &self,
        request: Request<pb::SetAccountMailRequest>,
    ) -> Result<Response<pb::AccountMail>, Status> {
        let request = request.into_inner();
        let account_id = parse_id("account_id", &request.account_id)?;
        let trimmed = |value: Option<String>| value.map(|v| v.trim().to_owned());
        let sender_name = trimmed(request.sender_name);
        let reply_to = trimmed(request.reply_to);
        let shop_url = trimmed(request.shop_url);
        let change = directory::AccountMailChange {
            sender_name: sender_name.as_deref(),
            reply_to: reply_to.as_deref(),
            shop_url: shop_url.as_deref(),
        };
        check_account_mail(&change)?;
        let mail = directory::set_account_mail(&self.pool, account_id, &change)
            .await
            .map_err(Error::from)?;
        Ok(Response::new(account_mail_out(mail)))
    }

    async fn get_account_smtp(
        &self,
        request: Request<pb::GetAccountSmtpRequest>,
    ) -> Result<Response<pb::AccountSmtp>, Status> {
        let account_id = parse_id("account_id", &request.into_inner().account_id)?;
        let mut conn = self.pool.acquire().await.map_err(Error::from)?;
        let server = shop_smtp::get(&mut conn, account_id)
            .await
            .map_err(Error::from)?;
        Ok(Response::new(account_smtp_out(server)))
    }

    async fn set_account_smtp(
        &self,
        request: Request<pb::SetAccountSmtpRequest>,
    ) -> Result<Response<pb::AccountSmtp>, Status> {
        let request = request.into_inner();
        let account_id = parse_id("account_id", &request.account_id)?;
        let change = Change {
            host: request.host.trim().to_ascii_lowercase(),
            port: request.port,
            security: request.security.trim().to_owned(),
            username: request.username.trim().to_owned(),
            password: request.password,
            from_address: request.from_address.trim().to_owned(),
        };
        let server = self
            .shop_servers
            .keep(&self.pool, account_id, change)
            .await?;
        Ok(Response::new(account_smtp_out(Some(server))))
    }

    async fn remove_account_smtp(
        &self,
        request: Request<pb::GetAccountSmtpRequest>,
    ) -> Result<Response<pb::AccountSmtp>, Status> {
        let account_id = parse_id("account_id", &request.into_inner().account_id)?;
        self.shop_servers.remove(&self.pool, account_id).await?;
        Ok(Response::new(account_smtp_out(None)))
    }

    async fn unsubscribe(
        &self,
        request: Request<pb::UnsubscribeRequest>,
    ) -> Result<Response<pb::UnsubscribeResponse>, Status> {
        let token = parse_id("token", &request.into_inner().token)?;
        let email_address = directory::unsubscribe(&self.pool, token)
            .await
            .map_err(Error::from)?
            .ok_or(Error::NotFound("unsubscribe link"))?;
        Ok(Response::new(pb::UnsubscribeResponse { email_address }))
    }

    async fn list_held_answers(
        &self,
        request: Request<pb::ListHeldAnswersRequest>,
    ) -> Result<Response<pb::HeldAnswers>, Status> {
        let request = request.into_inner();
        let account_id = parse_id("account_id", &request.account_id)?;
        let dialog_id = parse_id("dialog_id", &request.dialog_id)?;
        let answers = held::in_dialog(&self.pool, account_id, dialog_id)
            .await
            .map_err(Error::from)?;
        Ok(Response::new(pb::HeldAnswers {
            answers: answers.into_iter().map(held_answer_out).collect(),
        }))
    }

    type FetchFileStream = futures::stream::BoxStream<'static, Result<pb::FileChunk, Status>>;

    async fn fetch_file(
        &self,
        request: Request<pb::FetchFileRequest>,
    ) -> Result<Response<Self::FetchFileStream>, Status> {
        let request = request.into_inner();
        let account_id = parse_id("account_id", &request.account_id)?;
        let Ok(file_id) = uuid::Uuid::try_parse(&request.file_id) else {
            return Err(Error::NotFound("file").into());
        };
        let file = files::get(&self.pool, account_id, file_id)
            .await
            .map_err(Error::from)?
            .ok_or(Error::NotFound("file"))?;
        let first = pb::FileChunk {
            content_type: file.content_type,
            file_name: file.name,
            size: file.bytes.len() as u64,
            data: Vec::new(),
        };
        let chunks: Vec<_> = file
            .bytes
            .chunks(FILE_CHUNK_BYTES)
            .map(|data| {
                Ok(pb::FileChunk {
                    data: data.to_vec(),
                    ..Default::default()
                })
            })
            .collect();
        let stream = futures::stream::iter(std::iter::once(Ok(first)).chain(chunks));
        Ok(Response::new(Box::pin(stream)))
    }

    async fn accept_held_answer(
        &self,
        request: Request<pb::AcceptHeldAnswerRequest>,
    ) -> Result<Response<pb::HeldAnswer>, Status> {
        let request = request.into_inner();
        let account_id = parse_id("account_id", &request.account_id)?;
        let id = parse_id("id", &request.id)?;
        let manager_id = parse_id("manager_id", &request.manager_id)?;
        let accepted =
            crate::inbound::held::accept(&self.pool, &self.dialogs, account_id, id, manager_id)
                .await
                .map_err(|e| match e {
                    Refusal::Unavailable(status) => status,
                    Refusal::Database(e) => Error::from(e).into(),
                    Refusal::NotOurs => Error::NotFound("held answer").into(),
                })?;
        match accepted {
            Some(answer) => Ok(Response::new(held_answer_out(answer))),
            None => Err(Error::NotFound("held answer").into()),
        }
    }
}

/// Bytes of a file in one chunk.
const FILE_CHUNK_BYTES: usize = 64 * 1024;

fn held_answer_out(answer: held::HeldAnswer) -> pb::HeldAnswer {
    use chat_proto::time::to_proto;
    pb::HeldAnswer {
        id: answer.id.to_string(),
        dialog_id: answer.dialog_id.to_string(),
        from_address: answer.from_address,
        text: answer.text,
        received_at: Some(to_proto(answer.received_at)),
        accepted_by: answer
            .accepted_by
            .map(|m| m.to_string())
            .unwrap_or_default(),
        accepted_at: answer.accepted_at.map(to_proto),
        message_id: answer.message_id.map(|m| m.to_string()).unwrap_or_default(),
    }
}

impl NotificationApi {
    async fn access_email(&self, request: pb::AccessEmailRequest) -> Result<bool, Error> {
        let account_id = parse_id("account_id", &request.account_id)?;
        let manager_id = parse_id("manager_id", &request.manager_id)?;
        let kind = match request.kind() {
            pb::AccessEmailKind::Invitation => AccessKind::Invitation,
            pb::AccessEmailKind::PasswordReset => AccessKind::PasswordReset,
            pb::AccessEmailKind::Unspecified => {
                return Err(Error::field("kind", "must be invitation or password_reset"));
            }
        };
        let mut problems = Vec::new();
        if request.to.parse::<lettre::Address>().is_err() {
            problems.push(("to", "must be an e-mail address".to_owned()));
        }
        let link_ok =
            url::Url::parse(&request.link).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
        if !link_ok || request.link.len() > MAX_LINK_BYTES {
            problems.push(("link", "must be an http or https address".to_owned()));
        }
        if !problems.is_empty() {
            return Err(Error::Fields(problems));
        }
        let mut tx = self.pool.begin().await?;
        let mail = directory::account_mail(&mut tx, account_id).await?;
        let shop = match request.shop_name.trim() {
            "" => mail.shop_name.clone(),
            name => name.to_owned(),
        };
        let rendered = Access {
            words: Words::of(&request.language),
            kind,
            name: &request.name,
            shop: &shop,
            inviter: &request.inviter_name,
            link: &request.link,
            valid_minutes: request.valid_minutes,
        }
        .render()
        .map_err(|e| Error::InvalidArgument(e.to_string()))?;
        let link_key = {
            use sha2::Digest as _;
            hex::encode(sha2::Sha256::digest(request.link.as_bytes()))
        };
        let email = NewEmail {
            account_id,
            dedupe_key: format!("access:{link_key}"),
            kind: match kind {
                AccessKind::Invitation => "invitation",
                AccessKind::PasswordReset => "password_reset",
            },
            manager_id: Some(manager_id),
            to_address: request.to.clone(),
            from_name: mail.from_name_or(&shop).to_owned(),
            reply_to: String::new(),
            subject: rendered.subject,
            text_body: rendered.text,
            html_body: rendered.html,
            headers: serde_json::json!({}),
            dialog_id: None,
            message_ids: Vec::new(),
            message_channels: Vec::new(),
        };
        let recorded = self.postbox.record(&mut tx, &email).await?.is_some();
        tx.commit().await?;
        if recorded {
            self.postbox.posted();
        }
        Ok(recorded)
    }
}

fn account_mail_out(mail: directory::AccountMail) -> pb::AccountMail {
    pb::AccountMail {
        sender_name: mail.sender_name,
        reply_to: mail.reply_to,
        shop_url: mail.shop_url,
    }
}

fn account_smtp_out(server: Option<shop_smtp::Server>) -> pb::AccountSmtp {
    use chat_proto::time::to_proto;
    let Some(server) = server else {
        return pb::AccountSmtp::default();
    };
    pb::AccountSmtp {
        configured: true,
        host: server.host,
        port: u32::from(server.port),
        security: server.security,
        username: server.username,
        password_set: server.password.is_some(),
        from_address: server.from_address,
        last_error: server.last_error,
        last_error_at: server.last_error_at.map(to_proto),
        updated_at: Some(to_proto(server.updated_at)),
    }
}

/// Longest shop address, in bytes.
pub const MAX_SHOP_URL_BYTES: usize = 500;

/// A sender name is one line of at most [`MAX_SENDER_NAME_CHARS`]; a reply
/// address is empty or one address; a shop address is empty or an `http`
/// or `https` URL.
pub fn check_account_mail(change: &directory::AccountMailChange<'_>) -> Result<(), Error> {
    let mut problems = Vec::new();
    if let Some(name) = change.sender_name {
        if name.chars().count() > MAX_SENDER_NAME_CHARS {
            problems.push((
                "sender_name",
                format!("must be at most {MAX_SENDER_NAME_CHARS} characters"),
            ));
        } else if name.chars().any(char::is_control) {
            problems.push(("sender_name", "must be one line of text".to_owned()));
        }
    }
    if let Some(address) = change.reply_to
        && !address.is_empty()
        && address.parse::<lettre::Address>().is_err()
    {
        problems.push(("reply_to", "must be an e-mail address".to_owned()));
    }
    if let Some(address) = change.shop_url
        && !address.is_empty()
    {
        let web = url::Url::parse(address)
            .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
        if !web || address.len() > MAX_SHOP_URL_BYTES {
            problems.push((
                "shop_url",
                format!("must be an http or https address of at most {MAX_SHOP_URL_BYTES} bytes"),
            ));
        }
    }
    match problems.is_empty() {
        true => Ok(()),
        false => Err(Error::Fields(problems)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sender_is_one_short_line_a_reply_address_an_address_a_shop_a_web_address() {
        let change = |sender_name, reply_to, shop_url| directory::AccountMailChange {
            sender_name,
            reply_to,
            shop_url,
        };
        let good = change(
            Some("Shop & Co"),
            Some("help@shop.example"),
            Some("https://shop.example/"),
        );
        assert!(check_account_mail(&good).is_ok());
        assert!(check_account_mail(&change(Some(""), Some(""), Some(""))).is_ok());
        let bad = change(
            Some("a\r\nBcc: x@y.z"),
            Some("not an address"),
            Some("javascript:alert(1)"),
        );
        let Err(Error::Fields(problems)) = check_account_mail(&bad) else {
            panic!("refused");
        };
        let fields: Vec<_> = problems.iter().map(|(f, _)| *f).collect();
        assert_eq!(fields, ["sender_name", "reply_to", "shop_url"]);
        let long = "x".repeat(101);
        assert!(check_account_mail(&change(Some(&long), None, None)).is_err());
    }
}
