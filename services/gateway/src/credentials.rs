//! What the SQL layer and the edge share about managers' credentials: new
//! opaque secrets and the hashes stored for them, the device a session was
//! opened from, and why a session ended. A leaf: it imports nothing of the
//! gateway, so `db.rs` need not import from `auth.rs`, which imports it.

use argon2::password_hash::rand_core::{OsRng, RngCore as _};
use sha2::{Digest, Sha256};

/// A new secret (256 random bits, hex) and the hash that is stored.
pub fn new_token() -> (String, Vec<u8>) {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    let token = hex::encode(bytes);
    let hash = token_hash(&token);
    (token, hash)
}

/// What is stored of a secret: its SHA-256, so a database leak gives no sessions.
pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Where a login comes from, shown in the manager's list of sessions.
#[derive(Debug, Clone, Default)]
pub struct Device {
    pub user_agent: String,
    pub ip: String,
}

/// Why a session ended; kept with it (`session.revoked_reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    /// The manager signed out of it.
    Logout,
    /// The manager ended it from their list of sessions.
    EndedByManager,
    /// Nobody was active on any of the manager's devices within the idle limit.
    Idle,
    /// An owner or admin deactivated the manager.
    Deactivated,
    /// The manager changed their own password (the other sessions end).
    PasswordChanged,
    /// An owner or admin set the manager's password, or the manager set a
    /// new one by a "Forgot password?" link.
    PasswordReset,
}

impl EndReason {
    pub fn as_str(self) -> &'static str {
        match self {
            EndReason::Logout => "logout",
            EndReason::EndedByManager => "ended_by_manager",
            EndReason::Idle => "idle",
            EndReason::Deactivated => "deactivated",
            EndReason::PasswordChanged => "password_changed",
            EndReason::PasswordReset => "password_reset",
        }
    }
}
