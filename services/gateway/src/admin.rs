//! Creating accounts and managers: used by the demo seed, by tests and by
//! operators (until the sign-up issue adds a public flow).

use argon2::password_hash::rand_core::{OsRng, RngCore as _};
use sqlx::PgPool;

use crate::auth::hash_password;
use crate::db::{self, AccountRow, ManagerRow};
use crate::error::{Error, Result};

/// The demo shop `make dev` creates.
pub const DEMO_SITE_KEY: &str = "demo-site-key";
pub const DEMO_EMAIL: &str = "demo@example.com";
pub const DEMO_PASSWORD: &str = "demo-password";

/// Creates an account with a fresh random site key.
pub async fn create_account(pool: &PgPool, name: &str) -> Result<AccountRow> {
    let mut bytes = [0u8; 12];
    OsRng.fill_bytes(&mut bytes);
    Ok(db::insert_account(pool, name, &format!("sk_{}", hex::encode(bytes))).await?)
}

pub async fn create_manager(
    pool: &PgPool,
    account: &AccountRow,
    email: &str,
    name: &str,
    password: &str,
) -> Result<ManagerRow> {
    let email = email.trim().to_lowercase();
    if !email.contains('@') || email.len() > 254 {
        return Err(Error::Invalid(format!(
            "{email:?} is not an e-mail address"
        )));
    }
    if password.chars().count() < 8 {
        return Err(Error::Invalid(
            "a password has at least 8 characters".into(),
        ));
    }
    let hash = hash_password(password)?;
    Ok(db::insert_manager(pool, account.id, &email, name, &hash).await?)
}

/// Creates the demo account and manager unless they exist; returns the account.
pub async fn seed_demo(pool: &PgPool) -> Result<AccountRow> {
    let account = match db::account_by_site_key(pool, DEMO_SITE_KEY).await? {
        Some(account) => account,
        None => db::insert_account(pool, "Demo shop", DEMO_SITE_KEY).await?,
    };
    if db::manager_by_email(pool, DEMO_EMAIL).await?.is_none() {
        create_manager(pool, &account, DEMO_EMAIL, "Demo Manager", DEMO_PASSWORD).await?;
    }
    Ok(account)
}
