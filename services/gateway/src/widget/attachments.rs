//! Files in the widget: a visitor uploads one for their dialog
//! (`POST /widget/v1/attachments?site_key=…&name=…`), sends it by id in a
//! `send` frame, and fetches the files of their dialog, theirs and the
//! shop's (`GET /widget/v1/attachments/{id}?site_key=…`, an image's small
//! copy at `…/thumbnail`). Each request brings the visitor's token as
//! `Authorization: Bearer`, from a page of the account's allowed sites; a
//! file of any other dialog is not found. The token rides a header, never
//! a cookie, so any origin may ask (CORS) and the site is checked here.

use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;
use tower_http::cors::{AllowOrigin, CorsLayer};
use uuid::Uuid;

use chat_proto::dialog::v1 as pb;

use super::public::request_origin;
use super::{credential, db};
use crate::api::AttachmentOut;
use crate::client_address::ClientAddress;
use crate::error::{Error, Result};
use crate::http::Query;
use crate::http::attachments::{MAX_UPLOAD_BODY_BYTES, Upload, fetch};
use crate::state::AppState;

#[derive(Deserialize)]
pub struct UploadQuery {
    site_key: String,
    name: String,
}

#[derive(Deserialize)]
pub struct SiteQuery {
    site_key: String,
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/widget/v1/attachments",
            post(upload)
                .options(preflight)
                .layer(DefaultBodyLimit::max(MAX_UPLOAD_BODY_BYTES)),
        )
        .route(
            "/widget/v1/attachments/{id}",
            get(original).options(preflight),
        )
        .route(
            "/widget/v1/attachments/{id}/thumbnail",
            get(thumbnail).options(preflight),
        )
        // Answers the browser's preflights (and names the page's origin on
        // every answer).
        .layer(
            CorsLayer::new()
                .allow_origin(AllowOrigin::mirror_request())
                .allow_methods([Method::GET, Method::POST])
                .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
                .max_age(Duration::from_secs(600)),
        )
}

/// A preflight the CORS layer did not answer (not one from a browser).
async fn preflight() -> StatusCode {
    StatusCode::NO_CONTENT
}

/// The visitor a request comes from: the account whose site key it names
/// (chat on, the page one of its sites) and the contact their token stands for.
struct WidgetVisitor {
    account_id: Uuid,
    visitor_id: String,
    contact_id: Uuid,
}

async fn visitor(state: &AppState, headers: &HeaderMap, site_key: &str) -> Result<WidgetVisitor> {
    let site = db::by_site_key(&state.pool, site_key)
        .await?
        .ok_or(Error::NotFound("site key"))?;
    if !site.enabled {
        return Err(Error::Forbidden("the chat is off"));
    }
    if !site.allows_origin(request_origin(headers)) {
        return Err(Error::Forbidden("this site may not embed the widget"));
    }
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .ok_or(Error::Unauthorized)?;
    let visitor_id =
        credential::verify(&site.visitor_key, token.trim()).ok_or(Error::Unauthorized)?;
    Ok(WidgetVisitor {
        account_id: site.account_id,
        contact_id: credential::contact_id_for(site.account_id, &visitor_id),
        visitor_id,
    })
}

/// Keeps a file the visitor chose, for their dialog; they send it by id.
async fn upload(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    Query(query): Query<UploadQuery>,
    Upload(body): Upload,
) -> Result<(StatusCode, axum::Json<AttachmentOut>)> {
    let visitor = visitor(&state, &headers, &query.site_key).await?;
    if crate::blocks::is_blocked(&state, visitor.account_id, &visitor.visitor_id, address).await? {
        return Err(Error::Forbidden("blocked"));
    }
    state.upload_limits.visitor(address)?;
    let request = pb::PutFileRequest {
        account_id: visitor.account_id.to_string(),
        dialog_id: String::new(),
        contact_id: visitor.contact_id.to_string(),
        uploader_kind: pb::AuthorKind::Visitor as i32,
        uploader_id: visitor.contact_id.to_string(),
        client_file_id: String::new(),
        name: query.name,
        data: body.into(),
    };
    let file = state.dialogs.clone().put_file(request).await?.into_inner();
    Ok((StatusCode::CREATED, axum::Json(file.into())))
}

async fn original(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(query): Query<SiteQuery>,
) -> Result<Response> {
    visitor_file(&state, &headers, &query.site_key, &id, false).await
}

async fn thumbnail(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(query): Query<SiteQuery>,
) -> Result<Response> {
    visitor_file(&state, &headers, &query.site_key, &id, true).await
}

/// A file of the asking visitor's own dialog (or its thumbnail).
async fn visitor_file(
    state: &AppState,
    headers: &HeaderMap,
    site_key: &str,
    file_id: &str,
    thumbnail: bool,
) -> Result<Response> {
    let visitor = visitor(state, headers, site_key).await?;
    let contact_id = Some(visitor.contact_id);
    fetch(state, visitor.account_id, contact_id, file_id, thumbnail).await
}
