//! The consultant's settings (Settings, Online consultant) and the visitors
//! on the site now (Analytics): `GET`/`PUT /api/v1/widget/settings`,
//! `POST /api/v1/widget/settings/preview`, `POST /api/v1/widget/identity-secret`
//! and `GET /api/v1/visitors`.

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Json;
use crate::auth::Manager;
use crate::error::{Error, ErrorOut, Result};
use crate::presence::VisitorOut;
use crate::state::AppState;
use crate::widget::db as widget_db;
use crate::widget::live;
use crate::widget::patterns::HiddenPages;
use crate::widget::settings::{self, HiddenPagePattern, PhotoChange, SettingsIn, SettingsOut};

/// The settings with a photo in base64 (1 MiB of image is 1.4 MiB of text).
pub const MAX_SETTINGS_BODY_BYTES: usize = 2 * 1024 * 1024;
/// The most URLs one preview checks.
pub const MAX_PREVIEW_URLS: usize = 20;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/widget/settings",
            get(get_settings)
                .put(save_settings)
                .layer(DefaultBodyLimit::max(MAX_SETTINGS_BODY_BYTES)),
        )
        .route(
            "/api/v1/widget/settings/preview",
            post(preview_hidden_pages),
        )
        .route(
            "/api/v1/widget/identity-secret",
            post(rotate_identity_secret),
        )
        .route("/api/v1/visitors", get(list_visitors))
}

/// The account's widget settings.
#[utoipa::path(get, path = "/api/v1/widget/settings", tag = "widget", security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, body = SettingsOut),
        (status = 401, description = "`unauthorized`", body = ErrorOut),
    ))]
async fn get_settings(
    State(state): State<AppState>,
    manager: Manager,
) -> Result<axum::Json<SettingsOut>> {
    let saved = widget_db::by_account(&state.pool, manager.account_id).await?;
    Ok(axum::Json(SettingsOut::new(
        &saved,
        manager.role.manages_team(),
    )))
}

/// Saves every field of the settings, and the photo, or nothing.
#[utoipa::path(put, path = "/api/v1/widget/settings", tag = "widget", request_body = SettingsIn, security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, body = SettingsOut),
        (status = 400, description = "`bad_request`", body = ErrorOut),
        (status = 401, description = "`unauthorized`", body = ErrorOut),
        (status = 403, description = "`forbidden`: managers may not; `csrf`", body = ErrorOut),
        (status = 413, description = "`too_large`: over 2 MiB", body = ErrorOut),
        (status = 415, description = "`unsupported_media_type`", body = ErrorOut),
        (status = 422, description = "`invalid`: `fields` names every bad field", body = ErrorOut),
    ))]
async fn save_settings(
    State(state): State<AppState>,
    manager: Manager,
    Json(body): Json<SettingsIn>,
) -> Result<axum::Json<SettingsOut>> {
    manager.must_manage_settings()?;
    let valid = settings::validate(body)?;
    if let PhotoChange::Replace(photo) = &valid.photo {
        // Decoded whole off the request's worker, within the replica's budget.
        let checked = state.photo_decoding.verify(photo).await;
        checked.map_err(|problem| Error::InvalidFields(vec![("offline_photo".into(), problem)]))?;
    }
    let saved = widget_db::save(&state.pool, manager.account_id, &valid).await?;
    live::announce(&state, manager.account_id).await;
    Ok(axum::Json(SettingsOut::new(&saved, true)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewIn {
    /// Patterns as in the settings (unsaved).
    #[schema(max_items = 50, inline, value_type = Vec<HiddenPagePattern>)]
    pub hidden_pages: Vec<String>,
    /// Up to 20 page addresses.
    #[schema(max_items = 20)]
    pub urls: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct PreviewOut {
    pub urls: Vec<PreviewedUrl>,
}

#[derive(Serialize, ToSchema)]
pub struct PreviewedUrl {
    pub url: String,
    /// Whether the widget shows on this page.
    pub shown: bool,
    /// The first pattern that hides it.
    pub pattern: Option<String>,
}

/// Which pages would show the widget with these patterns.
#[utoipa::path(post, path = "/api/v1/widget/settings/preview", tag = "widget", request_body = PreviewIn, security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, body = PreviewOut),
        (status = 400, description = "`bad_request`", body = ErrorOut),
        (status = 401, description = "`unauthorized`", body = ErrorOut),
        (status = 403, description = "`csrf`", body = ErrorOut),
        (status = 415, description = "`unsupported_media_type`", body = ErrorOut),
        (status = 422, description = "`invalid`: a pattern that does not parse, too many (`fields`)", body = ErrorOut),
    ))]
async fn preview_hidden_pages(
    _manager: Manager,
    Json(body): Json<PreviewIn>,
) -> Result<axum::Json<PreviewOut>> {
    if body.urls.len() > MAX_PREVIEW_URLS {
        return Err(Error::field(
            "urls",
            format!("has more than {MAX_PREVIEW_URLS}"),
        ));
    }
    if body.hidden_pages.len() > crate::widget::patterns::MAX_PATTERNS {
        return Err(Error::field("hidden_pages", "has too many patterns"));
    }
    let pages = HiddenPages::parse(&body.hidden_pages).map_err(|problems| {
        Error::InvalidFields(
            problems
                .into_iter()
                .map(|(i, problem)| (format!("hidden_pages[{i}]"), problem))
                .collect(),
        )
    })?;
    let urls = body
        .urls
        .into_iter()
        .map(|url| {
            let pattern = pages.hiding(&url).map(str::to_owned);
            PreviewedUrl {
                shown: pattern.is_none(),
                url,
                pattern,
            }
        })
        .collect();
    Ok(axum::Json(PreviewOut { urls }))
}

/// A new identity secret; the old one stops verifying at once.
#[utoipa::path(post, path = "/api/v1/widget/identity-secret", tag = "widget", security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, body = SettingsOut),
        (status = 401, description = "`unauthorized`", body = ErrorOut),
        (status = 403, description = "`forbidden`: managers may not; `csrf`", body = ErrorOut),
    ))]
async fn rotate_identity_secret(
    State(state): State<AppState>,
    manager: Manager,
) -> Result<axum::Json<SettingsOut>> {
    manager.must_manage_settings()?;
    let saved = widget_db::rotate_identity_secret(&state.pool, manager.account_id).await?;
    live::announce(&state, manager.account_id).await;
    Ok(axum::Json(SettingsOut::new(&saved, true)))
}

#[derive(Serialize, ToSchema)]
pub struct VisitorsOut {
    /// The latest arrival first.
    pub visitors: Vec<VisitorOut>,
}

/// Who has a page with the widget open now.
#[utoipa::path(get, path = "/api/v1/visitors", tag = "visitors", security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, body = VisitorsOut),
        (status = 401, description = "`unauthorized`", body = ErrorOut),
    ))]
async fn list_visitors(
    State(state): State<AppState>,
    manager: Manager,
) -> Result<axum::Json<VisitorsOut>> {
    Ok(axum::Json(VisitorsOut {
        visitors: state.presence.visitors(manager.account_id),
    }))
}
