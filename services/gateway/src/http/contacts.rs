//! Contacts in the console: search, the customer panel, editing, the
//! timeline, and writing to a contact found by search.
//!
//! - `GET   /api/v1/contacts?q=&limit=`
//! - `GET   /api/v1/contacts/{id}`, `PATCH /api/v1/contacts/{id}`
//! - `GET   /api/v1/contacts/{id}/timeline?kind=&limit=&cursor=`
//! - `POST  /api/v1/contacts/{id}/messages` `{client_message_id, text}`

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use chat_proto::contact::v1 as pb;
use chat_proto::dialog::v1 as dialog_pb;

use super::{Json, Query, path_id};
use crate::api::{ContactOut, DialogOut, MessageOut, TimelineEventOut};
use crate::auth::Manager;
use crate::error::{Error, ErrorOut, Result};
use crate::replies;
use crate::state::AppState;
use crate::timeline;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/contacts", get(search_contacts))
        .route(
            "/api/v1/contacts/{id}",
            get(get_contact).patch(update_contact),
        )
        .route("/api/v1/contacts/{id}/timeline", get(list_timeline))
        .route("/api/v1/contacts/{id}/messages", post(write_to_contact))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchIn {
    /// A name, e-mail or phone, or any part of one (1 to 200 characters, not all blank).
    #[param(min_length = 1, max_length = 200, pattern = "\\S")]
    pub q: String,
    /// 1 to 50, default 20.
    #[param(minimum = 1, maximum = 50)]
    pub limit: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct ContactsOut {
    /// Best matches first.
    pub contacts: Vec<ContactOut>,
}

/// The account's contacts whose name, e-mail or phone contains `q`, best
/// matches first.
#[utoipa::path(get, path = "/api/v1/contacts", tag = "contacts", params(SearchIn), security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, body = ContactsOut),
        (status = 400, description = "`bad_request`: `q` is missing", body = ErrorOut),
        (status = 401, description = "`unauthorized`", body = ErrorOut),
        (status = 422, description = "`invalid`: an empty or too long `q`, a bad limit", body = ErrorOut),
    ))]
async fn search_contacts(
    State(state): State<AppState>,
    manager: Manager,
    Query(query): Query<SearchIn>,
) -> Result<axum::Json<ContactsOut>> {
    let limit = match query.limit {
        None => 0,
        Some(n @ 1..=50) => n,
        Some(_) => return Err(Error::field("limit", "must be 1 to 50")),
    };
    let request = pb::SearchContactsRequest {
        account_id: manager.account_id.to_string(),
        query: query.q,
        limit,
    };
    let found = state
        .contacts
        .clone()
        .search_contacts(request)
        .await?
        .into_inner();
    Ok(axum::Json(ContactsOut {
        contacts: found.contacts.into_iter().map(ContactOut::from).collect(),
    }))
}

async fn fetch_contact(
    state: &AppState,
    manager: &Manager,
    contact_id: Uuid,
) -> Result<pb::Contact> {
    let request = pb::GetContactRequest {
        account_id: manager.account_id.to_string(),
        contact_id: contact_id.to_string(),
    };
    Ok(state
        .contacts
        .clone()
        .get_contact(request)
        .await?
        .into_inner())
}

/// A contact of the manager's account; or, for a visitor online on the
/// shop's site who has no contact yet (they have not written), theirs,
/// created now with the id the visitors list shows for them.
async fn contact_or_visitor_online(
    state: &AppState,
    manager: &Manager,
    contact_id: Uuid,
) -> Result<pb::Contact> {
    let missing = match fetch_contact(state, manager, contact_id).await {
        Err(Error::NotFound(what)) => Error::NotFound(what),
        found => return found,
    };
    let Some(visitor_id) = state.presence.visitor_id_of(manager.account_id, contact_id) else {
        return Err(missing);
    };
    let request = pb::ResolveVisitorRequest {
        account_id: manager.account_id.to_string(),
        visitor_id,
        lookup_only: false,
        new_contact_id: contact_id.to_string(),
    };
    Ok(state
        .contacts
        .clone()
        .resolve_visitor(request)
        .await?
        .into_inner())
}

/// One contact of the account.
#[utoipa::path(get, path = "/api/v1/contacts/{id}", tag = "contacts",
    params(("id" = String, Path, description = "The contact's id")), security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, body = ContactOut),
        (status = 401, description = "`unauthorized`", body = ErrorOut),
        (status = 404, description = "`not_found`", body = ErrorOut),
    ))]
async fn get_contact(
    State(state): State<AppState>,
    manager: Manager,
    Path(id): Path<String>,
) -> Result<axum::Json<ContactOut>> {
    let contact = fetch_contact(&state, &manager, path_id(&id, "contact")?).await?;
    Ok(axum::Json(contact.into()))
}

fn custom_fields_schema() -> utoipa::openapi::schema::Object {
    use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, Type};
    let name = ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(64))
        .pattern(Some("\\S"));
    let value = ObjectBuilder::new()
        .schema_type(Type::String)
        .max_length(Some(1000));
    ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::SchemaType::from_iter([
            Type::Object,
            Type::Null,
        ]))
        .max_properties(Some(50))
        .property_names(Some(name))
        .additional_properties(Some(AdditionalProperties::RefOr(value.into())))
        .build()
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactChangeIn {
    /// Up to 200 characters; empty clears it.
    #[schema(max_length = 200)]
    pub name: Option<String>,
    /// An e-mail address (`user@domain.tld`); empty clears it.
    #[schema(
        max_length = 254,
        pattern = "^$|^[A-Za-z0-9_%+-]+(\\.[A-Za-z0-9_%+-]+)*@[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*\\.[A-Za-z]{2,}$"
    )]
    pub email: Option<String>,
    /// 5 to 15 digits, an optional `+`, spaces, dashes, dots and brackets; empty clears it.
    #[schema(pattern = "^$|^\\+?[ ().-]*([0-9][ ().-]*){5,15}$")]
    pub phone: Option<String>,
    /// Replaces every custom field: at most 50, names 1 to 64 characters
    /// (not all blank), values up to 1000.
    #[schema(schema_with = custom_fields_schema)]
    pub custom_fields: Option<HashMap<String, String>>,
}

/// Changes a contact's details; every field is checked and all are saved or
/// none. Other managers see the change live (`contact_updated`).
#[utoipa::path(patch, path = "/api/v1/contacts/{id}", tag = "contacts", request_body = ContactChangeIn,
    params(("id" = String, Path, description = "The contact's id")), security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, body = ContactOut),
        (status = 400, description = "`bad_request`", body = ErrorOut),
        (status = 401, description = "`unauthorized`", body = ErrorOut),
        (status = 403, description = "`csrf`", body = ErrorOut),
        (status = 404, description = "`not_found`", body = ErrorOut),
        (status = 415, description = "`unsupported_media_type`", body = ErrorOut),
        (status = 422, description = "`invalid`: a bad e-mail, phone or field (`fields`)", body = ErrorOut),
    ))]
async fn update_contact(
    State(state): State<AppState>,
    manager: Manager,
    Path(id): Path<String>,
    Json(body): Json<ContactChangeIn>,
) -> Result<axum::Json<ContactOut>> {
    let request = pb::UpdateContactRequest {
        account_id: manager.account_id.to_string(),
        contact_id: path_id(&id, "contact")?.to_string(),
        name: body.name,
        email: body.email,
        phone: body.phone,
        replace_custom_fields: body.custom_fields.is_some(),
        custom_fields: body.custom_fields.unwrap_or_default(),
    };
    let contact = state
        .contacts
        .clone()
        .update_contact(request)
        .await?
        .into_inner();
    Ok(axum::Json(contact.into()))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TimelineIn {
    /// `message`, `order`, `mailing`, `page_visit` or `widget_shown`; absent: every kind.
    #[param(pattern = "^(message|order|mailing|page_visit|widget_shown)$")]
    pub kind: Option<String>,
    /// 1 to 200, default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(
        pattern = "^e(s|d|-?[0-9]{1,16}_[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\\.m(s|d|[1-9][0-9]{0,17})$"
    )]
    pub cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct TimelineOut {
    /// Newest first.
    pub events: Vec<TimelineEventOut>,
    pub next_cursor: Option<String>,
}

/// What the contact did, newest first, optionally of one kind (the event filter).
#[utoipa::path(get, path = "/api/v1/contacts/{id}/timeline", tag = "contacts",
    params(("id" = String, Path, description = "The contact's id"), TimelineIn), security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, body = TimelineOut),
        (status = 400, description = "`bad_request`", body = ErrorOut),
        (status = 401, description = "`unauthorized`", body = ErrorOut),
        (status = 404, description = "`not_found`", body = ErrorOut),
        (status = 422, description = "`invalid`: an unknown kind, a bad limit or cursor", body = ErrorOut),
    ))]
async fn list_timeline(
    State(state): State<AppState>,
    manager: Manager,
    Path(id): Path<String>,
    Query(query): Query<TimelineIn>,
) -> Result<axum::Json<TimelineOut>> {
    let cursor = super::cursor_param(query.cursor)?;
    let request = timeline::Request {
        account_id: manager.account_id,
        contact_id: path_id(&id, "contact")?,
        kind: match query.kind.as_deref() {
            Some("") => return Err(Error::field("kind", "is empty")),
            kind => kind,
        },
        limit: match super::page_limit(query.limit)? {
            0 => timeline::DEFAULT_PAGE,
            n => n,
        },
        cursor: (!cursor.is_empty()).then_some(cursor.as_str()),
    };
    let page = timeline::page(&state, request).await?;
    Ok(axum::Json(TimelineOut {
        events: page.events,
        next_cursor: page.next_cursor,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WriteIn {
    /// 1 to 64 characters; the same id again stores nothing new.
    #[schema(min_length = 1, max_length = 64)]
    pub client_message_id: String,
    /// 1 to 4096 characters, not all blank.
    #[schema(min_length = 1, max_length = 4096, pattern = "\\S")]
    pub text: String,
}

#[derive(Serialize, ToSchema)]
pub struct WrittenOut {
    pub dialog: DialogOut,
    pub message: MessageOut,
    pub duplicate: bool,
}

/// Writes to a contact: into their dialog (opened, or reopened when closed);
/// a dialog nobody had becomes yours. A visitor online sees it at once.
#[utoipa::path(post, path = "/api/v1/contacts/{id}/messages", tag = "contacts", request_body = WriteIn,
    params(("id" = String, Path, description = "The contact's id")), security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 201, description = "Stored", body = WrittenOut),
        (status = 200, description = "Stored before under this `client_message_id`", body = WrittenOut),
        (status = 400, description = "`bad_request`", body = ErrorOut),
        (status = 401, description = "`unauthorized`", body = ErrorOut),
        (status = 403, description = "`csrf`", body = ErrorOut),
        (status = 404, description = "`not_found`", body = ErrorOut),
        (status = 415, description = "`unsupported_media_type`", body = ErrorOut),
        (status = 422, description = "`invalid`: empty or too long text, a bad id", body = ErrorOut),
        (status = 503, description = "`unavailable`: nothing stored; send it again", body = ErrorOut),
    ))]
async fn write_to_contact(
    State(state): State<AppState>,
    manager: Manager,
    Path(id): Path<String>,
    Json(body): Json<WriteIn>,
) -> Result<(StatusCode, axum::Json<WrittenOut>)> {
    let contact_id = path_id(&id, "contact")?;
    // Another account's contact is "not found", before anything is written;
    // a visitor's contact made now may be one they already had.
    let contact = contact_or_visitor_online(&state, &manager, contact_id).await?;
    let contact_id = path_id(&contact.id, "contact")?;
    let (message, duplicate) = replies::post_as_manager(
        &state,
        &manager,
        replies::To::Contact(contact_id),
        &body.client_message_id,
        body.text,
        Vec::new(),
        // Where they last wrote from (the site chat while they have not).
        dialog_pb::Channel::Unspecified,
    )
    .await?;
    let dialog_id = path_id(&message.dialog_id, "dialog")?;
    let dialog = super::dialogs::viewed_dialog(&state, &manager, dialog_id).await?;
    let status = match duplicate {
        true => StatusCode::OK,
        false => StatusCode::CREATED,
    };
    Ok((
        status,
        axum::Json(WrittenOut {
            dialog: DialogOut::viewed(dialog),
            message,
            duplicate,
        }),
    ))
}
