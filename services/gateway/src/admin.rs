//! Creating accounts and their first managers: used by the demo seed, by
//! tests and by operators (until the sign-up issue adds a public flow).
//! Further managers are added by owners and admins through the API
//! ([`crate::team`]).

use sqlx::PgPool;

use crate::auth::hash_password;
use crate::db::{self, AccountRow, ManagerRow, NewManager};
use crate::error::{Error, Fields, Result};
use crate::team;

/// The demo shop `make dev` creates.
pub const DEMO_SITE_KEY: &str = "demo-site-key";
pub const DEMO_EMAIL: &str = "demo@example.com";
pub const DEMO_PASSWORD: &str = "demo-password";

/// Creates an account with a fresh random site key.
pub async fn create_account(pool: &PgPool, name: &str) -> Result<AccountRow> {
    Ok(db::insert_account(pool, name, &team::new_site_key()).await?)
}

/// Creates an owner of the account.
pub async fn create_manager(
    pool: &PgPool,
    account: &AccountRow,
    email: &str,
    name: &str,
    password: &str,
) -> Result<ManagerRow> {
    create_manager_with_role(pool, account, email, name, password, "owner").await
}

/// Creates a manager of the account with a password and a role.
pub async fn create_manager_with_role(
    pool: &PgPool,
    account: &AccountRow,
    email: &str,
    name: &str,
    password: &str,
    role: &str,
) -> Result<ManagerRow> {
    let mut problems = Fields::new();
    let email = team::check_email(email, &mut problems);
    let name = team::check_name(name, &mut problems);
    team::check_password(password, &mut problems);
    if !problems.is_empty() {
        return Err(Error::InvalidFields(problems));
    }
    let hash = hash_password(password)?;
    let new = NewManager {
        account_id: account.id,
        email: &email,
        name: &name,
        role,
        password_hash: &hash,
        invitation_hash: None,
    };
    db::insert_manager(pool, &new)
        .await
        .map_err(team::on_email_taken)
}

/// Creates the demo account and manager unless they exist; returns the account.
pub async fn seed_demo(pool: &PgPool) -> Result<AccountRow> {
    let account = match db::account_by_site_key(pool, DEMO_SITE_KEY).await? {
        Some(account) => account,
        None => {
            let account = db::insert_account(pool, "Demo shop", DEMO_SITE_KEY).await?;
            // The demo shop's checkout shows how hidden pages work.
            sqlx::query!(
                "update widget_settings set hidden_pages = '{/checkout*}', \
                 online_title = 'Demo Tea Shop is online' where account_id = $1",
                account.id
            )
            .execute(pool)
            .await?;
            account
        }
    };
    if db::manager_in_account_by_email(pool, account.id, DEMO_EMAIL)
        .await?
        .is_none()
    {
        create_manager(pool, &account, DEMO_EMAIL, "Demo Manager", DEMO_PASSWORD).await?;
    }
    Ok(account)
}
