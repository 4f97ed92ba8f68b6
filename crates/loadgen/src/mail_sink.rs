//! The local SMTP server the benchmark points the notification service at:
//! it takes every e-mail (mailin's state machine, as the suite's own
//! listener), and records when each arrived, to whom, and the latency stamps
//! (`lat:<nanoseconds>`) in its text, in order.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use mailin::{Action, Handler, Response, SessionBuilder, response};
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// One e-mail as it arrived.
#[derive(Clone, Debug)]
pub struct Arrival {
    pub at: Instant,
    pub to: Vec<String>,
    /// The stamps in its text part, top to bottom.
    pub stamps: Vec<u64>,
}

/// What arrived so far; cheap to clone.
#[derive(Clone, Default)]
pub struct Arrivals(Arc<Mutex<Vec<Arrival>>>);

impl Arrivals {
    pub fn push(&self, arrival: Arrival) {
        self.0.lock().expect("arrivals").push(arrival);
    }

    pub fn snapshot(&self) -> Vec<Arrival> {
        self.0.lock().expect("arrivals").clone()
    }
}

/// The `lat:<n>` stamps in `text`, in order.
pub fn stamps(text: &str) -> Vec<u64> {
    text.split("lat:")
        .skip(1)
        .filter_map(|rest| {
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        })
        .collect()
}

/// Serves SMTP on `addr` until the runtime ends.
pub async fn start(addr: &str) -> anyhow::Result<Arrivals> {
    let listener = TcpListener::bind(addr).await?;
    let arrivals = Arrivals::default();
    let recorder = arrivals.clone();
    tokio::spawn(async move {
        while let Ok((stream, peer)) = listener.accept().await {
            tokio::spawn(connection(stream, peer, recorder.clone()));
        }
    });
    Ok(arrivals)
}

/// The message being sent on one connection.
struct Collector {
    to: Vec<String>,
    data: Vec<u8>,
    arrivals: Arrivals,
}

impl Handler for Collector {
    fn data_start(&mut self, _domain: &str, _from: &str, _is8bit: bool, to: &[String]) -> Response {
        self.to = to.to_vec();
        self.data.clear();
        response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        let at = Instant::now();
        let text = mail_parser::MessageParser::default()
            .parse(&self.data)
            .and_then(|message| message.body_text(0).map(|t| t.into_owned()))
            .unwrap_or_default();
        self.arrivals.push(Arrival {
            at,
            to: std::mem::take(&mut self.to),
            stamps: stamps(&text),
        });
        response::OK
    }
}

async fn connection(stream: TcpStream, peer: SocketAddr, arrivals: Arrivals) -> anyhow::Result<()> {
    // Each answer at once: SMTP is one short line each way, in turn.
    stream.set_nodelay(true)?;
    let collector = Collector {
        to: Vec::new(),
        data: Vec::new(),
        arrivals,
    };
    let mut session = SessionBuilder::new("bench-sink").build(peer.ip(), collector);
    let (reader, mut writer) = stream.into_split();
    let mut reader = BufReader::new(reader);
    writer.write_all(&session.greeting().buffer()?).await?;
    let mut line = Vec::with_capacity(1024);
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line).await? == 0 {
            return Ok(());
        }
        let answer = session.process(&line);
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

#[cfg(test)]
mod tests {
    use super::stamps;

    #[test]
    fn stamps_are_read_in_order_and_other_text_is_skipped() {
        assert_eq!(
            stamps("You: lat:12 and lat:345.\nlat:x lat:6"),
            vec![12, 345, 6]
        );
        assert!(stamps("no stamps").is_empty());
    }
}
