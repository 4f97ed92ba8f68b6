//! The visitor socket: `GET /ws/visitor?site_key=…[&visitor_token=…][&after_seq=N]`,
//! what the widget speaks. The page's `Origin` must be one of the account's
//! allowed sites (403 before the upgrade). A first visit gets a visitor token
//! (the credential, issued here, see [`crate::widget::credential`]) in its
//! `hello`; later visits must bring it, and any other token is refused, so
//! nobody reads a conversation without its visitor's credential. The first
//! message opens a dialog. The socket also carries the visitor's pages (for
//! the timeline and the visitors list), their identification, and the live
//! presence of managers and the account's settings.

use std::collections::HashMap;
use std::net::IpAddr;

use axum::extract::ws::{WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse as _, Response};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use chat_proto::contact::v1 as contact_pb;
use chat_proto::dialog::v1 as pb;

use super::close;
use super::delivery::{Delivery, Unknown};
use super::frames::{self, ClientFrame};
use super::session::{Closed, Session, close_for, close_socket};
use crate::api::DialogOut;
use crate::budgets::SocketPermit;
use crate::client_address::ClientAddress;
use crate::error::Error;
use crate::hub::Audience;
use crate::presence::{Online, VisitorPage};
use crate::state::AppState;
use crate::system_lines;
use crate::widget::db as widget_db;
use crate::widget::settings::Settings;
use crate::widget::{credential, identity, public};
use crate::ws::frames::ServerFrame;

/// The longest page address and title kept of a `page` frame.
const MAX_URL_BYTES: usize = 2048;
const MAX_TITLE_CHARS: usize = 300;
/// The longest page view id.
const MAX_PAGE_VIEW_ID_BYTES: usize = 64;

pub async fn connect_visitor(
    ws: WebSocketUpgrade,
    headers: HeaderMap,
    ClientAddress(address): ClientAddress,
    Query(params): Query<HashMap<String, String>>,
    State(state): State<AppState>,
) -> Response {
    let permit = match state.budgets.admit_visitor(address) {
        Ok(permit) => permit,
        Err(e) => return e.into_response(),
    };
    let site_key = params
        .get("site_key")
        .map(String::as_str)
        .unwrap_or_default();
    let site = match widget_db::by_site_key(&state.pool, site_key).await {
        Ok(site) => site,
        Err(e) => return Error::from(e).into_response(),
    };
    let origin = public::request_origin(&headers).map(str::to_owned);
    if let Some(site) = &site
        && !site.allows_origin(origin.as_deref())
    {
        return Error::Forbidden("this site may not embed the widget").into_response();
    }
    // A visitor without a credential is given one: new visitors have a budget.
    let presents_credential =
        params.contains_key("visitor_token") || params.contains_key("visitor_id");
    if let Some(site) = &site
        && !presents_credential
        && let Err(e) = state.budgets.new_visitor(address, site.account_id)
    {
        return e.into_response();
    }
    // One pointer in the upgrade's task until the socket is set up.
    let tasks = state.tasks.clone();
    let start = Box::new((state, site, params, origin, address, permit));
    super::with_limits(ws).on_upgrade(move |ws| {
        let (state, site, params, origin, address, permit) = *start;
        tasks.track_future(serve(Box::new(Upgraded {
            ws,
            state,
            site,
            params,
            origin,
            address,
            permit,
        })))
    })
}

/// What a visitor socket starts with, boxed: a task's future keeps its
/// arguments for its whole life, so they go in as one pointer and are
/// freed once the socket is set up.
struct Upgraded {
    ws: WebSocket,
    state: AppState,
    site: Option<Settings>,
    params: HashMap<String, String>,
    origin: Option<String>,
    address: Option<IpAddr>,
    permit: SocketPermit,
}

/// What the socket knows of its visitor.
struct Visitor {
    account_id: Uuid,
    visitor_id: String,
    /// Their contact's id, or the one it will have (see
    /// [`credential::contact_id_for`]): the socket is addressed by it.
    contact_id: Uuid,
    /// Whether the contact exists: a visitor gets one when they first write
    /// or identify themselves, not by opening a page.
    has_contact: bool,
    /// The page view they are on, kept for their timeline until they have a
    /// contact: its id and what the timeline says of it.
    unrecorded_page: Option<(String, String)>,
    name: String,
    email: String,
    /// The page they are on, once they said.
    page: Option<VisitorPage>,
    /// The client's address, whose budgets the visitor spends.
    address: Option<IpAddr>,
    /// Whether the visitor has a dialog (else their next message opens one).
    has_dialog: bool,
    /// The socket's place on this replica.
    _permit: SocketPermit,
}

/// Serves one visitor socket. The setup is boxed, and so is the handling of
/// each frame, so what an idle socket keeps while it waits is small (its
/// session and what it knows of its visitor), not the largest call it ever
/// made.
async fn serve(upgraded: Box<Upgraded>) {
    let Some((mut session, mut visitor)) = Box::pin(open(upgraded)).await else {
        return;
    };
    let online = Online::visitor(&session.state);
    while let Some(frame) = session.next_frame().await {
        let costly = matches!(
            frame,
            ClientFrame::Page { .. } | ClientFrame::Shown { .. } | ClientFrame::Identify { .. }
        );
        if costly {
            match Box::pin(session.activity_allowed()).await {
                Ok(true) => {}
                Ok(false) => continue, // refused; the client was told
                Err(Closed) => return,
            }
        }
        let result = match frame {
            ClientFrame::Send {
                client_message_id,
                text,
                attachments,
                ..
            } => {
                let message = Outgoing {
                    client_message_id,
                    text,
                    attachments,
                };
                Box::pin(send(&mut session, &mut visitor, message)).await
            }
            ClientFrame::Ping => Box::pin(session.send(ServerFrame::Pong.text())).await,
            ClientFrame::Sync { .. } => {
                let error = frames::error(
                    "unknown_type",
                    "visitors resume with after_seq when connecting",
                    None,
                );
                Box::pin(session.send(error)).await
            }
            ClientFrame::Page {
                url,
                title,
                referrer,
                visit_started_at,
                pages_seen,
                page_view_id,
            } => {
                let page = PageFrame {
                    url,
                    title,
                    referrer,
                    visit_started_at,
                    pages_seen,
                    page_view_id,
                };
                Box::pin(on_page(&mut session, &online, &mut visitor, page)).await
            }
            ClientFrame::Shown { page_view_id } => {
                Box::pin(on_shown(&mut session, &mut visitor, page_view_id)).await
            }
            ClientFrame::Identify {
                name,
                email,
                phone,
                user_hash,
            } => {
                let said = Identification {
                    name,
                    email,
                    phone,
                    user_hash,
                };
                match Box::pin(on_identify(&mut session, &online, &mut visitor, said)).await {
                    Ok(Moved::No) => Ok(()),
                    Ok(Moved::Yes) => {
                        let closing =
                            session.close(close::IDENTITY_CHANGED, "identified: reconnect");
                        return Box::pin(closing).await;
                    }
                    Err(closed) => Err(closed),
                }
            }
        };
        if result.is_err() {
            return;
        }
    }
}

/// Checks the visitor's credential, finds their contact and dialog, greets
/// them and replays what they asked for; `None` when the socket was closed.
async fn open(upgraded: Box<Upgraded>) -> Option<(Session, Visitor)> {
    let Upgraded {
        mut ws,
        state,
        site,
        params,
        origin,
        address,
        permit,
    } = *upgraded;
    let after_seq = match params.get("after_seq").map(|s| s.parse::<i64>()) {
        None => None,
        Some(Ok(n)) if n >= 0 => Some(n),
        Some(_) => {
            close_socket(
                &mut ws,
                close::BAD_REQUEST,
                "after_seq must be a number, 0 or more",
            )
            .await;
            return None;
        }
    };
    let Some(site) = site else {
        close_socket(&mut ws, close::UNKNOWN_SITE_KEY, "unknown site key").await;
        return None;
    };
    if !site.enabled {
        close_socket(&mut ws, close::CHAT_OFF, "the chat is off").await;
        return None;
    }
    // `visitor_id` is what widgets before credentials sent: refused like any
    // token this site did not issue.
    let presented = params.get("visitor_token").or(params.get("visitor_id"));
    let (visitor_id, token) = match presented {
        None => credential::issue(&site.visitor_key),
        Some(token) => match credential::verify(&site.visitor_key, token) {
            Some(visitor_id) => (visitor_id, token.clone()),
            None => {
                close_socket(
                    &mut ws,
                    close::UNAUTHORIZED,
                    "not a visitor token of this site",
                )
                .await;
                return None;
            }
        },
    };
    match crate::blocks::is_blocked(&state, site.account_id, &visitor_id, address).await {
        Ok(false) => {}
        Ok(true) => {
            close_socket(&mut ws, close::UNKNOWN_SITE_KEY, "blocked").await;
            return None;
        }
        Err(e) => {
            let (code, reason) = close_for(&e);
            close_socket(&mut ws, code, &reason).await;
            return None;
        }
    }
    // Looked up, not created: a visitor who only browses makes no contact.
    let request = contact_pb::ResolveVisitorRequest {
        account_id: site.account_id.to_string(),
        visitor_id: visitor_id.clone(),
        lookup_only: true,
        ..Default::default()
    };
    let contact = match state.contacts.clone().resolve_visitor(request).await {
        // No id: the visitor has no contact yet.
        Ok(contact) => Some(contact.into_inner()).filter(|c| !c.id.is_empty()),
        Err(status) => {
            let (code, reason) = close_for(&Error::from(status));
            close_socket(&mut ws, code, &reason).await;
            return None;
        }
    };
    let contact_id = match &contact {
        Some(contact) => Uuid::parse_str(&contact.id).ok()?,
        None => credential::contact_id_for(site.account_id, &visitor_id),
    };
    // Register before looking at the dialog, so nothing written meanwhile is missed.
    let registration = state.hub.register(Audience::Visitor {
        account_id: site.account_id,
        contact_id,
    });
    let mut session = Session::new(
        ws,
        state.clone(),
        site.account_id,
        Delivery::new(Unknown::FromStart),
        registration,
    );
    session.origin = origin;

    let dialog = match &contact {
        Some(_) => match find_dialog(&state, site.account_id, contact_id).await {
            Ok(dialog) => dialog,
            Err(status) => {
                let (code, reason) = close_for(&Error::from(status));
                session.close(code, &reason).await;
                return None;
            }
        },
        None => None,
    };
    let dialog_out = dialog
        .clone()
        .map(DialogOut::from)
        .map(system_lines::dialog_as_visitor_sees);
    let hello = ServerFrame::VisitorHello {
        contact_id,
        visitor_token: &token,
        dialog: dialog_out.as_ref(),
        managers_online: state.presence.managers_online(site.account_id),
    };
    session.send(hello.text()).await.ok()?;
    let has_dialog = dialog.is_some();
    if let Some(dialog) = dialog.and_then(|d| Some((Uuid::parse_str(&d.id).ok()?, d.last_seq))) {
        let (dialog_id, last_seq) = dialog;
        match after_seq {
            Some(after) => {
                session.replay(dialog_id, after).await.ok()?;
            }
            None => session.seen(dialog_id, last_seq),
        }
    }

    let has_contact = contact.is_some();
    let (name, email) = contact.map(|c| (c.name, c.email)).unwrap_or_default();
    let visitor = Visitor {
        account_id: site.account_id,
        visitor_id,
        contact_id,
        has_contact,
        unrecorded_page: None,
        name,
        email,
        page: None,
        address,
        has_dialog,
        _permit: permit,
    };
    Some((session, visitor))
}

/// The visitor's dialog, if they have one.
async fn find_dialog(
    state: &AppState,
    account_id: Uuid,
    contact_id: Uuid,
) -> Result<Option<pb::Dialog>, tonic::Status> {
    let request = pb::FindContactDialogRequest {
        account_id: account_id.to_string(),
        contact_id: contact_id.to_string(),
    };
    let found = state.dialogs.clone().find_contact_dialog(request).await?;
    Ok(found.into_inner().dialog)
}

/// Whether the visitor may go on with something that needs a contact (a
/// message, an identification): it is created now if they have none (with
/// the id their socket is addressed by), and the page they are on goes on
/// their timeline. A failure is told to the client (naming the message, if
/// one is waiting), and the socket closes when the contact turns out to
/// have another id than the socket's (reconnecting finds it).
async fn ensure_contact(
    session: &mut Session,
    visitor: &mut Visitor,
    client_message_id: Option<&str>,
) -> Result<bool, Closed> {
    if visitor.has_contact {
        return Ok(true);
    }
    let request = resolve_request(visitor, true);
    let contact = match session
        .state
        .contacts
        .clone()
        .resolve_visitor(request)
        .await
    {
        Ok(contact) => contact.into_inner(),
        Err(status) => {
            session
                .send_error(&Error::from(status), client_message_id)
                .await?;
            return Ok(false);
        }
    };
    if contact.id != visitor.contact_id.to_string() {
        session
            .close_now(close::IDENTITY_CHANGED, "identified: reconnect")
            .await;
        return Err(Closed);
    }
    became_contact(session, visitor).await?;
    Ok(true)
}

/// The question for the contact service about the visitor's contact:
/// created (with the id their socket is addressed by) or only looked up.
fn resolve_request(visitor: &Visitor, create: bool) -> contact_pb::ResolveVisitorRequest {
    contact_pb::ResolveVisitorRequest {
        account_id: visitor.account_id.to_string(),
        visitor_id: visitor.visitor_id.clone(),
        lookup_only: !create,
        new_contact_id: if create {
            visitor.contact_id.to_string()
        } else {
            String::new()
        },
    }
}

/// The visitor has a contact now: the page they are on goes on its timeline.
async fn became_contact(session: &mut Session, visitor: &mut Visitor) -> Result<(), Closed> {
    visitor.has_contact = true;
    match visitor.unrecorded_page.take() {
        Some((page_view_id, summary)) => {
            record(session, visitor, "page_visit", page_view_id, summary).await
        }
        None => Ok(()),
    }
}

/// Whether the visitor's first message budget (of their address and the
/// site) allows one more action that fills the shop's inbox or contacts; if
/// not, the client is told (naming the message, if one is waiting).
async fn first_action_allowed(
    session: &mut Session,
    visitor: &Visitor,
    client_message_id: Option<&str>,
) -> Result<bool, Closed> {
    let budgets = &session.state.budgets;
    match budgets.first_message(visitor.address, visitor.account_id) {
        Ok(()) => Ok(true),
        Err(e) => session
            .send_error(&e, client_message_id)
            .await
            .map(|()| false),
    }
}

/// A visitor's message as their `send` frame gave it.
struct Outgoing {
    client_message_id: String,
    text: String,
    /// Files they uploaded for their dialog.
    attachments: Vec<String>,
}

async fn send(
    session: &mut Session,
    visitor: &mut Visitor,
    message: Outgoing,
) -> Result<(), Closed> {
    let Outgoing {
        client_message_id,
        text,
        attachments,
    } = message;
    if !visitor.has_dialog {
        // A message that opens a dialog puts it in the shop's inbox: budgeted.
        if !first_action_allowed(session, visitor, Some(&client_message_id)).await? {
            return Ok(());
        }
        visitor.has_dialog = true;
    }
    if !ensure_contact(session, visitor, Some(&client_message_id)).await? {
        return Ok(());
    }
    let contact_id = visitor.contact_id;
    let request = pb::PostMessageRequest {
        account_id: session.account_id.to_string(),
        dialog_id: String::new(),
        contact_id: contact_id.to_string(),
        author_kind: pb::AuthorKind::Visitor as i32,
        author_id: contact_id.to_string(),
        client_message_id,
        text,
        channel: pb::Channel::Site as i32,
        contact_name: String::new(),
        attachment_ids: attachments,
    };
    // A visitor writes into one dialog: one lane.
    session.submit(String::new(), request).await
}

struct PageFrame {
    url: String,
    title: String,
    referrer: String,
    visit_started_at: Option<String>,
    pages_seen: Option<u32>,
    page_view_id: String,
}

/// The visitor is on a page: they are online there, and it goes on their timeline.
async fn on_page(
    session: &mut Session,
    online: &Online,
    visitor: &mut Visitor,
    frame: PageFrame,
) -> Result<(), Closed> {
    let page_url_ok = (frame.url.starts_with("http://") || frame.url.starts_with("https://"))
        && frame.url.len() <= MAX_URL_BYTES;
    if !page_url_ok || !page_view_id_ok(&frame.page_view_id) {
        let problem = "page frames need an http(s) url of at most 2048 bytes and a page_view_id of 1 to 64 bytes";
        return session.send(frames::error("invalid", problem, None)).await;
    }
    let title: String = frame.title.chars().take(MAX_TITLE_CHARS).collect();
    let now = Utc::now();
    let visit_started_at = frame
        .visit_started_at
        .and_then(|at| DateTime::parse_from_rfc3339(&at).ok())
        .map(|at| at.with_timezone(&Utc))
        .filter(|at| *at <= now)
        .unwrap_or(now);
    let page = VisitorPage {
        contact_id: visitor.contact_id,
        visitor_id: visitor.visitor_id.clone(),
        address: visitor.address.map(|a| a.to_string()).unwrap_or_default(),
        name: visitor.name.clone(),
        email: visitor.email.clone(),
        page_url: frame.url.clone(),
        page_title: title.clone(),
        visit_started_at,
        pages_seen: frame.pages_seen.unwrap_or(1).max(1),
        at: now,
    };
    session.page_url = frame.url.clone();
    crate::widget::seen::page(&session.state.pool, visitor.account_id, &frame.url);
    online.page(visitor.account_id, page.clone());
    visitor.page = Some(page);
    let summary = match (title.is_empty(), frame.referrer.is_empty()) {
        (true, _) => frame.url.clone(),
        (false, true) => format!("{title} ({})", frame.url),
        (false, false) => format!("{title} ({}), from {}", frame.url, frame.referrer),
    };
    if !has_contact_now(session, visitor).await? {
        // Nothing is written for a visitor who only browses; the page they
        // are on goes on the timeline if they write from it.
        visitor.unrecorded_page = Some((frame.page_view_id, summary));
        return Ok(());
    }
    record(session, visitor, "page_visit", frame.page_view_id, summary).await
}

/// Whether the visitor has a contact now: they may have got one since the
/// socket opened without their doing (a manager wrote to them first, or
/// another tab of theirs wrote). Then the page they were on goes on their
/// timeline. Looked up, never created; a failure counts as no.
async fn has_contact_now(session: &mut Session, visitor: &mut Visitor) -> Result<bool, Closed> {
    if visitor.has_contact {
        return Ok(true);
    }
    let request = resolve_request(visitor, false);
    let found = session
        .state
        .contacts
        .clone()
        .resolve_visitor(request)
        .await;
    if !found.is_ok_and(|contact| contact.get_ref().id == visitor.contact_id.to_string()) {
        return Ok(false);
    }
    became_contact(session, visitor).await?;
    Ok(true)
}

async fn on_shown(
    session: &mut Session,
    visitor: &mut Visitor,
    page_view_id: String,
) -> Result<(), Closed> {
    if !page_view_id_ok(&page_view_id) {
        let problem = "a page_view_id is 1 to 64 bytes";
        return session.send(frames::error("invalid", problem, None)).await;
    }
    if !has_contact_now(session, visitor).await? {
        return Ok(());
    }
    let summary = match &visitor.page {
        Some(page) => format!("The chat was opened on {}", page.page_url),
        None => "The chat was opened".to_owned(),
    };
    record(session, visitor, "widget_shown", page_view_id, summary).await
}

fn page_view_id_ok(id: &str) -> bool {
    !id.is_empty() && id.len() <= MAX_PAGE_VIEW_ID_BYTES && !id.contains('\0')
}

/// Puts the visitor's activity on their timeline (once per page view).
async fn record(
    session: &mut Session,
    visitor: &Visitor,
    kind: &str,
    ref_id: String,
    summary: String,
) -> Result<(), Closed> {
    let request = contact_pb::RecordActivityRequest {
        account_id: visitor.account_id.to_string(),
        contact_id: visitor.contact_id.to_string(),
        kind: kind.to_owned(),
        ref_id,
        summary,
    };
    match session
        .state
        .contacts
        .clone()
        .record_activity(request)
        .await
    {
        Ok(_) => Ok(()),
        Err(status) => session.send_error(&Error::from(status), None).await,
    }
}

struct Identification {
    name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    user_hash: Option<String>,
}

enum Moved {
    No,
    Yes,
}

/// Stores who the visitor says they are; a verified e-mail of another
/// contact moves them there (the caller then closes the socket).
async fn on_identify(
    session: &mut Session,
    online: &Online,
    visitor: &mut Visitor,
    said: Identification,
) -> Result<Moved, Closed> {
    // Saying who one is makes a contact: budgeted as a first message is.
    if !visitor.has_contact && !first_action_allowed(session, visitor, None).await? {
        return Ok(Moved::No);
    }
    if !ensure_contact(session, visitor, None).await? {
        return Ok(Moved::No);
    }
    // The secret as it is now: a new one stops the old from verifying at once.
    let verified = match (&said.email, &said.user_hash) {
        (Some(email), Some(hash)) => {
            match crate::db::identity_secret(&session.state.pool, visitor.account_id).await {
                Ok(secret) => identity::verified(&secret, email, hash),
                Err(e) => {
                    session.send_error(&Error::from(e), None).await?;
                    return Ok(Moved::No);
                }
            }
        }
        _ => false,
    };
    let request = contact_pb::IdentifyVisitorRequest {
        account_id: visitor.account_id.to_string(),
        visitor_id: visitor.visitor_id.clone(),
        name: said.name,
        email: said.email,
        phone: said.phone,
        email_verified: verified,
    };
    let identified = match session
        .state
        .contacts
        .clone()
        .identify_visitor(request)
        .await
    {
        Ok(identified) => identified.into_inner(),
        Err(status) => {
            session.send_error(&Error::from(status), None).await?;
            return Ok(Moved::No);
        }
    };
    let Some(contact) = identified.contact else {
        return Ok(Moved::No);
    };
    let frame = ServerFrame::Identified {
        contact_id: &contact.id,
        verified,
    };
    session.send(frame.text()).await?;
    if identified.moved {
        return Ok(Moved::Yes);
    }
    visitor.name = contact.name;
    visitor.email = contact.email;
    if let Some(page) = &mut visitor.page {
        page.name = visitor.name.clone();
        page.email = visitor.email.clone();
        online.page(visitor.account_id, page.clone());
    }
    Ok(Moved::No)
}
