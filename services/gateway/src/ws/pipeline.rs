//! The `send` frames of one socket in flight together: a client that
//! writes fast does not wait for each message to be stored before the next
//! is even read. Messages to one dialog (a "lane") are still stored one
//! after another, in the order sent, so per-dialog order holds; different
//! dialogs go in parallel. Acks come back as each message is stored.
//!
//! A send that waited behind its lane for longer than [`MAX_LANE_WAIT`] is
//! not sent on: it is answered `unavailable` (nothing stored; the client
//! sends it again later). Under overload a socket's sends would otherwise
//! queue for seconds behind each other; so what is stored is stored within
//! a bound and what cannot be is refused fast.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use futures::StreamExt as _;
use futures::future::BoxFuture;
use futures::stream::FuturesUnordered;

use chat_platform::grpc::Traced;
use chat_proto::dialog::v1 as pb;
use chat_proto::dialog::v1::dialog_service_client::DialogServiceClient;

/// Most sends a socket may have in flight or waiting; past that the socket
/// reads no more frames until some are done (backpressure, not refusal).
pub const MAX_PIPELINED: usize = 64;

/// Longest a send waits for the sends before it in its lane.
pub const MAX_LANE_WAIT: Duration = Duration::from_millis(500);

/// A send that finished, stored or not.
pub struct Done {
    pub client_message_id: String,
    pub result: Result<pb::PostMessageResponse, tonic::Status>,
    lane: String,
}

pub struct Pipeline {
    dialogs: DialogServiceClient<Traced>,
    in_flight: FuturesUnordered<BoxFuture<'static, Done>>,
    /// Sends waiting for the one in flight in their lane, with when they came.
    waiting: HashMap<String, VecDeque<(Instant, pb::PostMessageRequest)>>,
    queued: usize,
}

impl Pipeline {
    pub fn new(dialogs: DialogServiceClient<Traced>) -> Self {
        Self {
            dialogs,
            in_flight: FuturesUnordered::new(),
            waiting: HashMap::new(),
            queued: 0,
        }
    }

    /// Sends in flight or waiting.
    pub fn len(&self) -> usize {
        self.in_flight.len() + self.queued
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the socket may read another frame now.
    pub fn has_room(&self) -> bool {
        self.len() < MAX_PIPELINED
    }

    /// Stores the message after those sent before it in its lane.
    pub fn submit(&mut self, lane: String, request: pb::PostMessageRequest) {
        match self.waiting.get_mut(&lane) {
            Some(queue) => {
                queue.push_back((Instant::now(), request));
                self.queued += 1;
            }
            None => {
                self.waiting.insert(lane.clone(), VecDeque::new());
                self.start(lane, request, Instant::now());
            }
        }
    }

    /// Sends the request on, or refuses it when it waited too long.
    fn start(&mut self, lane: String, request: pb::PostMessageRequest, came: Instant) {
        if came.elapsed() > MAX_LANE_WAIT {
            let refused = refusal(lane, request);
            self.in_flight.push(Box::pin(std::future::ready(refused)));
            return;
        }
        let mut dialogs = self.dialogs.clone();
        self.in_flight.push(Box::pin(async move {
            let client_message_id = request.client_message_id.clone();
            let result = dialogs.post_message(request).await.map(|r| r.into_inner());
            Done {
                client_message_id,
                result,
                lane,
            }
        }));
    }

    /// The next send to finish (the next one of its lane starts meanwhile),
    /// or to be refused for waiting too long behind its lane. Never resolves
    /// while nothing is in flight. Cancel-safe.
    pub async fn next(&mut self) -> Done {
        let oldest = self
            .waiting
            .values()
            .filter_map(|queue| queue.front().map(|(came, _)| *came))
            .min();
        let too_late = async {
            match oldest {
                Some(came) => tokio::time::sleep_until((came + MAX_LANE_WAIT).into()).await,
                None => std::future::pending().await,
            }
        };
        let finished = async {
            match self.in_flight.next().await {
                Some(done) => done,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            done = finished => {
                match self.waiting.get_mut(&done.lane).and_then(VecDeque::pop_front) {
                    Some((came, request)) => {
                        self.queued -= 1;
                        self.start(done.lane.clone(), request, came);
                    }
                    None => {
                        self.waiting.remove(&done.lane);
                    }
                }
                done
            }
            () = too_late => {
                let (lane, queue) = self
                    .waiting
                    .iter_mut()
                    .filter(|(_, queue)| !queue.is_empty())
                    .min_by_key(|(_, queue)| queue.front().map(|(came, _)| *came))
                    .expect("the oldest waiting send");
                let (_, request) = queue.pop_front().expect("not empty");
                self.queued -= 1;
                // The lane stays: its send in flight is still to finish.
                refusal(lane.clone(), request)
            }
        }
    }
}

/// The answer to a send that waited too long behind its lane.
fn refusal(lane: String, request: pb::PostMessageRequest) -> Done {
    metrics::counter!("gateway_sends_refused_total", "why" => "waited").increment(1);
    Done {
        client_message_id: request.client_message_id,
        result: Err(tonic::Status::resource_exhausted(
            "the socket's earlier sends into this dialog are still being stored",
        )),
        lane,
    }
}
