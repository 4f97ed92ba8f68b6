//! The gRPC server of the dialog service.

use chat_platform::cursor::Keyset;
use chat_platform::{Shutdown, bus::Bus, outbox::Outbox};
use chat_proto::dialog::v1::{self as pb, dialog_service_server as server};
use sqlx::PgPool;
use tokio::net::TcpListener;
use tonic::{Request, Response, Status};

use crate::db;
use crate::error::{Error, parse_id};
use crate::messages;
use crate::writer::Writer;

/// Largest page of a list call.
pub const MAX_PAGE: u32 = 200;
const DEFAULT_PAGE: u32 = 50;

#[derive(Clone)]
pub struct DialogApi {
    pub pool: PgPool,
    pub outbox: Outbox,
    pub writer: Writer,
    pub bus: Bus,
}

pub async fn serve(
    listener: TcpListener,
    api: DialogApi,
    shutdown: Shutdown,
) -> anyhow::Result<()> {
    let incoming = tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true));
    tonic::transport::Server::builder()
        .layer(chat_platform::grpc::server_trace_layer())
        .add_service(server::DialogServiceServer::new(api))
        .serve_with_incoming_shutdown(incoming, async move { shutdown.cancelled().await })
        .await?;
    Ok(())
}

fn page(limit: u32) -> i64 {
    match limit {
        0 => DEFAULT_PAGE as i64,
        n => n.min(MAX_PAGE) as i64,
    }
}

#[tonic::async_trait]
impl server::DialogService for DialogApi {
    async fn post_message(
        &self,
        request: Request<pb::PostMessageRequest>,
    ) -> Result<Response<pb::PostMessageResponse>, Status> {
        let post = messages::check(request.into_inner())?;
        let posted = self.writer.post(post).await?;
        Ok(Response::new(pb::PostMessageResponse {
            message: Some(posted.message.into()),
            duplicate: posted.duplicate,
            dialog_created: posted.dialog_created,
        }))
    }

    async fn get_dialog(
        &self,
        request: Request<pb::GetDialogRequest>,
    ) -> Result<Response<pb::Dialog>, Status> {
        let req = request.get_ref();
        let account_id = parse_id("account_id", &req.account_id)?;
        let dialog_id = parse_id("dialog_id", &req.dialog_id)?;
        let dialog = db::get_dialog(&self.pool, account_id, dialog_id)
            .await
            .map_err(Error::from)?
            .ok_or(Error::NotFound("dialog"))?;
        Ok(Response::new(dialog.into()))
    }

    async fn find_open_dialog(
        &self,
        request: Request<pb::FindOpenDialogRequest>,
    ) -> Result<Response<pb::FindOpenDialogResponse>, Status> {
        let req = request.get_ref();
        let account_id = parse_id("account_id", &req.account_id)?;
        let contact_id = parse_id("contact_id", &req.contact_id)?;
        let dialog = db::find_open_dialog(&self.pool, account_id, contact_id)
            .await
            .map_err(Error::from)?;
        Ok(Response::new(pb::FindOpenDialogResponse {
            dialog: dialog.map(Into::into),
        }))
    }

    async fn list_dialogs(
        &self,
        request: Request<pb::ListDialogsRequest>,
    ) -> Result<Response<pb::ListDialogsResponse>, Status> {
        let req = request.get_ref();
        let account_id = parse_id("account_id", &req.account_id)?;
        let status = match pb::DialogStatus::try_from(req.status).unwrap_or_default() {
            pb::DialogStatus::Unspecified => None,
            pb::DialogStatus::Open => Some("open"),
            pb::DialogStatus::Closed => Some("closed"),
        };
        let after = match req.cursor.as_str() {
            "" => None,
            c => {
                Some(Keyset::decode(c).ok_or_else(|| Error::InvalidArgument("bad cursor".into()))?)
            }
        };
        let limit = page(req.limit);
        let mut rows = db::list_dialogs(&self.pool, account_id, status, after, limit + 1)
            .await
            .map_err(Error::from)?;
        let next_cursor = if rows.len() as i64 > limit {
            rows.truncate(limit as usize);
            rows.last()
                .map(|d| {
                    Keyset {
                        at: d.updated_at,
                        id: d.id,
                    }
                    .encode()
                })
                .unwrap_or_default()
        } else {
            String::new()
        };
        Ok(Response::new(pb::ListDialogsResponse {
            dialogs: rows.into_iter().map(Into::into).collect(),
            next_cursor,
        }))
    }

    async fn list_messages(
        &self,
        request: Request<pb::ListMessagesRequest>,
    ) -> Result<Response<pb::ListMessagesResponse>, Status> {
        let req = request.get_ref();
        let account_id = parse_id("account_id", &req.account_id)?;
        let dialog_id = parse_id("dialog_id", &req.dialog_id)?;
        if req.after_seq < 0 || req.before_seq < 0 {
            return Err(Error::InvalidArgument("sequence numbers are not negative".into()).into());
        }
        // An unknown dialog (or another account's) is "not found", not an empty list.
        db::get_dialog(&self.pool, account_id, dialog_id)
            .await
            .map_err(Error::from)?
            .ok_or(Error::NotFound("dialog"))?;
        let limit = page(req.limit);
        let fetched = if req.before_seq > 0 {
            db::messages_before(&self.pool, account_id, dialog_id, req.before_seq, limit + 1).await
        } else {
            db::messages_after(&self.pool, account_id, dialog_id, req.after_seq, limit + 1).await
        };
        let mut rows = fetched.map_err(Error::from)?;
        let has_more = rows.len() as i64 > limit;
        if has_more && req.before_seq > 0 {
            rows.remove(0); // the extra row is the oldest one
        }
        rows.truncate(limit as usize);
        Ok(Response::new(pb::ListMessagesResponse {
            messages: rows.into_iter().map(Into::into).collect(),
            has_more,
        }))
    }
}
