//! The gRPC server of the dialog service.

use chat_platform::cursor::{Keyset, from_request as cursor, next_page};
use chat_platform::files::MAX_FILE_MESSAGE_BYTES;
use chat_platform::{Shutdown, bus::Bus, outbox::Outbox};
use chat_proto::dialog::v1::{self as pb, dialog_service_server as server};
use sqlx::PgPool;
use tokio::net::TcpListener;
use tonic::{Request, Response, Status};

use crate::changes::{self, Change};
use crate::db::{self, Category, SystemLine};
use crate::error::{Error, parse_id};
use crate::files::Files;
use crate::writer::Writer;
use crate::{events, files, messages, notes, templates};

/// Largest page of a list call.
pub const MAX_PAGE: u32 = 200;
const DEFAULT_PAGE: u32 = 50;

/// Longest reason a messenger gives for not taking a message, in characters.
pub const MAX_DELIVERY_ERROR_CHARS: usize = 500;

#[derive(Clone)]
pub struct DialogApi {
    pub pool: PgPool,
    pub outbox: Outbox,
    pub writer: Writer,
    pub bus: Bus,
    pub files: Files,
}

pub async fn serve(
    listener: TcpListener,
    api: DialogApi,
    shutdown: Shutdown,
) -> anyhow::Result<()> {
    // Files come and go whole in one message.
    let server = server::DialogServiceServer::new(api)
        .max_decoding_message_size(MAX_FILE_MESSAGE_BYTES)
        .max_encoding_message_size(MAX_FILE_MESSAGE_BYTES);
    chat_platform::grpc::serve(listener, server, shutdown).await
}

fn page(limit: u32) -> i64 {
    match limit {
        0 => DEFAULT_PAGE as i64,
        n => n.min(MAX_PAGE) as i64,
    }
}

/// An optional id field: empty is `None`.
fn optional_id(field: &str, value: &str) -> Result<Option<uuid::Uuid>, Error> {
    match value {
        "" => Ok(None),
        id => parse_id(field, id).map(Some),
    }
}

fn status_filter(status: i32) -> Option<&'static str> {
    match pb::DialogStatus::try_from(status).unwrap_or_default() {
        pb::DialogStatus::Unspecified => None,
        pb::DialogStatus::Open => Some("open"),
        pb::DialogStatus::Closed => Some("closed"),
    }
}

impl DialogApi {
    async fn change(
        &self,
        account_id: &str,
        dialog_id: &str,
        change: Change,
        system_text: &str,
        system: Option<&pb::SystemEvent>,
    ) -> Result<Response<pb::Dialog>, Status> {
        let account_id = parse_id("account_id", account_id)?;
        let dialog_id = parse_id("dialog_id", dialog_id)?;
        let line = system.map(|event| SystemLine {
            kind: event.kind.clone(),
            actor_name: event.actor_name.trim().to_owned(),
            manager_name: event.manager_name.trim().to_owned(),
        });
        let dialog = changes::apply(
            &self.pool,
            &self.outbox,
            account_id,
            dialog_id,
            change,
            system_text,
            line.as_ref(),
        )
        .await?;
        Ok(Response::new(dialog.into()))
    }
}

#[tonic::async_trait]
impl server::DialogService for DialogApi {
    async fn post_message(
        &self,
        request: Request<pb::PostMessageRequest>,
    ) -> Result<Response<pb::PostMessageResponse>, Status> {
        let mut post = messages::check(request.into_inner())?;
        if !post.attachment_ids().is_empty() {
            let attachments = files::for_post(&self.pool, &post).await?;
            post.attach(attachments);
        }
        let posted = self.writer.post(post).await?;
        Ok(Response::new(pb::PostMessageResponse {
            message: Some(posted.message.into()),
            duplicate: posted.duplicate,
            dialog_created: posted.dialog_created,
        }))
    }

    async fn put_file(
        &self,
        request: Request<pb::PutFileRequest>,
    ) -> Result<Response<pb::Attachment>, Status> {
        Ok(Response::new(self.files.put(request.into_inner()).await?))
    }

    async fn get_file(
        &self,
        request: Request<pb::GetFileRequest>,
    ) -> Result<Response<pb::GetFileResponse>, Status> {
        Ok(Response::new(self.files.get(request.get_ref()).await?))
    }

    async fn get_dialog(
        &self,
        request: Request<pb::GetDialogRequest>,
    ) -> Result<Response<pb::Dialog>, Status> {
        let req = request.get_ref();
        let account_id = parse_id("account_id", &req.account_id)?;
        let dialog_id = parse_id("dialog_id", &req.dialog_id)?;
        let viewer = optional_id("viewer_manager_id", &req.viewer_manager_id)?;
        let dialog = db::get_dialog(&self.pool, account_id, dialog_id, viewer)
            .await
            .map_err(Error::from)?
            .ok_or(Error::NotFound("dialog"))?;
        Ok(Response::new(dialog.into()))
    }

    async fn find_contact_dialog(
        &self,
        request: Request<pb::FindContactDialogRequest>,
    ) -> Result<Response<pb::FindContactDialogResponse>, Status> {
        let req = request.get_ref();
        let account_id = parse_id("account_id", &req.account_id)?;
        let contact_id = parse_id("contact_id", &req.contact_id)?;
        let dialog = db::find_contact_dialog(&self.pool, account_id, contact_id)
            .await
            .map_err(Error::from)?;
        Ok(Response::new(pb::FindContactDialogResponse {
            dialog: dialog.map(Into::into),
        }))
    }

    async fn list_dialogs(
        &self,
        request: Request<pb::ListDialogsRequest>,
    ) -> Result<Response<pb::ListDialogsResponse>, Status> {
        let req = request.get_ref();
        let account_id = parse_id("account_id", &req.account_id)?;
        let viewer = optional_id("viewer_manager_id", &req.viewer_manager_id)?;
        let category = match pb::DialogCategory::try_from(req.category).unwrap_or_default() {
            _ if !req.contact_id.is_empty() => {
                Category::Contact(parse_id("contact_id", &req.contact_id)?)
            }
            pb::DialogCategory::Unspecified => Category::All,
            pb::DialogCategory::New => Category::New,
            pb::DialogCategory::Mine => Category::Manager(
                viewer
                    .ok_or_else(|| Error::InvalidArgument("mine needs viewer_manager_id".into()))?,
            ),
            pb::DialogCategory::Manager if req.manager_id.is_empty() => Category::Assigned,
            pb::DialogCategory::Manager => {
                Category::Manager(parse_id("manager_id", &req.manager_id)?)
            }
        };
        let after = cursor(&req.cursor)?;
        let limit = page(req.limit);
        let status = status_filter(req.status);
        let mut rows = db::list_dialogs(
            &self.pool,
            account_id,
            viewer,
            category,
            status,
            after,
            limit + 1,
        )
        .await
        .map_err(Error::from)?;
        let next_cursor = next_page(&mut rows, limit, |d| Keyset {
            at: d.updated_at,
            id: d.id,
        });
        Ok(Response::new(pb::ListDialogsResponse {
            dialogs: rows.into_iter().map(Into::into).collect(),
            next_cursor,
        }))
    }

    async fn count_dialogs(
        &self,
        request: Request<pb::CountDialogsRequest>,
    ) -> Result<Response<pb::CountDialogsResponse>, Status> {
        let req = request.get_ref();
        let account_id = parse_id("account_id", &req.account_id)?;
        let viewer = optional_id("viewer_manager_id", &req.viewer_manager_id)?;
        let counts =
            db::count_dialogs_by_manager(&self.pool, account_id, status_filter(req.status))
                .await
                .map_err(Error::from)?;
        let mut answer = pb::CountDialogsResponse::default();
        for (manager_id, count) in counts {
            answer.all += count;
            match manager_id {
                None => answer.new += count,
                Some(id) => {
                    if Some(id) == viewer {
                        answer.mine += count;
                    }
                    answer.managers.push(pb::ManagerCount {
                        manager_id: id.to_string(),
                        count,
                    });
                }
            }
        }
        Ok(Response::new(answer))
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
        db::get_dialog(&self.pool, account_id, dialog_id, None)
            .await
            .map_err(Error::from)?
            .ok_or(Error::NotFound("dialog"))?;
        let limit = page(req.limit);
        let fetched = if req.before_seq > 0 {
            db::messages_before(
                &self.pool,
                account_id,
                dialog_id,
                req.after_seq,
                req.before_seq,
                limit + 1,
            )
            .await
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

    async fn assign_dialog(
        &self,
        request: Request<pb::AssignDialogRequest>,
    ) -> Result<Response<pb::Dialog>, Status> {
        let req = request.get_ref();
        let manager_id = optional_id("manager_id", &req.manager_id)?;
        self.change(
            &req.account_id,
            &req.dialog_id,
            Change::Assign(manager_id),
            &req.system_text,
            req.system.as_ref(),
        )
        .await
    }

    async fn close_dialog(
        &self,
        request: Request<pb::ChangeStatusRequest>,
    ) -> Result<Response<pb::Dialog>, Status> {
        let req = request.get_ref();
        self.change(
            &req.account_id,
            &req.dialog_id,
            Change::Close,
            &req.system_text,
            req.system.as_ref(),
        )
        .await
    }

    async fn reopen_dialog(
        &self,
        request: Request<pb::ChangeStatusRequest>,
    ) -> Result<Response<pb::Dialog>, Status> {
        let req = request.get_ref();
        self.change(
            &req.account_id,
            &req.dialog_id,
            Change::Reopen,
            &req.system_text,
            req.system.as_ref(),
        )
        .await
    }

    async fn mark_read(
        &self,
        request: Request<pb::MarkReadRequest>,
    ) -> Result<Response<pb::MarkReadResponse>, Status> {
        let req = request.get_ref();
        let account_id = parse_id("account_id", &req.account_id)?;
        let dialog_id = parse_id("dialog_id", &req.dialog_id)?;
        let manager_id = parse_id("manager_id", &req.manager_id)?;
        if req.seq < 0 {
            return Err(Error::field("seq", "must be 0 or more").into());
        }
        let mut tx = self.pool.begin().await.map_err(Error::from)?;
        let (read_seq, unread_count) =
            db::mark_read(&mut tx, account_id, dialog_id, manager_id, req.seq)
                .await
                .map_err(Error::from)?
                .ok_or(Error::NotFound("dialog"))?;
        let event = events::dialog_read(account_id, dialog_id, manager_id, read_seq, unread_count);
        let staged = self
            .outbox
            .enqueue(&mut tx, event)
            .await
            .map_err(Error::from)?;
        tx.commit().await.map_err(Error::from)?;
        self.outbox.committed(staged);
        Ok(Response::new(pb::MarkReadResponse {
            read_seq,
            unread_count,
        }))
    }

    async fn set_delivery_state(
        &self,
        request: Request<pb::SetDeliveryStateRequest>,
    ) -> Result<Response<pb::Message>, Status> {
        let req = request.get_ref();
        let account_id = parse_id("account_id", &req.account_id)?;
        let message_id = parse_id("message_id", &req.message_id)?;
        let state = match pb::DeliveryState::try_from(req.state) {
            Ok(
                state @ (pb::DeliveryState::Delivered
                | pb::DeliveryState::Emailed
                | pb::DeliveryState::Failed),
            ) => state.word(),
            _ => {
                return Err(Error::field("state", "must be delivered, emailed or failed").into());
            }
        };
        let error: String = req
            .error
            .chars()
            .filter(|c| *c != '\0')
            .take(MAX_DELIVERY_ERROR_CHARS)
            .collect();
        let mut tx = self.pool.begin().await.map_err(Error::from)?;
        let (message, changed) =
            db::set_delivery_state(&mut tx, account_id, message_id, state, &error)
                .await
                .map_err(Error::from)?
                .ok_or(Error::NotFound("message"))?;
        if !changed {
            return Ok(Response::new(message.into()));
        }
        let staged = self
            .outbox
            .enqueue(&mut tx, events::message_updated(&message))
            .await
            .map_err(Error::from)?;
        tx.commit().await.map_err(Error::from)?;
        self.outbox.committed(staged);
        Ok(Response::new(message.into()))
    }

    async fn add_note(
        &self,
        request: Request<pb::AddNoteRequest>,
    ) -> Result<Response<pb::AddNoteResponse>, Status> {
        let req = request.get_ref();
        let new = notes::NewNote {
            account_id: parse_id("account_id", &req.account_id)?,
            dialog_id: parse_id("dialog_id", &req.dialog_id)?,
            author_id: parse_id("author_id", &req.author_id)?,
            text: &req.text,
            client_note_id: &req.client_note_id,
        };
        notes::check_text(&req.text)?;
        notes::check_client_id(&req.client_note_id)?;
        let mut tx = self.pool.begin().await.map_err(Error::from)?;
        let note = match notes::insert(&mut tx, &new).await.map_err(Error::from)? {
            notes::Added::Stored(note) => note,
            notes::Added::Duplicate(note) => {
                return Ok(Response::new(pb::AddNoteResponse {
                    note: Some(note.into()),
                    duplicate: true,
                }));
            }
            notes::Added::NoDialog => return Err(Error::NotFound("dialog").into()),
        };
        let staged = self
            .outbox
            .enqueue(&mut tx, events::note_created(&note))
            .await
            .map_err(Error::from)?;
        tx.commit().await.map_err(Error::from)?;
        self.outbox.committed(staged);
        Ok(Response::new(pb::AddNoteResponse {
            note: Some(note.into()),
            duplicate: false,
        }))
    }

    async fn list_notes(
        &self,
        request: Request<pb::ListNotesRequest>,
    ) -> Result<Response<pb::ListNotesResponse>, Status> {
        let req = request.get_ref();
        let account_id = parse_id("account_id", &req.account_id)?;
        let dialog_id = parse_id("dialog_id", &req.dialog_id)?;
        db::get_dialog(&self.pool, account_id, dialog_id, None)
            .await
            .map_err(Error::from)?
            .ok_or(Error::NotFound("dialog"))?;
        let limit = page(req.limit);
        let mut rows = notes::list(
            &self.pool,
            account_id,
            dialog_id,
            cursor(&req.cursor)?,
            limit + 1,
        )
        .await
        .map_err(Error::from)?;
        let next_cursor = next_page(&mut rows, limit, |n| Keyset {
            at: n.created_at,
            id: n.id,
        });
        Ok(Response::new(pb::ListNotesResponse {
            notes: rows.into_iter().map(Into::into).collect(),
            next_cursor,
        }))
    }

    async fn list_templates(
        &self,
        request: Request<pb::ListTemplatesRequest>,
    ) -> Result<Response<pb::ListTemplatesResponse>, Status> {
        let account_id = parse_id("account_id", &request.get_ref().account_id)?;
        let rows = templates::list(&self.pool, account_id)
            .await
            .map_err(Error::from)?;
        Ok(Response::new(pb::ListTemplatesResponse {
            templates: rows.into_iter().map(Into::into).collect(),
        }))
    }

    async fn create_template(
        &self,
        request: Request<pb::CreateTemplateRequest>,
    ) -> Result<Response<pb::Template>, Status> {
        let req = request.get_ref();
        let account_id = parse_id("account_id", &req.account_id)?;
        templates::check(Some(&req.name), Some(&req.text))?;
        let row = templates::insert(&self.pool, account_id, &req.name, &req.text).await?;
        Ok(Response::new(row.into()))
    }

    async fn update_template(
        &self,
        request: Request<pb::UpdateTemplateRequest>,
    ) -> Result<Response<pb::Template>, Status> {
        let req = request.get_ref();
        let account_id = parse_id("account_id", &req.account_id)?;
        let template_id = parse_id("template_id", &req.template_id)?;
        templates::check(req.name.as_deref(), req.text.as_deref())?;
        let row = templates::update(
            &self.pool,
            account_id,
            template_id,
            req.name.as_deref(),
            req.text.as_deref(),
        )
        .await?
        .ok_or(Error::NotFound("template"))?;
        Ok(Response::new(row.into()))
    }

    async fn delete_template(
        &self,
        request: Request<pb::DeleteTemplateRequest>,
    ) -> Result<Response<pb::DeleteTemplateResponse>, Status> {
        let req = request.get_ref();
        let account_id = parse_id("account_id", &req.account_id)?;
        let template_id = parse_id("template_id", &req.template_id)?;
        if !templates::delete(&self.pool, account_id, template_id)
            .await
            .map_err(Error::from)?
        {
            return Err(Error::NotFound("template").into());
        }
        Ok(Response::new(pb::DeleteTemplateResponse {}))
    }
}
