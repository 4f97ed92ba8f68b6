//! `GET /api/v1/onboarding`: what a new shop has done of its first steps,
//! as the suite sees it, for the console's getting-started checklist: the
//! widget seen on the shop's site, a messenger connected, a colleague
//! added, the shop's own titles and messages.

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use serde::Serialize;
use utoipa::ToSchema;

use chat_proto::bridge::v1 as bridge_pb;

use crate::auth::Manager;
use crate::db;
use crate::error::{ErrorOut, Result};
use crate::state::AppState;
use crate::widget;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/onboarding", get(get_onboarding))
}

/// The first steps of a shop, each done or not.
#[derive(Serialize, ToSchema)]
pub struct OnboardingOut {
    /// The widget has been seen on a page of the shop's site (the snippet is in).
    pub widget_seen: bool,
    /// That page's address; null until then.
    pub widget_seen_url: Option<String>,
    /// A messenger (Telegram, VK, Facebook) is connected; null when the
    /// bridge cannot be asked now.
    pub messenger_connected: Option<bool>,
    /// The shop has more than one manager.
    pub team_invited: bool,
    /// The widget's titles and messages are the shop's own, not the ones it
    /// started with.
    pub messages_set: bool,
}

/// What the shop has done of its first steps.
#[utoipa::path(get, path = "/api/v1/onboarding", tag = "widget", security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, body = OnboardingOut),
        (status = 401, description = "`unauthorized`", body = ErrorOut),
    ))]
async fn get_onboarding(
    State(state): State<AppState>,
    manager: Manager,
) -> Result<axum::Json<OnboardingOut>> {
    let account_id = manager.account_id;
    let seen = widget::seen::first(&state.pool, account_id).await?;
    let settings = widget::db::by_account(&state.pool, account_id).await?;
    let managers = db::list_managers(&state.pool, account_id, 0).await?;
    let integrations = state
        .bridge
        .clone()
        .list_integrations(bridge_pb::ListIntegrationsRequest {
            account_id: account_id.to_string(),
        })
        .await;
    Ok(axum::Json(OnboardingOut {
        widget_seen: seen.is_some(),
        widget_seen_url: seen.map(|(_, url)| url),
        messenger_connected: integrations
            .ok()
            .map(|list| !list.into_inner().integrations.is_empty()),
        team_invited: managers.iter().filter(|m| m.active).count() > 1,
        messages_set: settings.has_own_words(),
    }))
}
