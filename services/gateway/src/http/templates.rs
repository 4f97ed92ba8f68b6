//! Reply templates (Settings, Modules, Reply templates):
//! `GET`/`POST /api/v1/templates`, `PATCH`/`DELETE /api/v1/templates/{id}`.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, patch};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use chat_proto::dialog::v1 as pb;

use super::{Json, path_id};
use crate::api::TemplateOut;
use crate::auth::Manager;
use crate::error::{ErrorOut, Result};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/templates",
            get(list_templates).post(create_template),
        )
        .route(
            "/api/v1/templates/{id}",
            patch(update_template).delete(delete_template),
        )
}

#[derive(Serialize, ToSchema)]
pub struct TemplatesOut {
    /// By name.
    pub templates: Vec<TemplateOut>,
}

/// The account's reply templates, by name.
#[utoipa::path(get, path = "/api/v1/templates", tag = "templates", security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, body = TemplatesOut),
        (status = 401, description = "`unauthorized`", body = ErrorOut),
    ))]
async fn list_templates(
    State(state): State<AppState>,
    manager: Manager,
) -> Result<axum::Json<TemplatesOut>> {
    let request = pb::ListTemplatesRequest {
        account_id: manager.account_id.to_string(),
    };
    let list = state
        .dialogs
        .clone()
        .list_templates(request)
        .await?
        .into_inner();
    Ok(axum::Json(TemplatesOut {
        templates: list.templates.into_iter().map(TemplateOut::from).collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateIn {
    /// 1 to 100 characters, not all blank, unique in the account whatever the case.
    #[schema(min_length = 1, max_length = 100, pattern = "\\S")]
    pub name: String,
    /// 1 to 4096 characters, not all blank.
    #[schema(min_length = 1, max_length = 4096, pattern = "\\S")]
    pub text: String,
}

/// Adds a template.
#[utoipa::path(post, path = "/api/v1/templates", tag = "templates", request_body = TemplateIn, security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 201, body = TemplateOut),
        (status = 400, description = "`bad_request`", body = ErrorOut),
        (status = 401, description = "`unauthorized`", body = ErrorOut),
        (status = 403, description = "`csrf`", body = ErrorOut),
        (status = 409, description = "`conflict`: a template has this name (`fields.name`)", body = ErrorOut),
        (status = 415, description = "`unsupported_media_type`", body = ErrorOut),
        (status = 422, description = "`invalid`: empty or too long (`fields`)", body = ErrorOut),
    ))]
async fn create_template(
    State(state): State<AppState>,
    manager: Manager,
    Json(body): Json<TemplateIn>,
) -> Result<(StatusCode, axum::Json<TemplateOut>)> {
    let request = pb::CreateTemplateRequest {
        account_id: manager.account_id.to_string(),
        name: body.name,
        text: body.text,
    };
    let template = state
        .dialogs
        .clone()
        .create_template(request)
        .await?
        .into_inner();
    Ok((StatusCode::CREATED, axum::Json(template.into())))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateChangeIn {
    #[schema(min_length = 1, max_length = 100, pattern = "\\S")]
    pub name: Option<String>,
    #[schema(min_length = 1, max_length = 4096, pattern = "\\S")]
    pub text: Option<String>,
}

/// Changes a template's name or text.
#[utoipa::path(patch, path = "/api/v1/templates/{id}", tag = "templates", request_body = TemplateChangeIn,
    params(("id" = String, Path, description = "The template's id")), security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, body = TemplateOut),
        (status = 400, description = "`bad_request`", body = ErrorOut),
        (status = 401, description = "`unauthorized`", body = ErrorOut),
        (status = 403, description = "`csrf`", body = ErrorOut),
        (status = 404, description = "`not_found`", body = ErrorOut),
        (status = 409, description = "`conflict`: a template has this name", body = ErrorOut),
        (status = 415, description = "`unsupported_media_type`", body = ErrorOut),
        (status = 422, description = "`invalid` (`fields`)", body = ErrorOut),
    ))]
async fn update_template(
    State(state): State<AppState>,
    manager: Manager,
    Path(id): Path<String>,
    Json(body): Json<TemplateChangeIn>,
) -> Result<axum::Json<TemplateOut>> {
    let request = pb::UpdateTemplateRequest {
        account_id: manager.account_id.to_string(),
        template_id: path_id(&id, "template")?.to_string(),
        name: body.name,
        text: body.text,
    };
    let template = state
        .dialogs
        .clone()
        .update_template(request)
        .await?
        .into_inner();
    Ok(axum::Json(template.into()))
}

/// Deletes a template.
#[utoipa::path(delete, path = "/api/v1/templates/{id}", tag = "templates",
    params(("id" = String, Path, description = "The template's id")), security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "`unauthorized`", body = ErrorOut),
        (status = 403, description = "`csrf`", body = ErrorOut),
        (status = 404, description = "`not_found`", body = ErrorOut),
    ))]
async fn delete_template(
    State(state): State<AppState>,
    manager: Manager,
    Path(id): Path<String>,
) -> Result<StatusCode> {
    let request = pb::DeleteTemplateRequest {
        account_id: manager.account_id.to_string(),
        template_id: path_id(&id, "template")?.to_string(),
    };
    state.dialogs.clone().delete_template(request).await?;
    Ok(StatusCode::NO_CONTENT)
}
