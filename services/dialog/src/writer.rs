//! Group commit: posts that arrive together share one transaction, so a
//! busy dialog service pays one BEGIN, one insert of events, one COMMIT and
//! one WAL flush for many messages instead of one each. A post that arrives
//! alone is written at once; nothing waits for company.
//!
//! A few writer tasks take groups from one queue, so groups overlap. Posts are
//! taken in lock order, so groups lock shared dialogs in the same order; a
//! visitor's post (known by contact) and a manager's (known by dialog) to the
//! same dialog can still meet in opposite order, and then PostgreSQL breaks
//! the deadlock after `deadlock_timeout` (1 s). A group that fails so is
//! written again post by post, each in its own transaction, so one post's
//! fault is only its own. When the database is away the whole group is
//! answered "unavailable" at once (each post alone would wait out the pool).
//!
//! Each post is written inside the span of the request that sent it, so its
//! events carry that request's trace.

use std::sync::Arc;

use sqlx::PgPool;
use tokio::sync::{Mutex, mpsc, oneshot};

use chat_platform::outbox::Outbox;

use crate::error::{Error, Result};
use crate::messages::{self, Post, Posted};
use tracing::Instrument as _;

/// Most posts in one transaction.
pub const MAX_GROUP: usize = 64;
/// Transactions in flight at once.
pub const WRITERS: usize = 8;
/// Posts waiting for a writer before callers wait to queue.
const QUEUE: usize = 4096;

struct Job {
    post: Post,
    /// The span of the request, so the post's events continue its trace.
    span: tracing::Span,
    reply: oneshot::Sender<Result<Posted>>,
}

/// The handle request handlers post through; cheap to clone.
#[derive(Clone)]
pub struct Writer {
    queue: mpsc::Sender<Job>,
}

impl Writer {
    /// Starts the writer tasks; they end when every handle is dropped.
    pub fn start(pool: PgPool, outbox: Outbox) -> Writer {
        let (queue, jobs) = mpsc::channel(QUEUE);
        let jobs = Arc::new(Mutex::new(jobs));
        for _ in 0..WRITERS {
            tokio::spawn(run(jobs.clone(), pool.clone(), outbox.clone()));
        }
        Writer { queue }
    }

    /// Stores a checked post, in a group with whatever posts arrive with it.
    pub async fn post(&self, post: Post) -> Result<Posted> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send(Job {
                post,
                span: tracing::Span::current(),
                reply,
            })
            .await
            .map_err(|_| Error::Unavailable)?;
        answer.await.map_err(|_| Error::Unavailable)?
    }
}

async fn run(jobs: Arc<Mutex<mpsc::Receiver<Job>>>, pool: PgPool, outbox: Outbox) {
    loop {
        let group = {
            let mut jobs = jobs.lock().await;
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
        // Stable: posts to one dialog keep the order they came in.
        let mut group = group;
        group.sort_by_key(|job| job.post.lock_key());
        metrics::histogram!("dialog_write_group_size").record(group.len() as f64);
        let jobs: Vec<&Job> = group.iter().collect();
        let results = match write_group(&pool, &outbox, &jobs).await {
            Ok(results) => results,
            Err(Error::Unavailable) => group.iter().map(|_| Err(Error::Unavailable)).collect(),
            Err(e) if group.len() > 1 => {
                tracing::debug!(error = %e, size = group.len(), "group failed; writing its posts one by one");
                let mut results = Vec::with_capacity(group.len());
                for job in &jobs {
                    results.push(write_group(&pool, &outbox, &[job]).await.and_then(one));
                }
                results
            }
            Err(e) => vec![Err(e)],
        };
        for (job, result) in group.into_iter().zip(results) {
            let _ = job.reply.send(result); // the caller may have gone
        }
    }
}

fn one(mut results: Vec<Result<Posted>>) -> Result<Posted> {
    results.pop().unwrap_or(Err(Error::Unavailable))
}

/// Writes the posts in one transaction: per post its own result (a post to
/// an unknown dialog fails alone); `Err` when the transaction itself failed,
/// in which case nothing of it was written.
async fn write_group(pool: &PgPool, outbox: &Outbox, jobs: &[&Job]) -> Result<Vec<Result<Posted>>> {
    let mut tx = pool.begin().await?;
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
