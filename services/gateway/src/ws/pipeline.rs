//! The `send` frames of one socket in flight together: a client that
//! writes fast does not wait for each message to be stored before the next
//! is even read. Messages to one dialog (a "lane") are still stored one
//! after another, in the order sent, so per-dialog order holds; different
//! dialogs go in parallel. Acks come back as each message is stored.

use std::collections::{HashMap, VecDeque};

use futures::StreamExt as _;
use futures::future::BoxFuture;
use futures::stream::FuturesUnordered;

use chat_platform::grpc::Traced;
use chat_proto::dialog::v1 as pb;
use chat_proto::dialog::v1::dialog_service_client::DialogServiceClient;

/// Most sends a socket may have in flight or waiting; past that the socket
/// reads no more frames until some are done (backpressure, not refusal).
pub const MAX_PIPELINED: usize = 64;

/// A send that finished, stored or not.
pub struct Done {
    pub client_message_id: String,
    pub result: Result<pb::PostMessageResponse, tonic::Status>,
    lane: String,
}

pub struct Pipeline {
    dialogs: DialogServiceClient<Traced>,
    in_flight: FuturesUnordered<BoxFuture<'static, Done>>,
    /// Sends waiting for the one in flight in their lane.
    waiting: HashMap<String, VecDeque<pb::PostMessageRequest>>,
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
                queue.push_back(request);
                self.queued += 1;
            }
            None => {
                self.waiting.insert(lane.clone(), VecDeque::new());
                self.start(lane, request);
            }
        }
    }

    fn start(&mut self, lane: String, request: pb::PostMessageRequest) {
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

    /// The next send to finish; the next one of its lane starts meanwhile.
    /// Never resolves while nothing is in flight.
    pub async fn next(&mut self) -> Done {
        let Some(done) = self.in_flight.next().await else {
            return std::future::pending().await;
        };
        match self
            .waiting
            .get_mut(&done.lane)
            .and_then(VecDeque::pop_front)
        {
            Some(request) => {
                self.queued -= 1;
                self.start(done.lane.clone(), request);
            }
            None => {
                self.waiting.remove(&done.lane);
            }
        }
        done
    }
}
