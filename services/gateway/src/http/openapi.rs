//! The OpenAPI document of the REST API, generated from the handlers
//! (`utoipa`), served at `GET /api/v1/openapi.json`. The sockets are
//! described in docs/api.md: OpenAPI has no words for them.

use axum::Router;
use axum::routing::get;
use serde::Serialize;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Online consultant suite",
        description = "REST API of the gateway: managers sign in, read dialogs and reply. \
                       The visitor and manager sockets are described in docs/api.md."
    ),
    paths(
        super::auth::login,
        super::auth::logout,
        super::auth::me,
        super::dialogs::list_dialogs,
        super::dialogs::get_dialog,
        super::dialogs::list_messages,
        super::dialogs::post_message,
    ),
    modifiers(&BearerToken),
    tags((name = "auth", description = "Managers' sessions"), (name = "dialogs", description = "Dialogs and messages"))
)]
pub struct ApiDoc;

/// The one shape of every error answer.
#[derive(Serialize, ToSchema)]
#[schema(as = Error)]
pub struct ErrorOut {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable, for programs: `bad_request`, `unauthorized`, `bad_credentials`,
    /// `not_found`, `method_not_allowed`, `too_large`, `unsupported_media_type`,
    /// `invalid`, `unavailable`, `internal`.
    pub code: String,
    /// For people.
    pub message: String,
}

struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

pub fn router() -> Router<AppState> {
    let document = ApiDoc::openapi()
        .to_json()
        .expect("the OpenAPI document serializes");
    Router::new().route(
        "/api/v1/openapi.json",
        get(move || {
            let document = document.clone();
            async move {
                (
                    [(axum::http::header::CONTENT_TYPE, "application/json")],
                    document,
                )
            }
        }),
    )
}
