//! Managers' authentication: Argon2 password hashes, opaque bearer tokens
//! (only their SHA-256 is stored, so a database leak gives no sessions), and
//! the extractor that turns `Authorization: Bearer` into a [`Manager`].
//!
//! Tokens are opaque rather than JWTs because a session must end on all
//! devices after inactivity and on logout: the server looks it up anyway.

use argon2::Argon2;
use argon2::password_hash::rand_core::{OsRng, RngCore as _};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use chrono::Utc;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::db;
use crate::error::{Error, Result};
use crate::state::AppState;

/// Activity is written at most this often per manager.
const TOUCH_THROTTLE_SECS: i64 = 30;

/// The signed-in manager of a request.
#[derive(Debug, Clone)]
pub struct Manager {
    pub id: Uuid,
    pub account_id: Uuid,
    pub session_id: Uuid,
    pub email: String,
    pub name: String,
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

/// A new bearer token (256 random bits, hex) and the hash that is stored.
pub fn new_token() -> (String, Vec<u8>) {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    let token = hex::encode(bytes);
    let hash = token_hash(&token);
    (token, hash)
}

pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Logs a manager in by e-mail and password; returns the new token.
pub async fn login(
    state: &AppState,
    email: &str,
    password: &str,
) -> Result<(String, db::ManagerRow)> {
    let email = email.trim().to_lowercase();
    // No stored e-mail holds NUL (PostgreSQL text cannot): such a login names nobody.
    let manager = match email.contains('\0') {
        true => None,
        false => db::manager_by_email(&state.pool, &email).await?,
    };
    // Verify against a real hash even for an unknown e-mail, so timing does not tell which exist.
    let hash = manager
        .as_ref()
        .map(|m| m.password_hash.as_str())
        .unwrap_or(DUMMY_HASH);
    let password_ok = verify_password(password, hash);
    let Some(manager) = manager.filter(|_| password_ok) else {
        return Err(Error::BadCredentials);
    };
    let (token, token_hash) = new_token();
    db::insert_session(&state.pool, &manager, &token_hash).await?;
    Ok((token, manager))
}

/// Hash of a password nobody has, for unknown e-mails.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2OQx0w3Yc2uKzJ5cU1cXr8hK3k9q4bmR2mHq0m0nQ0k";

/// Resolves a bearer token to its manager, if the session is live: not
/// revoked, and the manager active within the idle limit on some device.
pub async fn authenticate(state: &AppState, token: &str) -> Result<Manager> {
    let session = db::session_by_token_hash(&state.pool, &token_hash(token))
        .await?
        .ok_or(Error::Unauthorized)?;
    if idled_out(state, session.last_active_at) {
        return Err(Error::Unauthorized);
    }
    db::touch_manager(&state.pool, session.manager_id, TOUCH_THROTTLE_SECS).await?;
    Ok(Manager {
        id: session.manager_id,
        account_id: session.account_id,
        session_id: session.session_id,
        email: session.email,
        name: session.name,
    })
}

/// Whether the manager's session is still live, and records activity: what a
/// manager socket checks on every frame its client sends.
pub async fn still_signed_in(state: &AppState, manager: &Manager) -> Result<()> {
    session_live(state, manager).await?;
    db::touch_manager(&state.pool, manager.id, TOUCH_THROTTLE_SECS).await?;
    Ok(())
}

/// Whether the session is live (not logged out, not idle too long), without
/// counting the question as activity: what an idle socket checks now and then.
pub async fn session_live(state: &AppState, manager: &Manager) -> Result<()> {
    match db::session_last_active(&state.pool, manager.account_id, manager.session_id).await? {
        Some(at) if !idled_out(state, at) => Ok(()),
        _ => Err(Error::Unauthorized),
    }
}

fn idled_out(state: &AppState, last_active_at: chrono::DateTime<Utc>) -> bool {
    Utc::now() - last_active_at > chrono::Duration::minutes(state.config.session_idle_mins)
}

/// The token of a request: `Authorization: Bearer <token>`.
pub fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    value
        .strip_prefix("Bearer ")
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

impl FromRequestParts<AppState> for Manager {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        let token = bearer(parts).ok_or(Error::Unauthorized)?;
        authenticate(state, token).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    }

    #[test]
    fn the_dummy_hash_parses_so_unknown_emails_cost_the_same() {
        assert!(PasswordHash::new(DUMMY_HASH).is_ok());
        assert!(!verify_password("anything", DUMMY_HASH));
    }
}
