//! Managers' sign-in: `POST /api/v1/auth/login`, `POST /api/v1/auth/logout`,
//! `GET /api/v1/me`, and `POST /api/v1/auth/invitation` (a new manager sets
//! their password).

use axum::Router;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::Json;
use crate::auth::{self, Manager};
use crate::credentials::{Device, token_hash};
use crate::db;
use crate::error::{Error, ErrorOut, Fields, Result};
use crate::state::AppState;
use crate::team;
use crate::widget::settings::LANGUAGES;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/auth/login", post(login))
        .route("/api/v1/auth/logout", post(logout))
        .route("/api/v1/auth/invitation", post(accept_invitation))
        .route("/api/v1/me", get(me).patch(change_me))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginIn {
    pub email: String,
    pub password: String,
    /// The shop to sign in to, when the e-mail manages several (a login
    /// without it then answers 409 `account_choice` with the shops).
    #[serde(default)]
    pub account_id: Option<Uuid>,
    /// `true` (the console): the session goes into an HttpOnly cookie and the
    /// answer carries `csrf_token` instead of `token`.
    #[serde(default)]
    pub cookie: bool,
}

/// A manager of a shop.
#[derive(Serialize, ToSchema)]
#[schema(as = Manager)]
pub struct ManagerOut {
    pub id: Uuid,
    pub account_id: Uuid,
    pub email: String,
    pub name: String,
    /// `owner`, `admin` or `manager`.
    #[schema(example = "manager")]
    pub role: String,
    /// Deactivated managers cannot sign in.
    pub active: bool,
    /// Signed in and active within the idle limit.
    pub online: bool,
    /// The console's language they chose, `en` or `ru`; null: their browser's.
    pub language: Option<String>,
}

impl From<db::ManagerRow> for ManagerOut {
    fn from(m: db::ManagerRow) -> Self {
        Self {
            id: m.id,
            account_id: m.account_id,
            email: m.email,
            name: m.name,
            role: m.role,
            active: m.active,
            online: m.online,
            language: m.language,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct LoginOut {
    /// The bearer token (`Authorization: Bearer <token>`); absent with `cookie: true`.
    pub token: Option<String>,
    /// With `cookie: true`: send it as `X-CSRF-Token` on every change.
    pub csrf_token: Option<String>,
    pub manager: ManagerOut,
}

/// The signed-in manager, with the CSRF token of a cookie session.
#[derive(Serialize, ToSchema)]
pub struct MeOut {
    #[serde(flatten)]
    pub manager: ManagerOut,
    /// Present for cookie sessions: send it as `X-CSRF-Token` on every change.
    pub csrf_token: Option<String>,
}

/// Where a request comes from: the client's address (see
/// [`crate::client_address`]) and the browser's name.
pub struct Client(pub Device, pub Option<std::net::IpAddr>);

impl FromRequestParts<AppState> for Client {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        let ip = crate::client_address::of(state, parts);
        let user_agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let device = Device {
            user_agent,
            ip: ip.map(|ip| ip.to_string()).unwrap_or_default(),
        };
        Ok(Client(device, ip))
    }
}

/// Signs a manager in. API clients get a bearer token; the console asks for
/// a cookie. Limited per client address and per e-mail (429 with `Retry-After`).
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginIn,
    responses(
        (status = 200, body = LoginOut, headers(("set-cookie" = String, description = "With `cookie: true`: the HttpOnly session cookie"))),
        (status = 400, description = "`bad_request`: the body is not JSON", body = ErrorOut),
        (status = 401, description = "`bad_credentials`: wrong e-mail or password", body = ErrorOut),
        (status = 409, description = "`account_choice`: the e-mail and password are right for managers of several shops; `accounts` lists them (`id`, `name`): sign in again with `account_id`", body = ErrorOut),
        (status = 403, description = "`csrf`: a browser on another origin", body = ErrorOut),
        (status = 415, description = "`unsupported_media_type`", body = ErrorOut),
        (status = 422, description = "`invalid`: a field is missing", body = ErrorOut),
        (status = 429, description = "`rate_limited`: too many attempts; see `Retry-After`", body = ErrorOut),
    ))]
async fn login(
    State(state): State<AppState>,
    Client(device, address): Client,
    headers: HeaderMap,
    Json(body): Json<LoginIn>,
) -> Result<Response> {
    if !auth::origin_allowed(&state, &headers) {
        return Err(Error::Csrf("sign in from the console's own page"));
    }
    state.auth_limits.login(address, &body.email)?;
    let (token, m) = auth::login(
        &state,
        &body.email,
        &body.password,
        body.account_id,
        &device,
    )
    .await?;
    let manager = ManagerOut::from(m);
    if !body.cookie {
        let out = LoginOut {
            token: Some(token),
            csrf_token: None,
            manager,
        };
        return Ok(axum::Json(out).into_response());
    }
    let out = LoginOut {
        token: None,
        csrf_token: Some(auth::csrf_token(&token)),
        manager,
    };
    let cookie = auth::session_cookie_header(&state, &token);
    Ok(([(header::SET_COOKIE, cookie)], axum::Json(out)).into_response())
}

/// Ends this session (other devices keep theirs), closes its sockets on every
/// replica and clears the cookie.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 204, description = "The session has ended"),
        (status = 401, description = "`unauthorized`", body = ErrorOut),
        (status = 403, description = "`csrf`: a cookie session without its CSRF token", body = ErrorOut),
    ))]
async fn logout(State(state): State<AppState>, manager: Manager) -> Result<Response> {
    db::revoke_session(&state.pool, manager.account_id, manager.session_id).await?;
    crate::sessions::announce_ended(&state, &[manager.session_id]).await;
    Ok((
        StatusCode::NO_CONTENT,
        [(header::SET_COOKIE, auth::cleared_cookie_header())],
    )
        .into_response())
}

/// The signed-in manager; for a cookie session, with its CSRF token.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, body = MeOut),
        (status = 401, description = "`unauthorized`", body = ErrorOut),
    ))]
async fn me(State(state): State<AppState>, manager: Manager) -> Result<axum::Json<MeOut>> {
    me_out(&state, manager).await
}

async fn me_out(state: &AppState, manager: Manager) -> Result<axum::Json<MeOut>> {
    let row = db::get_manager(&state.pool, manager.account_id, manager.id)
        .await?
        .ok_or(Error::Unauthorized)?;
    Ok(axum::Json(MeOut {
        manager: ManagerOut {
            online: true,
            ..row.into()
        },
        csrf_token: manager.csrf_token,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeIn {
    /// The console's language: `en`, `ru`, or null to follow the browser.
    #[schema(pattern = "^(en|ru)$")]
    pub language: Option<String>,
}

/// Changes what the signed-in manager chooses for themself: the console's
/// language (also the language of the e-mails they get).
#[utoipa::path(patch, path = "/api/v1/me", tag = "auth", request_body = MeIn, security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, body = MeOut),
        (status = 400, description = "`bad_request`", body = ErrorOut),
        (status = 401, description = "`unauthorized`", body = ErrorOut),
        (status = 403, description = "`csrf`", body = ErrorOut),
        (status = 415, description = "`unsupported_media_type`", body = ErrorOut),
        (status = 422, description = "`invalid`: a language the console does not speak", body = ErrorOut),
    ))]
async fn change_me(
    State(state): State<AppState>,
    manager: Manager,
    Json(body): Json<MeIn>,
) -> Result<axum::Json<MeOut>> {
    if let Some(language) = &body.language
        && !LANGUAGES.contains(&language.as_str())
    {
        return Err(Error::field(
            "language",
            format!("must be one of {}", LANGUAGES.join(", ")),
        ));
    }
    db::set_manager_language(
        &state.pool,
        manager.account_id,
        manager.id,
        body.language.as_deref(),
    )
    .await?;
    me_out(&state, manager).await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvitationIn {
    /// From the invitation link.
    pub token: String,
    /// 8 to 200 characters.
    #[schema(min_length = 8, max_length = 200)]
    pub password: String,
}

/// A new manager sets their password with the one-time token of their
/// invitation link (valid 7 days); then they sign in.
#[utoipa::path(post, path = "/api/v1/auth/invitation", tag = "auth", request_body = InvitationIn,
    responses(
        (status = 204, description = "The password is set"),
        (status = 400, description = "`bad_request`", body = ErrorOut),
        (status = 404, description = "`not_found`: no such invitation, or it was used or expired", body = ErrorOut),
        (status = 415, description = "`unsupported_media_type`", body = ErrorOut),
        (status = 422, description = "`invalid`: the password is too short or too long", body = ErrorOut),
        (status = 429, description = "`rate_limited`: too many attempts from this address; see `Retry-After`", body = ErrorOut),
    ))]
async fn accept_invitation(
    State(state): State<AppState>,
    Client(_, address): Client,
    Json(body): Json<InvitationIn>,
) -> Result<StatusCode> {
    let (invitation, hash) = PasswordLink::Invitation
        .check(&state, address, &body.token, &body.password)
        .await?;
    match db::accept_invitation(&state.pool, &invitation, &hash).await? {
        true => Ok(StatusCode::NO_CONTENT),
        false => Err(Error::NotFound("invitation")),
    }
}

/// A one-time link that sets a manager's password.
#[derive(Clone, Copy)]
pub(super) enum PasswordLink {
    Invitation,
    Reset,
}

impl PasswordLink {
    fn name(self) -> &'static str {
        match self {
            PasswordLink::Invitation => "invitation",
            PasswordLink::Reset => "password reset link",
        }
    }

    async fn live(self, pool: &sqlx::PgPool, token_hash: &[u8]) -> sqlx::Result<bool> {
        match self {
            PasswordLink::Invitation => db::invitation_pending(pool, token_hash).await,
            PasswordLink::Reset => db::password_reset_live(pool, token_hash).await,
        }
    }

    /// What setting a password by the link checks before it is used: the
    /// address's budget, the password's rules, then whether the link is
    /// live (the token first: a made-up one costs a lookup, not an Argon2
    /// hash). The link's token hash and the new password's hash.
    pub(super) async fn check(
        self,
        state: &AppState,
        address: Option<std::net::IpAddr>,
        token: &str,
        password: &str,
    ) -> Result<(Vec<u8>, String)> {
        state.auth_limits.invitation(address)?;
        let mut problems = Fields::new();
        team::check_password(password, &mut problems);
        if !problems.is_empty() {
            return Err(Error::InvalidFields(problems));
        }
        let token = token_hash(token);
        if !self.live(&state.pool, &token).await? {
            return Err(Error::NotFound(self.name()));
        }
        let hash = state.passwords.hash(password).await?;
        Ok((token, hash))
    }
}
