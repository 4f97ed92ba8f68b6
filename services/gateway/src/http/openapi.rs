//! The OpenAPI document of the REST API, generated from the handlers
//! (`utoipa`), served at `GET /api/v1/openapi.json`. The sockets are
//! described in docs/api.md: OpenAPI has no words for them.

use axum::Router;
use axum::routing::get;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Online consultant suite",
        description = "REST API of the gateway: managers sign in, work through dialogs, \
                       notes, templates and contacts, and manage their team. The visitor and \
                       manager sockets are described in docs/api.md. Cookie sessions (the \
                       console) send `X-CSRF-Token` on every request that changes something."
    ),
    paths(
        super::auth::login,
        super::auth::logout,
        super::auth::me,
        super::auth::change_me,
        super::auth::accept_invitation,
        super::password_reset::request_reset,
        super::password_reset::confirm_reset,
        super::dialogs::list_dialogs,
        super::dialogs::count_dialogs,
        super::dialogs::get_dialog,
        super::dialogs::list_messages,
        super::dialogs::post_message,
        super::attachments::upload,
        super::attachments::original,
        super::attachments::thumbnail,
        super::dialogs::assign_dialog,
        super::dialogs::close_dialog,
        super::dialogs::reopen_dialog,
        super::dialogs::mark_read,
        super::notes::list_notes,
        super::notes::add_note,
        super::held_answers::list_held_answers,
        super::held_answers::accept_held_answer,
        super::templates::list_templates,
        super::templates::create_template,
        super::templates::update_template,
        super::templates::delete_template,
        super::notifications::get_preferences,
        super::notifications::set_preferences,
        super::notifications::get_account_mail,
        super::notifications::set_account_mail,
        super::account_smtp::get_server,
        super::account_smtp::set_server,
        super::account_smtp::remove_server,
        super::unsubscribe::ask_first,
        super::unsubscribe::unsubscribe,
        super::notifications::push_key,
        super::notifications::subscribe,
        super::notifications::unsubscribe,
        super::contacts::search_contacts,
        super::contacts::get_contact,
        super::contacts::update_contact,
        super::contacts::list_timeline,
        super::contacts::write_to_contact,
        super::team::list_managers,
        super::team::add_manager,
        super::team::edit_manager,
        super::team::list_sessions,
        super::team::end_session,
        super::team::end_other_sessions,
        super::widget::get_settings,
        super::onboarding::get_onboarding,
        super::widget::save_settings,
        super::widget::preview_hidden_pages,
        super::widget::rotate_identity_secret,
        super::widget::list_visitors,
        super::integrations::list_integrations,
        super::integrations::connect_integration,
        super::integrations::disconnect_integration,
        super::files::file,
        super::blocks::block_contact,
        super::blocks::list_blocks,
        super::blocks::lift_block,
        super::blocks::bulk_action,
    ),
    modifiers(&SecuritySchemes),
    tags(
        (name = "auth", description = "Signing in and out"),
        (name = "dialogs", description = "Dialogs and messages"),
        (name = "notes", description = "Managers' notes on dialogs"),
        (name = "templates", description = "Reply templates"),
        (name = "notifications", description = "E-mail and push while away; how the shop's e-mails are signed"),
        (name = "contacts", description = "Contacts, search and timelines"),
        (name = "managers", description = "The account's managers"),
        (name = "sessions", description = "My sessions on my devices"),
        (name = "widget", description = "The consultant's settings: the widget on the shop's pages"),
        (name = "visitors", description = "Visitors on the site now"),
        (name = "blocks", description = "Blocked visitors"),
        (name = "integrations", description = "Messengers: Telegram, VK and Facebook Messenger, their health, and the files people send through them"),
    )
)]
pub struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
        components.add_security_scheme(
            "cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
                crate::auth::SESSION_COOKIE,
            ))),
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
