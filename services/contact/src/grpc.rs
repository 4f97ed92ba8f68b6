//! The gRPC server of the contact service.

use chat_platform::Shutdown;
use chat_platform::cursor::{self, Keyset};
use chat_platform::outbox::Outbox;
use chat_proto::contact::v1::{self as pb, contact_service_server as server};
use sqlx::PgPool;
use tokio::net::TcpListener;
use tonic::{Request, Response, Status};

use crate::error::{Error, parse_id};
use crate::{db, details, events};

/// Longest visitor id the widget may choose, in bytes.
pub const MAX_VISITOR_ID_BYTES: usize = 64;
const MAX_PAGE: u32 = 200;
const DEFAULT_PAGE: u32 = 50;
/// Most contacts a search returns; a search is refined, not paged.
pub const MAX_SEARCH_RESULTS: u32 = 50;
const DEFAULT_SEARCH_RESULTS: u32 = 20;
/// Longest search query, in characters.
pub const MAX_QUERY_CHARS: usize = 200;
/// Longest reference of a visitor's activity (a page view id), in bytes.
pub const MAX_REF_ID_BYTES: usize = 64;
/// Longest summary of a visitor's activity (a page's title and address).
pub const MAX_SUMMARY_CHARS: usize = 500;
/// The kinds of entries a timeline keeps here (a contact's messages are
/// the dialog service's, merged in by the gateway).
pub const TIMELINE_KINDS: [&str; 4] = ["order", "mailing", "page_visit", "widget_shown"];

#[derive(Clone)]
pub struct ContactApi {
    pub pool: PgPool,
    pub outbox: Outbox,
}

impl ContactApi {
    /// Stores who a visitor says they are, in one transaction that holds
    /// the visitor's row, so the same visitor's tabs identify one at a time.
    async fn identify(
        &self,
        account_id: uuid::Uuid,
        visitor_id: &str,
        change: &details::Change,
        email_verified: bool,
    ) -> Result<pb::IdentifyVisitorResponse, Error> {
        let mut tx = self.pool.begin().await?;
        let current = db::lock_visitor(&mut tx, account_id, visitor_id)
            .await?
            .ok_or(Error::NotFound("visitor"))?;
        let email = change.email.as_deref().filter(|e| !e.is_empty());
        // Whose contact a verified e-mail is: another contact's that has it;
        // else, when this one is someone else's verified contact (a shared
        // computer), a new one; else this one.
        let target = match (email, email_verified) {
            (Some(email), true) => {
                match db::find_by_email(&mut tx, account_id, email, current.id).await? {
                    Some(other) => Some(other),
                    None if current.email_verified && current.email != email => {
                        Some(db::insert_contact(&mut tx, account_id).await?)
                    }
                    None => None,
                }
            }
            _ => None,
        };
        if let Some(target) = target {
            db::move_visitor(&mut tx, account_id, visitor_id, target).await?;
        }
        let contact_id = target.unwrap_or(current.id);
        let contact: pb::Contact =
            db::identify(&mut tx, account_id, contact_id, change, email_verified)
                .await?
                .into();
        self.commit_with_update(tx, account_id, &contact).await?;
        Ok(pb::IdentifyVisitorResponse {
            contact: Some(contact),
            moved: target.is_some(),
        })
    }

    /// Commits a change of `contact` with its `contact.contact_updated`
    /// event, and wakes the relay.
    async fn commit_with_update(
        &self,
        mut tx: sqlx::Transaction<'_, sqlx::Postgres>,
        account_id: uuid::Uuid,
        contact: &pb::Contact,
    ) -> Result<(), Error> {
        let staged = self
            .outbox
            .enqueue(&mut tx, events::contact_updated(account_id, contact))
            .await?;
        tx.commit().await?;
        self.outbox.committed(staged);
        Ok(())
    }
}

fn is_verified_email_taken(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .and_then(|d| d.constraint())
        .is_some_and(|c| c == "contact_verified_email")
}

pub async fn serve(
    listener: TcpListener,
    api: ContactApi,
    shutdown: Shutdown,
) -> anyhow::Result<()> {
    chat_platform::grpc::serve(listener, server::ContactServiceServer::new(api), shutdown).await
}

/// A visitor id is chosen by the browser: letters, digits, `-` and `_`, 1 to 64 bytes.
pub fn check_visitor_id(visitor_id: &str) -> Result<(), Error> {
    let ok = !visitor_id.is_empty()
        && visitor_id.len() <= MAX_VISITOR_ID_BYTES
        && visitor_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidArgument(format!(
            "visitor_id must be 1 to {MAX_VISITOR_ID_BYTES} letters, digits, '-' or '_'"
        )))
    }
}

/// The messengers whose people become contacts.
pub const MESSENGERS: [&str; 3] = ["telegram", "vk", "facebook"];
/// Longest id of a person on a messenger, in bytes (they are numbers or
/// short tokens on every platform).
pub const MAX_EXTERNAL_ID_BYTES: usize = 128;

/// Checks a messenger user's request; the name comes back trimmed and cut
/// to the longest a contact's name may be (profiles are not ours to refuse).
fn check_messenger_user(req: &pb::ResolveMessengerUserRequest) -> Result<String, Error> {
    let mut problems = Vec::new();
    if !MESSENGERS.contains(&req.channel.as_str()) {
        problems.push(("channel", "must be telegram, vk or facebook".to_owned()));
    }
    let id = &req.external_id;
    if id.is_empty() || id.len() > MAX_EXTERNAL_ID_BYTES || id.chars().any(char::is_control) {
        problems.push((
            "external_id",
            format!("must be 1 to {MAX_EXTERNAL_ID_BYTES} bytes without control characters"),
        ));
    }
    if !problems.is_empty() {
        return Err(Error::Fields(problems));
    }
    let name: String = req
        .name
        .chars()
        .filter(|c| !c.is_control())
        .take(details::MAX_NAME_CHARS)
        .collect();
    Ok(name.trim().to_owned())
}

#[tonic::async_trait]
impl server::ContactService for ContactApi {
    async fn resolve_messenger_user(
        &self,
        request: Request<pb::ResolveMessengerUserRequest>,
    ) -> Result<Response<pb::Contact>, Status> {
        let req = request.get_ref();
        let account_id = parse_id("account_id", &req.account_id)?;
        let name = check_messenger_user(req)?;
        let user = db::MessengerUser {
            channel: &req.channel,
            external_id: &req.external_id,
        };
        if let Some(contact) = db::find_by_messenger(&self.pool, account_id, &user)
            .await
            .map_err(Error::from)?
        {
            // They wrote just now: that is when they were last seen.
            db::touch_seen(&self.pool, account_id, contact.id)
                .await
                .map_err(Error::from)?;
            return Ok(Response::new(contact.into()));
        }
        let contact = match db::insert_messenger_user(&self.pool, account_id, &user, &name)
            .await
            .map_err(Error::from)?
        {
            Some(created) => {
                metrics::counter!("contact_messenger_users_created_total", "channel" => req.channel.clone())
                    .increment(1);
                created
            }
            // Made by a concurrent call between our two statements.
            None => db::find_by_messenger(&self.pool, account_id, &user)
                .await
                .map_err(Error::from)?
                .ok_or(Error::NotFound("contact"))?,
        };
        Ok(Response::new(contact.into()))
    }

    async fn resolve_visitor(
        &self,
        request: Request<pb::ResolveVisitorRequest>,
    ) -> Result<Response<pb::Contact>, Status> {
        let req = request.get_ref();
        let account_id = parse_id("account_id", &req.account_id)?;
        check_visitor_id(&req.visitor_id)?;
        if let Some(contact) = db::find_by_visitor(&self.pool, account_id, &req.visitor_id)
            .await
            .map_err(Error::from)?
        {
            db::touch_seen(&self.pool, account_id, contact.id)
                .await
                .map_err(Error::from)?;
            return Ok(Response::new(contact.into()));
        }
        if req.lookup_only {
            return Ok(Response::new(pb::Contact::default()));
        }
        let new_id = match req.new_contact_id.as_str() {
            "" => uuid::Uuid::now_v7(),
            id => parse_id("new_contact_id", id)?,
        };
        let contact = match db::insert_visitor(&self.pool, account_id, &req.visitor_id, new_id)
            .await
            .map_err(Error::from)?
        {
            Some(created) => {
                metrics::counter!("contact_visitors_created_total").increment(1);
                created
            }
            // Created by a concurrent call between our two statements.
            None => db::find_by_visitor(&self.pool, account_id, &req.visitor_id)
                .await
                .map_err(Error::from)?
                .ok_or(Error::NotFound("contact"))?,
        };
        Ok(Response::new(contact.into()))
    }

    async fn get_contact(
        &self,
        request: Request<pb::GetContactRequest>,
    ) -> Result<Response<pb::Contact>, Status> {
        let req = request.get_ref();
        let account_id = parse_id("account_id", &req.account_id)?;
        let contact_id = parse_id("contact_id", &req.contact_id)?;
        let contact = db::get(&self.pool, account_id, contact_id)
            .await
            .map_err(Error::from)?
            .ok_or(Error::NotFound("contact"))?;
        Ok(Response::new(contact.into()))
    }

    async fn update_contact(
        &self,
        request: Request<pb::UpdateContactRequest>,
    ) -> Result<Response<pb::Contact>, Status> {
        let req = request.into_inner();
        let account_id = parse_id("account_id", &req.account_id)?;
        let contact_id = parse_id("contact_id", &req.contact_id)?;
        let custom_fields = req.replace_custom_fields.then_some(req.custom_fields);
        let change = details::check(req.name, req.email, req.phone, custom_fields)?;
        let mut tx = self.pool.begin().await.map_err(Error::from)?;
        let contact: pb::Contact = db::update(&mut tx, account_id, contact_id, &change)
            .await
            .map_err(Error::from)?
            .ok_or(Error::NotFound("contact"))?
            .into();
        self.commit_with_update(tx, account_id, &contact).await?;
        Ok(Response::new(contact))
    }

    async fn record_activity(
        &self,
        request: Request<pb::RecordActivityRequest>,
    ) -> Result<Response<pb::RecordActivityResponse>, Status> {
        let req = request.into_inner();
        let account_id = parse_id("account_id", &req.account_id)?;
        let contact_id = parse_id("contact_id", &req.contact_id)?;
        let kind = match req.kind.as_str() {
            "page_visit" => "page_visit",
            "widget_shown" => "widget_shown",
            _ => {
                return Err(Error::Fields(vec![(
                    "kind",
                    "must be page_visit or widget_shown".into(),
                )])
                .into());
            }
        };
        if req.ref_id.is_empty() || req.ref_id.len() > MAX_REF_ID_BYTES || req.ref_id.contains('\0')
        {
            return Err(Error::Fields(vec![(
                "ref_id",
                format!("must be 1 to {MAX_REF_ID_BYTES} bytes"),
            )])
            .into());
        }
        db::get(&self.pool, account_id, contact_id)
            .await
            .map_err(Error::from)?
            .ok_or(Error::NotFound("contact"))?;
        let summary: String = req
            .summary
            .chars()
            .filter(|c| *c != '\0')
            .take(MAX_SUMMARY_CHARS)
            .collect();
        let entry = db::NewTimelineEvent {
            account_id,
            contact_id,
            kind,
            ref_id: req.ref_id,
            summary,
            occurred_at: chrono::Utc::now(),
        };
        let recorded = db::insert_timeline_events(&self.pool, &[entry])
            .await
            .map_err(Error::from)?;
        Ok(Response::new(pb::RecordActivityResponse {
            recorded: recorded > 0,
        }))
    }

    async fn identify_visitor(
        &self,
        request: Request<pb::IdentifyVisitorRequest>,
    ) -> Result<Response<pb::IdentifyVisitorResponse>, Status> {
        let req = request.into_inner();
        let account_id = parse_id("account_id", &req.account_id)?;
        check_visitor_id(&req.visitor_id)?;
        let change = details::check(req.name, req.email, req.phone, None)?;
        // Two devices verifying one new e-mail at once: the second to commit
        // meets the unique verified e-mail, and the retry finds the first's
        // contact and moves there.
        let mut retried = false;
        loop {
            match self
                .identify(account_id, &req.visitor_id, &change, req.email_verified)
                .await
            {
                Err(Error::Database(e)) if !retried && is_verified_email_taken(&e) => {
                    retried = true
                }
                result => return Ok(Response::new(result?)),
            }
        }
    }
    async fn search_contacts(
        &self,
        request: Request<pb::SearchContactsRequest>,
    ) -> Result<Response<pb::SearchContactsResponse>, Status> {
        let req = request.get_ref();
        let account_id = parse_id("account_id", &req.account_id)?;
        let query = req.query.trim();
        if query.is_empty() || query.chars().count() > MAX_QUERY_CHARS || query.contains('\0') {
            return Err(Error::Fields(vec![(
                "q",
                format!("must be 1 to {MAX_QUERY_CHARS} characters"),
            )])
            .into());
        }
        let limit = match req.limit {
            0 => DEFAULT_SEARCH_RESULTS,
            n => n.min(MAX_SEARCH_RESULTS),
        } as i64;
        let rows = db::search(&self.pool, account_id, query, limit)
            .await
            .map_err(Error::from)?;
        Ok(Response::new(pb::SearchContactsResponse {
            contacts: rows.into_iter().map(Into::into).collect(),
        }))
    }

    async fn list_timeline(
        &self,
        request: Request<pb::ListTimelineRequest>,
    ) -> Result<Response<pb::ListTimelineResponse>, Status> {
        let req = request.get_ref();
        let account_id = parse_id("account_id", &req.account_id)?;
        let contact_id = parse_id("contact_id", &req.contact_id)?;
        db::get(&self.pool, account_id, contact_id)
            .await
            .map_err(Error::from)?
            .ok_or(Error::NotFound("contact"))?;
        let after = cursor::from_request(&req.cursor)?;
        let limit = match req.limit {
            0 => DEFAULT_PAGE,
            n => n.min(MAX_PAGE),
        } as i64;
        let kind = match req.kind.as_str() {
            "" => None,
            kind if TIMELINE_KINDS.contains(&kind) => Some(kind),
            _ => {
                return Err(Error::Fields(vec![(
                    "kind",
                    format!("must be one of {}", TIMELINE_KINDS.join(", ")),
                )])
                .into());
            }
        };
        let mut rows =
            db::list_timeline(&self.pool, account_id, contact_id, kind, after, limit + 1)
                .await
                .map_err(Error::from)?;
        let next_cursor = cursor::next_page(&mut rows, limit, |r| Keyset {
            at: r.occurred_at,
            id: r.id,
        });
        Ok(Response::new(pb::ListTimelineResponse {
            events: rows.into_iter().map(Into::into).collect(),
            next_cursor,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visitor_ids_are_short_and_plain() {
        assert!(check_visitor_id("v-1_abc").is_ok());
        assert!(check_visitor_id(&"a".repeat(MAX_VISITOR_ID_BYTES)).is_ok());
        for bad in [
            "",
            "a b",
            "<script>",
            "é",
            &"a".repeat(MAX_VISITOR_ID_BYTES + 1),
        ] {
            assert!(check_visitor_id(bad).is_err(), "{bad:?} accepted");
        }
    }
}
