//! The rules for an account's managers: who may add, edit and deactivate
//! whom, what a valid manager is, and what deactivating does (every session
//! of that manager ends at once, on every replica).

use argon2::password_hash::rand_core::{OsRng, RngCore as _};
use uuid::Uuid;

use crate::auth::{Manager, Role};
use crate::credentials::EndReason;
use crate::db::{self, ManagerChange, ManagerRow, NewManager};
use crate::error::{Error, Fields, Result};
use crate::state::AppState;

pub const MIN_PASSWORD_CHARS: usize = 8;
pub const MAX_PASSWORD_CHARS: usize = 200;
pub const MAX_NAME_CHARS: usize = 100;

/// A lowercased e-mail, or the problem with it: `user@domain.tld`, no
/// spaces, as the OpenAPI document's pattern says.
pub fn check_email(email: &str, problems: &mut Fields) -> String {
    let plain = |part: &str| {
        !part.is_empty() && !part.contains('@') && !part.chars().any(char::is_whitespace)
    };
    let ok = email.len() <= 254
        && !email.contains('\0')
        && email.split_once('@').is_some_and(|(user, domain)| {
            let labels: Vec<&str> = domain.split('.').collect();
            plain(user) && labels.len() >= 2 && labels.iter().all(|label| plain(label))
        });
    if !ok {
        problems.push(("email".into(), "is not an e-mail address".into()));
    }
    email.to_lowercase()
}

/// A name, stored trimmed: 1 to 100 characters as sent, not all blank.
pub fn check_name(name: &str, problems: &mut Fields) -> String {
    if name.trim().is_empty() || name.contains('\0') || name.chars().count() > MAX_NAME_CHARS {
        problems.push((
            "name".into(),
            format!("must be 1 to {MAX_NAME_CHARS} characters, not all blank"),
        ));
    }
    name.trim().to_owned()
}

pub fn check_password(password: &str, problems: &mut Fields) {
    let n = password.chars().count();
    if !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&n) || password.contains('\0') {
        problems.push((
            "password".into(),
            format!("must be {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters"),
        ));
    }
}

fn check_role(role: &str, problems: &mut Fields) -> Role {
    Role::parse(role).unwrap_or_else(|| {
        problems.push(("role".into(), "must be owner, admin or manager".into()));
        Role::Manager
    })
}

fn done(problems: Fields) -> Result<()> {
    match problems.is_empty() {
        true => Ok(()),
        false => Err(Error::InvalidFields(problems)),
    }
}

/// The 409 for an e-mail another manager of the same shop has (an address
/// may manage several shops; nothing is said of the others).
pub fn on_email_taken(e: sqlx::Error) -> Error {
    Error::on_constraint(
        e,
        &[(
            "manager_email_per_account",
            "email",
            "another manager of this shop has this e-mail",
        )],
    )
}

/// What an owner or admin asks for when adding a manager.
pub struct Addition<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub role: &'a str,
    /// Set by the admin; without one, the new manager gets an invitation.
    pub password: Option<&'a str>,
}

/// Adds a manager to the actor's account; returns them and, when no
/// password was given, the one-time invitation token.
pub async fn add(
    state: &AppState,
    actor: &Manager,
    addition: Addition<'_>,
) -> Result<(ManagerRow, Option<String>)> {
    actor.must_manage_team()?;
    let mut problems = Fields::new();
    let email = check_email(addition.email, &mut problems);
    let name = check_name(addition.name, &mut problems);
    let role = check_role(addition.role, &mut problems);
    if let Some(password) = addition.password {
        check_password(password, &mut problems);
    }
    done(problems)?;
    may_grant(actor, role)?;
    let password_hash = match addition.password {
        Some(password) => state.passwords.hash(password).await?,
        None => String::new(),
    };
    let invitation = addition
        .password
        .is_none()
        .then(crate::credentials::new_token);
    let new = NewManager {
        account_id: actor.account_id,
        email: &email,
        name: &name,
        role: role.as_str(),
        password_hash: &password_hash,
        invitation_hash: invitation.as_ref().map(|(_, hash)| hash.as_slice()),
    };
    let manager = db::insert_manager(&state.pool, &new)
        .await
        .map_err(on_email_taken)?;
    Ok((manager, invitation.map(|(token, _)| token)))
}

/// What an owner or admin changes on a manager.
#[derive(Default)]
pub struct Edit<'a> {
    pub name: Option<&'a str>,
    pub email: Option<&'a str>,
    pub role: Option<&'a str>,
    pub active: Option<bool>,
    pub password: Option<&'a str>,
    /// The actor's password as it is now: needed to change one's own.
    pub current_password: Option<&'a str>,
}

/// Changes a manager of the actor's account. Deactivating ends all their
/// sessions at once. Nobody demotes or deactivates themselves (an account
/// keeps someone who manages it), and admins leave owners alone. Every
/// manager changes their own name and password; a new password of one's
/// own needs the current one and ends one's other sessions, and a password
/// set for someone else ends all of theirs.
pub async fn edit(
    state: &AppState,
    actor: &Manager,
    manager_id: Uuid,
    edit: Edit<'_>,
) -> Result<ManagerRow> {
    let own = manager_id == actor.id;
    let only_name_or_password =
        edit.email.is_none() && edit.role.is_none() && edit.active.is_none();
    if !(own && only_name_or_password) {
        actor.must_manage_team()?;
    }
    let mut problems = Fields::new();
    let mut change = ManagerChange {
        name: edit.name.map(|n| check_name(n, &mut problems)),
        email: edit.email.map(|e| check_email(e, &mut problems)),
        active: edit.active,
        ..Default::default()
    };
    let role = edit.role.map(|r| check_role(r, &mut problems));
    if let Some(password) = edit.password {
        check_password(password, &mut problems);
    }
    if edit
        .current_password
        .is_some_and(|p| p.chars().count() > MAX_PASSWORD_CHARS)
    {
        let problem = format!("is at most {MAX_PASSWORD_CHARS} characters");
        problems.push(("current_password".into(), problem));
    }
    done(problems)?;
    let target = db::get_manager(&state.pool, actor.account_id, manager_id)
        .await?
        .ok_or(Error::NotFound("manager"))?;
    let target_role = Role::parse(&target.role).unwrap_or(Role::Manager);
    if actor.role != Role::Owner && target_role == Role::Owner {
        return Err(Error::Forbidden("only owners change owners"));
    }
    if let Some(role) = role {
        may_grant(actor, role)?;
        change.role = Some(role.as_str());
    }
    if target.id == actor.id
        && (edit.active == Some(false) || role.is_some_and(|r| r != actor.role))
    {
        return Err(Error::Forbidden(
            "you cannot deactivate yourself or change your own role",
        ));
    }
    if edit.password.is_some() && own {
        current_password_matches(state, &target, edit.current_password).await?;
    }
    if let Some(password) = edit.password {
        change.password_hash = Some(state.passwords.hash(password).await?);
    }
    let mut tx = state.pool.begin().await?;
    let manager = db::update_manager(&mut tx, actor.account_id, manager_id, &change)
        .await
        .map_err(on_email_taken)?
        .ok_or(Error::NotFound("manager"))?;
    let ending = match (edit.active, edit.password.is_some(), own) {
        (Some(false), _, _) => Some((None, EndReason::Deactivated)),
        (_, true, true) => Some((Some(actor.session_id), EndReason::PasswordChanged)),
        (_, true, false) => Some((None, EndReason::PasswordReset)),
        _ => None,
    };
    let ended = match ending {
        Some((keep, reason)) => {
            db::revoke_manager_sessions(&mut tx, actor.account_id, manager_id, keep, reason).await?
        }
        None => Vec::new(),
    };
    tx.commit().await?;
    crate::sessions::announce_ended(state, &ended).await;
    Ok(manager)
}

/// A new password of one's own needs the one it replaces (a console left
/// open must not let anyone lock its manager out).
async fn current_password_matches(
    state: &AppState,
    manager: &ManagerRow,
    given: Option<&str>,
) -> Result<()> {
    let field =
        |message: &str| Error::InvalidFields(vec![("current_password".into(), message.into())]);
    let given = given.ok_or_else(|| field("needed to change your own password"))?;
    // Guesses at it count as sign-in attempts for the e-mail.
    state.auth_limits.login(None, &manager.email)?;
    match state
        .passwords
        .verify(given, &manager.password_hash)
        .await?
    {
        true => Ok(()),
        false => Err(field("does not match")),
    }
}

fn may_grant(actor: &Manager, role: Role) -> Result<()> {
    match (actor.role, role) {
        (Role::Owner, _) | (Role::Admin, Role::Admin | Role::Manager) => Ok(()),
        _ => Err(Error::Forbidden("only owners make owners")),
    }
}

/// A random site key for a new account.
pub fn new_site_key() -> String {
    let mut bytes = [0u8; 12];
    OsRng.fill_bytes(&mut bytes);
    format!("sk_{}", hex::encode(bytes))
}
