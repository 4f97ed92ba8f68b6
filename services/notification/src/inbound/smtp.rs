//! The SMTP listener answers come in by (`NOTIFICATION_SMTP_LISTEN_ADDR`):
//! the mail exchanger of the inbound domain points here. The protocol is
//! mailin's state machine; this feeds it lines and answers the end of each
//! message only once the answer is stored (250), refused (550) or must be
//! tried again (451). It takes mail only for reply addresses of ours, so it
//! relays nothing.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mailin::{Action, Handler, Response, SessionBuilder, response};
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::{TcpListener, TcpStream};

use chat_platform::Shutdown;

use super::{Incoming, MAX_EMAIL_BYTES, Receiver, Refusal};

/// A connection that sends nothing for this long is closed.
const IDLE: Duration = Duration::from_secs(300);
/// The longest command line taken (RFC 5321 allows 512; data lines 1000).
const MAX_LINE_BYTES: usize = 4096;

pub async fn serve(
    listener: TcpListener,
    receiver: Receiver,
    hostname: String,
    shutdown: Shutdown,
) {
    let receiver = Arc::new(receiver);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    tracing::warn!(error = %e, "SMTP accept failed");
                    continue;
                }
            },
            _ = shutdown.cancelled() => return,
        };
        let receiver = receiver.clone();
        let hostname = hostname.clone();
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            tokio::select! {
                result = connection(stream, peer, &receiver, &hostname) => {
                    if let Err(e) = result {
                        tracing::debug!(error = %e, %peer, "SMTP connection ended");
                    }
                }
                _ = shutdown.cancelled() => {}
            }
        });
    }
}

/// What the state machine collected of the message being sent.
#[derive(Default)]
struct Collected {
    recipients: Vec<String>,
    data: Vec<u8>,
    too_large: bool,
    complete: bool,
}

struct Collector {
    collected: Arc<Mutex<Collected>>,
    receiver: Arc<Receiver>,
}

impl Collector {
    fn lock(&self) -> std::sync::MutexGuard<'_, Collected> {
        self.collected.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Handler for Collector {
    fn rcpt(&mut self, to: &str) -> Response {
        match self.receiver.accepts(to) {
            true => response::OK,
            false => response::NO_MAILBOX,
        }
    }

    fn data_start(&mut self, _domain: &str, _from: &str, _is8bit: bool, to: &[String]) -> Response {
        *self.lock() = Collected {
            recipients: to.to_vec(),
            ..Collected::default()
        };
        response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        let mut collected = self.lock();
        if collected.data.len() + buf.len() > MAX_EMAIL_BYTES {
            collected.too_large = true;
        } else {
            collected.data.extend_from_slice(buf);
        }
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        self.lock().complete = true;
        // Replaced by the connection once the message is stored.
        response::OK
    }
}

async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    receiver: &Arc<Receiver>,
    hostname: &str,
) -> std::io::Result<()> {
    let collected = Arc::new(Mutex::new(Collected::default()));
    let collector = Collector {
        collected: collected.clone(),
        receiver: receiver.clone(),
    };
    let mut session = SessionBuilder::new(hostname).build(peer.ip(), collector);
    let (reader, mut writer) = stream.into_split();
    let mut reader = BufReader::new(reader);
    writer.write_all(&session.greeting().buffer()?).await?;
    let mut line = Vec::with_capacity(1024);
    loop {
        line.clear();
        let read = tokio::time::timeout(
            IDLE,
            (&mut reader)
                .take(MAX_LINE_BYTES as u64)
                .read_until(b'\n', &mut line),
        )
        .await;
        match read {
            Ok(Ok(0)) | Err(_) => return Ok(()),
            Ok(Ok(_)) => {}
            Ok(Err(e)) => return Err(e),
        }
        let mut answer = session.process(&line);
        let finished = {
            let mut collected = collected.lock().unwrap_or_else(|e| e.into_inner());
            match collected.complete {
                true => Some(std::mem::take(&mut *collected)),
                false => None,
            }
        };
        if let Some(message) = finished {
            answer = settle(receiver, message).await;
        }
        match answer.action {
            Action::NoReply => {}
            Action::Close => {
                writer.write_all(&answer.buffer()?).await?;
                return Ok(());
            }
            Action::Reply | Action::UpgradeTls => writer.write_all(&answer.buffer()?).await?,
        }
    }
}

/// Stores the message; the answer to its end.
async fn settle(receiver: &Receiver, message: Collected) -> Response {
    if message.too_large {
        return response::NO_STORAGE;
    }
    let Some(incoming) = Incoming::parse(message.recipients, &message.data) else {
        return response::TRANSACTION_FAILED;
    };
    match receiver.receive(&incoming).await {
        Ok(_) => response::OK,
        Err(Refusal::NotOurs) => response::NO_MAILBOX,
        Err(e) => {
            tracing::warn!(error = %e, "an answer by e-mail was not stored; the sender will try again");
            response::INTERNAL_ERROR
        }
    }
}
