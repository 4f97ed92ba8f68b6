//! Group commit: posts that arrive together share one transaction, so a
//! busy dialog service pays one BEGIN, one insert of events, one COMMIT and
//! one WAL flush for many messages instead of one each. A post that arrives
//! alone is written at once; nothing waits for company.
//!
//! A few writer tasks take groups from one queue, so groups overlap. Every
//! group locks the dialogs it writes in one order, by dialog id, so two
//! groups never wait for each other in a circle: a visitor's post names its
//! contact rather than its dialog, so the writer first finds the contact's
//! dialog (kept in a cache: a contact's dialog never changes), and posts
//! that open a new dialog come last, by contact. Should a group fail anyway
//! (a deadlock with some other statement, a post the database refuses), it
//! is written again post by post, each in its own transaction, so one
//! post's fault is only its own; `dialog_write_group_fallbacks_total` counts
//! those. When the database is away the whole group is answered
//! "unavailable" at once (each post alone would wait out the timeouts).
//!
//! Each writer task keeps a connection of its own, so a group costs no trip
//! to the pool. A connection a database restart broke is replaced, and the
//! group tried once more on the new one (a post already stored is found by
//! its client id, so trying again never stores it twice).
//!
//! Each post is written inside the span of the request that sent it, so its
//! events carry that request's trace.
//!
//! Under overload a post is refused rather than queued for seconds: when the
//! queue is full, or when it waited longer than its limit for a writer
//! (`DIALOG_POST_MAX_WAIT_MS`, [`DEFAULT_MAX_QUEUE_WAIT`]), it is answered `Busy` with nothing written, and the caller sends
//! it again later (`dialog_posts_shed_total` counts those). What the writers
//! take is then only what they can write in time, so the latency of what is
//! stored stays bounded (BENCHMARKS.md, "Overload").

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions as _, Connection as _, PgConnection, PgPool};
use tokio::sync::{Mutex, mpsc, oneshot};
use tracing::Instrument as _;
use uuid::Uuid;

use chat_platform::outbox::Outbox;
use chat_platform::shutdown::Tasks;

use crate::alone;
use crate::db::Target;
use crate::error::{Error, Result};
use crate::messages::{self, Post, Posted};

/// Most posts in one transaction.
pub const MAX_GROUP: usize = 64;
/// Transactions in flight at once.
pub const WRITERS: usize = 8;
/// Posts waiting for a writer; past that a post is refused at once.
const QUEUE: usize = 4096;
/// Longest a post waits for a writer before it is refused instead, unless configured.
pub const DEFAULT_MAX_QUEUE_WAIT: Duration = Duration::from_millis(250);
/// How long a writer waits for a new connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Contacts whose dialog the writer remembers; past this it starts over.
const DIALOG_CACHE_ENTRIES: usize = 100_000;

struct Job {
    post: Post,
    /// The span of the request, so the post's events continue its trace.
    span: tracing::Span,
    queued_at: Instant,
    reply: oneshot::Sender<Result<Posted>>,
}

/// The handle request handlers post through; cheap to clone.
#[derive(Clone)]
pub struct Writer {
    queue: mpsc::Sender<Job>,
}

/// What the writer tasks share.
struct Shared {
    jobs: Mutex<mpsc::Receiver<Job>>,
    options: PgConnectOptions,
    outbox: Outbox,
    /// Longest a post waits for a writer before it is refused.
    max_wait: Duration,
    /// `(account, contact)` to the contact's dialog.
    dialogs: std::sync::Mutex<HashMap<(Uuid, Uuid), Uuid>>,
}

impl Writer {
    /// Starts the writer tasks (on `tasks`), connecting as `pool` does;
    /// they end when every handle is dropped and the queue is empty.
    pub fn start(pool: &PgPool, outbox: Outbox, max_wait: Duration, tasks: &Tasks) -> Writer {
        let (queue, jobs) = mpsc::channel(QUEUE);
        let shared = Arc::new(Shared {
            jobs: Mutex::new(jobs),
            options: (*pool.connect_options()).clone(),
            outbox,
            max_wait,
            dialogs: Default::default(),
        });
        for _ in 0..WRITERS {
            tasks.spawn(run(shared.clone()));
        }
        Writer { queue }
    }

    /// Stores a checked post, in a group with whatever posts arrive with it.
    pub async fn post(&self, post: Post) -> Result<Posted> {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            post,
            span: tracing::Span::current(),
            queued_at: Instant::now(),
            reply,
        };
        match self.queue.try_send(job) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                metrics::counter!("dialog_posts_shed_total", "why" => "queue_full").increment(1);
                return Err(Error::Busy);
            }
            Err(mpsc::error::TrySendError::Closed(_)) => return Err(Error::Unavailable),
        }
        answer.await.map_err(|_| Error::Unavailable)?
    }
}

/// Where a post falls in the order groups lock dialogs in: existing
/// dialogs by id, then new ones by contact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum LockKey {
    Dialog(Uuid),
    NewDialogOf(Uuid),
}

async fn run(shared: Arc<Shared>) {
    let mut conn: Option<PgConnection> = None;
    loop {
        let taken = {
            let mut jobs = shared.jobs.lock().await;
            let Some(first) = jobs.recv().await else {
                return;
            };
            let mut group = vec![first];
            while group.len() < MAX_GROUP {
                match jobs.try_recv() {
                    Ok(job) => group.push(job),
                    Err(_) => break,
                }
            }
            group
        };
        let mut group = refuse_late(taken, shared.max_wait);
        if group.is_empty() {
            continue;
        }
        metrics::histogram!("dialog_write_group_size").record(group.len() as f64);
        let mut results = None;
        // Once on the connection kept, once more on a new one if that one broke.
        for attempt in 0..2 {
            let fresh = conn.is_none();
            let outcome = match connection(&shared.options, &mut conn).await {
                Ok(c) => match write_alone(c, &shared, &group).await {
                    Ok(Some(posted)) => Ok(vec![Ok(posted)]),
                    Ok(None) => write_in_order(c, &shared, &mut group).await,
                    Err(e) => Err(e),
                },
                Err(e) => Err(e),
            };
            match outcome {
                Err(Error::Unavailable) => {
                    conn = None;
                    if fresh || attempt == 1 {
                        results = Some(group.iter().map(|_| Err(Error::Unavailable)).collect());
                        break;
                    }
                }
                outcome => {
                    results = Some(outcome.unwrap_or_else(|e| vec![Err(e)]));
                    break;
                }
            }
        }
        let results: Vec<Result<Posted>> = results.unwrap_or_default();
        for (job, result) in group.into_iter().zip(results) {
            let _ = job.reply.send(result); // the caller may have gone
        }
    }
}

/// Answers `Busy` to the posts that waited too long for a writer (their
/// callers have waited long enough to be told); the rest are written.
fn refuse_late(group: Vec<Job>, max_wait: Duration) -> Vec<Job> {
    let (late, in_time): (Vec<Job>, Vec<Job>) = group
        .into_iter()
        .partition(|job| job.queued_at.elapsed() > max_wait);
    if !late.is_empty() {
        metrics::counter!("dialog_posts_shed_total", "why" => "waited")
            .increment(late.len() as u64);
    }
    for job in late {
        let _ = job.reply.send(Err(Error::Busy));
    }
    in_time
}

/// The writer's connection, made anew when it has none.
async fn connection<'c>(
    options: &PgConnectOptions,
    conn: &'c mut Option<PgConnection>,
) -> Result<&'c mut PgConnection> {
    if conn.is_none() {
        let made = tokio::time::timeout(CONNECT_TIMEOUT, options.connect())
            .await
            .map_err(|_| Error::Unavailable)??;
        *conn = Some(made);
    }
    Ok(conn.as_mut().expect("just made"))
}

/// A group of one post that can be written by one statement committing on
/// its own (see [`crate::alone`]): a visitor's into the dialog the writer
/// knows is theirs, or a manager's reply into a dialog named by id. `None`,
/// having written nothing, when the post must go the way of a transaction.
async fn write_alone(
    conn: &mut PgConnection,
    shared: &Shared,
    group: &[Job],
) -> Result<Option<Posted>> {
    let [job] = group else {
        return Ok(None);
    };
    let post = &job.post;
    let new = post.new_message();
    // The statements written alone carry no files.
    if !new.attachments.is_empty() {
        return Ok(None);
    }
    let stored = match (
        post.target(),
        post.author_kind(),
        new.author_id,
        new.channel,
    ) {
        (Target::DialogOf { contact_id }, "visitor", _, Some(channel)) => {
            let known = shared
                .dialogs
                .lock()
                .expect("dialog cache")
                .get(&(post.account_id(), contact_id))
                .copied();
            let Some(dialog_id) = known else {
                return Ok(None);
            };
            alone::append_visitor_message(conn, &new, dialog_id, contact_id, channel)
                .instrument(job.span.clone())
                .await?
        }
        (
            Target::Dialog {
                dialog_id,
                visitor: None,
            },
            "manager",
            Some(manager_id),
            _,
        ) => {
            alone::append_manager_reply(conn, &new, dialog_id, manager_id)
                .instrument(job.span.clone())
                .await?
        }
        _ => return Ok(None),
    };
    let Some(stored) = stored else {
        return Ok(None);
    };
    shared.outbox.committed_referenced(stored.events);
    metrics::counter!("dialog_messages_stored_total", "author" => post.author_kind()).increment(1);
    metrics::counter!("dialog_posts_written_alone_total").increment(1);
    Ok(Some(Posted {
        message: stored.message,
        duplicate: false,
        dialog_created: false,
    }))
}

/// Puts the group in lock order and writes it: as one transaction, or post
/// by post when that fails for a reason of its own. Per post its result;
/// `Err` only when the database is away.
async fn write_in_order(
    conn: &mut PgConnection,
    shared: &Shared,
    group: &mut [Job],
) -> Result<Vec<Result<Posted>>> {
    let keys = lock_keys(conn, shared, group).await?;
    let mut order: Vec<usize> = (0..group.len()).collect();
    // Stable: posts to one dialog keep the order they came in.
    order.sort_by_key(|&i| keys[i]);
    let jobs: Vec<&Job> = order.iter().map(|&i| &group[i]).collect();
    let in_order = match write_group(conn, &shared.outbox, &jobs).await {
        Ok(results) => results,
        Err(Error::Unavailable) => return Err(Error::Unavailable),
        Err(e) if jobs.len() > 1 => {
            tracing::warn!(error = %e, size = jobs.len(), "group failed; writing its posts one by one");
            metrics::counter!("dialog_write_group_fallbacks_total").increment(1);
            let mut results = Vec::with_capacity(jobs.len());
            for job in &jobs {
                match write_group(conn, &shared.outbox, &[job]).await {
                    Err(Error::Unavailable) => return Err(Error::Unavailable),
                    written => results.push(written.and_then(one)),
                }
            }
            results
        }
        Err(e) => vec![Err(e)],
    };
    for (job, result) in jobs.iter().zip(&in_order) {
        if let (Target::DialogOf { contact_id }, Ok(posted)) = (job.post.target(), result) {
            remember(
                shared,
                job.post.account_id(),
                contact_id,
                posted.message.dialog_id,
            );
        }
    }
    // Back to the order the group came in, which its replies follow.
    let mut results: Vec<Option<Result<Posted>>> = group.iter().map(|_| None).collect();
    for (i, result) in order.into_iter().zip(in_order) {
        results[i] = Some(result);
    }
    Ok(results
        .into_iter()
        .map(|r| r.unwrap_or(Err(Error::Unavailable)))
        .collect())
}

/// Each post's place in the lock order: the dialog it names, or its
/// contact's dialog (from the cache, else looked up in one statement for
/// all the group's unknown contacts), or, for a contact without one yet,
/// the dialog it is about to open.
async fn lock_keys(
    conn: &mut PgConnection,
    shared: &Shared,
    group: &[Job],
) -> Result<Vec<LockKey>> {
    let mut keys = Vec::with_capacity(group.len());
    let mut unknown: Vec<(Uuid, Uuid)> = Vec::new();
    {
        let dialogs = shared.dialogs.lock().expect("dialog cache");
        for job in group {
            keys.push(match job.post.target() {
                Target::Dialog { dialog_id, .. } => LockKey::Dialog(dialog_id),
                Target::DialogOf { contact_id } => {
                    match dialogs.get(&(job.post.account_id(), contact_id)) {
                        Some(&dialog_id) => LockKey::Dialog(dialog_id),
                        None => {
                            unknown.push((job.post.account_id(), contact_id));
                            LockKey::NewDialogOf(contact_id)
                        }
                    }
                }
            });
        }
    }
    if unknown.is_empty() {
        return Ok(keys);
    }
    let (accounts, contacts): (Vec<Uuid>, Vec<Uuid>) = unknown.into_iter().unzip();
    let found = sqlx::query!(
        "select d.account_id, d.contact_id, d.id from dialog d \
         join unnest($1::uuid[], $2::uuid[]) as k(account_id, contact_id) \
             on d.account_id = k.account_id and d.contact_id = k.contact_id",
        &accounts,
        &contacts
    )
    .fetch_all(&mut *conn)
    .await?;
    for row in found {
        let (account_id, contact_id, dialog_id) = (row.account_id, row.contact_id, row.id);
        remember(shared, account_id, contact_id, dialog_id);
        for (job, key) in group.iter().zip(keys.iter_mut()) {
            if job.post.account_id() == account_id && *key == LockKey::NewDialogOf(contact_id) {
                *key = LockKey::Dialog(dialog_id);
            }
        }
    }
    Ok(keys)
}

fn remember(shared: &Shared, account_id: Uuid, contact_id: Uuid, dialog_id: Uuid) {
    let mut dialogs = shared.dialogs.lock().expect("dialog cache");
    if dialogs.len() >= DIALOG_CACHE_ENTRIES {
        dialogs.clear();
    }
    dialogs.insert((account_id, contact_id), dialog_id);
}

fn one(mut results: Vec<Result<Posted>>) -> Result<Posted> {
    results.pop().unwrap_or(Err(Error::Unavailable))
}

/// Writes the posts in one transaction: per post its own result (a post to
/// an unknown dialog fails alone); `Err` when the transaction itself failed,
/// in which case nothing of it was written.
async fn write_group(
    conn: &mut PgConnection,
    outbox: &Outbox,
    jobs: &[&Job],
) -> Result<Vec<Result<Posted>>> {
    let mut tx = conn.begin().await?;
    let mut events = Vec::with_capacity(jobs.len() + 1);
    let mut results = Vec::with_capacity(jobs.len());
    for job in jobs {
        let written = messages::write(&mut tx, &job.post, &mut events)
            .instrument(job.span.clone())
            .await;
        match written {
            // The transaction is broken: none of it counts.
            Err(e @ (Error::Database(_) | Error::Unavailable)) => return Err(e),
            result => results.push(result),
        }
    }
    let staged = match events.is_empty() {
        true => None,
        false => Some(outbox.enqueue_all(&mut tx, events).await?),
    };
    tx.commit().await?;
    if let Some(staged) = staged {
        outbox.committed(staged);
    }
    for (job, result) in jobs.iter().zip(&results) {
        if result.as_ref().is_ok_and(|posted| !posted.duplicate) {
            metrics::counter!("dialog_messages_stored_total", "author" => job.post.author_kind())
                .increment(1);
        }
    }
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn existing_dialogs_are_locked_before_new_ones_each_in_id_order() {
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let mut keys = vec![
            LockKey::NewDialogOf(a),
            LockKey::Dialog(b),
            LockKey::NewDialogOf(Uuid::from_u128(0)),
            LockKey::Dialog(a),
        ];
        keys.sort();
        assert_eq!(
            keys,
            [
                LockKey::Dialog(a),
                LockKey::Dialog(b),
                LockKey::NewDialogOf(Uuid::from_u128(0)),
                LockKey::NewDialogOf(a),
            ]
        );
    }
}
