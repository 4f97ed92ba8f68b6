//! Managers' authentication: Argon2 password hashes (computed on the blocking
//! pool, a few at a time), opaque session secrets (only their SHA-256 is
//! stored, so a database leak gives no sessions), and the extractor that
//! turns a request's credential into a [`Manager`].
//!
//! Two credentials, one session kind:
//! - the console's HttpOnly, SameSite=Strict cookie `chat_session`; changes
//!   (any method but GET and HEAD) must also carry the session's CSRF token
//!   in `X-CSRF-Token` and, when the browser says where they come from, the
//!   console's own `Origin`;
//! - API clients' `Authorization: Bearer <token>`, which no browser sends by
//!   itself, so it needs no CSRF token.
//!
//! Secrets are opaque rather than JWTs because a session must end on all
//! devices after inactivity, at deactivation and on logout: the server looks
//! it up anyway.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use chrono::Utc;
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;
use uuid::Uuid;

use crate::credentials::{Device, new_token, token_hash};
use crate::db;
use crate::error::{Error, Result};
use crate::state::AppState;

/// The console's session cookie.
pub const SESSION_COOKIE: &str = "chat_session";
/// The header that carries the CSRF token on cookie-authenticated changes.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Marks a request the console makes on its own (a frame arrived, a timer
/// fired): it is served, but it is not the manager's activity.
pub const BACKGROUND_HEADER: &str = "x-chat-background";
/// Activity is written at most this often per manager (and at most a sixth
/// of the idle limit, so short limits in tests still count every minute).
const TOUCH_THROTTLE_SECS: i64 = 30;
/// Password hashes computed at once; each takes ~20 MB and tens of ms of a core.
const PASSWORD_HASHERS: usize = 2;

/// A manager's role in their account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Everything, including the other owners.
    Owner,
    /// Manages managers (but not owners).
    Admin,
    /// Answers dialogs.
    Manager,
}

impl Role {
    pub fn parse(value: &str) -> Option<Role> {
        match value {
            "owner" => Some(Role::Owner),
            "admin" => Some(Role::Admin),
            "manager" => Some(Role::Manager),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Manager => "manager",
        }
    }

    /// Whether this role adds, edits and deactivates managers.
    pub fn manages_team(self) -> bool {
        matches!(self, Role::Owner | Role::Admin)
    }
}

/// The signed-in manager of a request.
#[derive(Debug, Clone)]
pub struct Manager {
    pub id: Uuid,
    pub account_id: Uuid,
    pub session_id: Uuid,
    pub email: String,
    pub name: String,
    pub role: Role,
    /// The CSRF token of a cookie session (`None` for bearer tokens).
    pub csrf_token: Option<String>,
}

/// Hashes and checks passwords off the async workers, a few at a time. A
/// permit is held by the hash itself, so a request cancelled while its hash
/// runs does not let another start beside it.
#[derive(Clone)]
pub struct Passwords {
    permits: Arc<Semaphore>,
    /// Argon2 runs started (hashes and checks), for `/metrics` and tests.
    runs: Arc<AtomicU64>,
}

impl Default for Passwords {
    fn default() -> Self {
        Self {
            permits: Arc::new(Semaphore::new(PASSWORD_HASHERS)),
            runs: Arc::default(),
        }
    }
}

impl Passwords {
    pub async fn hash(&self, password: &str) -> Result<String> {
        let password = password.to_owned();
        self.blocking(move || hash_password(&password)).await?
    }

    pub async fn verify(&self, password: &str, hash: &str) -> Result<bool> {
        let (password, hash) = (password.to_owned(), hash.to_owned());
        self.blocking(move || verify_password(&password, &hash))
            .await
    }

    /// How many Argon2 runs were started since the gateway started.
    pub fn runs(&self) -> u64 {
        self.runs.load(Ordering::Relaxed)
    }

    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T> {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| Error::Unavailable)?;
        self.runs.fetch_add(1, Ordering::Relaxed);
        metrics::counter!("gateway_password_hashes_total").increment(1);
        tokio::task::spawn_blocking(move || {
            let done = work();
            drop(permit);
            done
        })
        .await
        .map_err(|e| Error::Internal(format!("password task failed: {e}")))
    }
}

pub fn hash_password(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::Internal(format!("password hashing failed: {e}")))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// The CSRF token of a cookie session: derived from its secret, so only
/// someone who can read the page's answers (not a cross-site form) has it.
pub fn csrf_token(session_token: &str) -> String {
    let digest = Sha256::digest(format!("csrf\0{session_token}").as_bytes());
    hex::encode(&digest[..16])
}

/// Logs a manager in by e-mail and password (and, for an address that
/// manages several shops, the shop's `account_id`); returns the new secret.
/// Each shop's manager has a password of their own: the shops the password
/// opens are the candidates; more than one without `account_id` is
/// [`Error::AccountChoice`], and no answer says what an address is before
/// its password is right.
pub async fn login(
    state: &AppState,
    email: &str,
    password: &str,
    account_id: Option<Uuid>,
    device: &Device,
) -> Result<(String, db::ManagerRow)> {
    let email = email.trim().to_lowercase();
    // No stored e-mail holds NUL (PostgreSQL text cannot): such a login names nobody.
    let managers = match email.contains('\0') {
        true => Vec::new(),
        false => db::managers_by_email(&state.pool, &email).await?,
    };
    let candidates: Vec<_> = managers
        .into_iter()
        .map(|found| (found.manager, found.shop_name))
        .filter(|(m, _)| account_id.is_none_or(|id| m.account_id == id))
        .filter(|(m, _)| !m.password_hash.is_empty())
        .collect();
    // Verify against a real hash even for an unknown e-mail (or one without
    // a password yet), so timing does not tell which exist.
    if candidates.is_empty() {
        state.passwords.verify(password, DUMMY_HASH).await?;
        return Err(Error::BadCredentials);
    }
    let mut opened = Vec::new();
    for (manager, shop) in candidates {
        if state
            .passwords
            .verify(password, &manager.password_hash)
            .await?
            && manager.active
        {
            opened.push((manager, shop));
        }
    }
    let manager = match opened.len() {
        0 => return Err(Error::BadCredentials),
        1 => opened.pop().map(|(manager, _)| manager).expect("one"),
        _ => {
            let shops = opened.into_iter().map(|(m, shop)| (m.account_id, shop));
            return Err(Error::AccountChoice(shops.collect()));
        }
    };
    let (token, token_hash) = new_token();
    let lifetime = chrono::Duration::hours(state.config.session_lifetime_hours);
    let idle_secs = state.config.session_idle_secs;
    let idled_out = db::insert_session(
        &state.pool,
        &manager,
        &token_hash,
        device,
        lifetime,
        idle_secs,
    )
    .await?;
    crate::sessions::announce_ended(state, &idled_out).await;
    Ok((token, manager))
}

/// Hash of a password nobody has, for unknown e-mails.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2OQx0w3Yc2uKzJ5cU1cXr8hK3k9q4bmR2mHq0m0nQ0k";

/// Resolves a session secret to its manager, if the session is live: not
/// revoked or expired, the manager active, and active within the idle limit
/// on some device. Counts as the manager's activity unless `background`.
pub async fn authenticate(
    state: &AppState,
    token: &str,
    via_cookie: bool,
    background: bool,
) -> Result<Manager> {
    let session = db::session_by_token_hash(&state.pool, &token_hash(token))
        .await?
        .ok_or(Error::Unauthorized)?;
    if idled_out(state, session.last_active_at) {
        return Err(end_idle_sessions(state, session.manager_id).await);
    }
    if !background {
        db::touch_session(
            &state.pool,
            session.manager_id,
            session.session_id,
            touch_throttle_secs(state),
        )
        .await?;
    }
    Ok(Manager {
        id: session.manager_id,
        account_id: session.account_id,
        session_id: session.session_id,
        email: session.email,
        name: session.name,
        role: Role::parse(&session.role).unwrap_or(Role::Manager),
        csrf_token: via_cookie.then(|| csrf_token(token)),
    })
}

/// Whether the manager's session is still live, and records activity: what a
/// manager socket checks on the frames its client sends.
pub async fn still_signed_in(state: &AppState, manager: &Manager) -> Result<()> {
    session_live(state, manager).await?;
    db::touch_session(
        &state.pool,
        manager.id,
        manager.session_id,
        touch_throttle_secs(state),
    )
    .await
    .map_err(Error::from)
}

/// Whether the session is live (not logged out, expired or deactivated, not
/// idle too long), without counting the question as activity: what an idle
/// socket checks now and then.
pub async fn session_live(state: &AppState, manager: &Manager) -> Result<()> {
    match db::session_last_active(&state.pool, manager.account_id, manager.session_id).await? {
        Some(at) if !idled_out(state, at) => Ok(()),
        Some(_) => Err(end_idle_sessions(state, manager.id).await),
        None => Err(Error::Unauthorized),
    }
}

/// Ends (revokes, on every replica) the sessions of a manager found idle
/// too long, so that they stay ended when the manager signs in again;
/// returns the error the request that found them gets.
async fn end_idle_sessions(state: &AppState, manager_id: Uuid) -> Error {
    let ended = async {
        let mut conn = state.pool.acquire().await?;
        db::revoke_idle_sessions(&mut conn, manager_id, state.config.session_idle_secs).await
    };
    match ended.await {
        Ok(ended) => crate::sessions::announce_ended(state, &ended).await,
        // Still refused; the next look or the next login ends them.
        Err(e) => tracing::warn!(error = %e, "could not end idle sessions"),
    }
    Error::Unauthorized
}

fn idled_out(state: &AppState, last_active_at: chrono::DateTime<Utc>) -> bool {
    Utc::now() - last_active_at > chrono::Duration::seconds(state.config.session_idle_secs)
}

fn touch_throttle_secs(state: &AppState) -> i64 {
    TOUCH_THROTTLE_SECS.min(state.config.session_idle_secs / 6)
}

/// The secret of a request, and whether it came in the cookie: the bearer
/// header first, else the session cookie.
pub fn credential(headers: &HeaderMap) -> Option<(&str, bool)> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty());
    if let Some(token) = bearer {
        return Some((token, false));
    }
    session_cookie(headers).map(|token| (token, true))
}

fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.trim())
        .filter(|v| !v.is_empty())
}

/// Whether the request's `Origin`, when it has one, is the console's own:
/// `GATEWAY_PUBLIC_ORIGIN`, or else the host the request was sent to.
pub fn origin_allowed(state: &AppState, headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true; // not a browser, or a same-origin GET: nothing to forge
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    if !state.config.public_origin.is_empty() {
        return origin == state.config.public_origin.trim_end_matches('/');
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
        .is_some_and(|rest| !host.is_empty() && rest == host)
}

/// The `Set-Cookie` value that starts a console session.
pub fn session_cookie_header(state: &AppState, token: &str) -> String {
    let max_age = state.config.session_lifetime_hours * 3600;
    let secure = if state.config.cookie_secure {
        "; Secure"
    } else {
        ""
    };
    format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"
    )
}

/// The `Set-Cookie` value that removes it.
pub fn cleared_cookie_header() -> String {
    format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0")
}

fn is_change(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

impl FromRequestParts<AppState> for Manager {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        let (token, via_cookie) = credential(&parts.headers).ok_or(Error::Unauthorized)?;
        let background = parts.headers.contains_key(BACKGROUND_HEADER);
        let manager = authenticate(state, token, via_cookie, background).await?;
        if via_cookie && is_change(&parts.method) {
            if !origin_allowed(state, &parts.headers) {
                return Err(Error::Csrf("this origin may not change anything here"));
            }
            let sent = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
            if sent != manager.csrf_token.as_deref() {
                return Err(Error::Csrf("the X-CSRF-Token header is missing or wrong"));
            }
        }
        Ok(manager)
    }
}

impl Manager {
    /// Refuses unless the manager's role may change the account's settings.
    pub fn must_manage_settings(&self) -> Result<()> {
        match self.role.manages_team() {
            true => Ok(()),
            false => Err(Error::Forbidden(
                "only owners and admins change the account's settings",
            )),
        }
    }

    /// Refuses unless the manager's role manages the team.
    pub fn must_manage_team(&self) -> Result<()> {
        match self.role.manages_team() {
            true => Ok(()),
            false => Err(Error::Forbidden("only owners and admins manage managers")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn a_password_verifies_only_against_its_own_hash() {
        let hash = hash_password("correct horse").unwrap();
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("wrong horse", &hash));
        assert!(!verify_password("correct horse", "not a hash"));
    }

    #[test]
    fn tokens_are_random_and_only_their_hash_is_kept() {
        let (a, hash_a) = new_token();
        let (b, _) = new_token();
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert_eq!(token_hash(&a), hash_a);
        assert_ne!(hash_a, a.as_bytes());
        assert_ne!(csrf_token(&a), csrf_token(&b));
        assert!(!a.contains(&csrf_token(&a)));
    }

    #[test]
    fn the_dummy_hash_parses_so_unknown_emails_cost_the_same() {
        assert!(PasswordHash::new(DUMMY_HASH).is_ok());
        assert!(!verify_password("anything", DUMMY_HASH));
    }

    #[test]
    fn the_bearer_header_wins_over_the_cookie() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("theme=dark; chat_session=abc"),
        );
        assert_eq!(credential(&headers), Some(("abc", true)));
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer xyz"),
        );
        assert_eq!(credential(&headers), Some(("xyz", false)));
        assert_eq!(credential(&HeaderMap::new()), None);
    }
}
