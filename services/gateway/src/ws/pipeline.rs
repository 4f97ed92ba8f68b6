//! The `send` frames of one socket in flight together: a client that
//! writes fast does not wait for each message to be stored before the next
//! is even read. Messages to one dialog (a "lane") are still stored one
//! after another, in the order sent, so per-dialog order holds; different
//! dialogs go in parallel. Acks come back as each message is stored.
//!
//! A send that waited behind its lane for longer than its limit
//! (`GATEWAY_SEND_MAX_WAIT_MS`, [`DEFAULT_MAX_LANE_WAIT`]) is
//! not sent on: it is answered `unavailable` (nothing stored; the client
//! sends it again later). Under overload a socket's sends would otherwise
//! queue for seconds behind each other; so what is stored is stored within
//! a bound and what cannot be is refused fast. Once a lane refuses a send it
//! refuses everything behind it, and everything sent to it, until its send
//! in flight is done: nothing sent meanwhile overtakes a refused one.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt as _;
use futures::future::BoxFuture;
use futures::stream::FuturesUnordered;
use tokio::time::Instant;

use chat_platform::grpc::Traced;
use chat_proto::dialog::v1 as pb;
use chat_proto::dialog::v1::dialog_service_client::DialogServiceClient;

/// Most sends a socket may have in flight or waiting; past that the socket
/// reads no more frames until some are done (backpressure, not refusal).
pub const MAX_PIPELINED: usize = 64;

/// Longest a send waits for the sends before it in its lane, unless configured.
pub const DEFAULT_MAX_LANE_WAIT: Duration = Duration::from_millis(500);

/// A send that finished, stored or not.
pub struct Done {
    pub client_message_id: String,
    pub result: Result<pb::PostMessageResponse, tonic::Status>,
    lane: String,
}

/// How a send is stored: the dialog service's `PostMessage`.
type Post = Arc<
    dyn Fn(
            pb::PostMessageRequest,
        ) -> BoxFuture<'static, Result<pb::PostMessageResponse, tonic::Status>>
        + Send
        + Sync,
>;

/// One dialog's sends behind the one in flight.
#[derive(Default)]
struct Lane {
    /// Each with when it came.
    waiting: VecDeque<(Instant, pb::PostMessageRequest)>,
    /// A send of this lane was refused: so is every later one until the
    /// send in flight is done.
    refusing: bool,
}

/// One socket's sends being stored.
pub struct Pipeline {
    post: Post,
    /// Longest a send waits behind its lane before it is refused.
    max_wait: Duration,
    in_flight: FuturesUnordered<BoxFuture<'static, Done>>,
    /// The lanes with a send in flight.
    lanes: HashMap<String, Lane>,
    /// Sends waiting in their lanes (not in flight).
    queued: usize,
    /// Refused sends, to be answered.
    refused: VecDeque<Done>,
}

impl Pipeline {
    pub fn new(dialogs: DialogServiceClient<Traced>, max_wait: Duration) -> Self {
        Self::posting(
            max_wait,
            Arc::new(move |request| {
                let mut dialogs = dialogs.clone();
                Box::pin(async move { dialogs.post_message(request).await.map(|r| r.into_inner()) })
            }),
        )
    }

    fn posting(max_wait: Duration, post: Post) -> Self {
        Self {
            post,
            max_wait,
            in_flight: FuturesUnordered::new(),
            lanes: HashMap::new(),
            queued: 0,
            refused: VecDeque::new(),
        }
    }

    /// Sends in flight, waiting, or refused and not yet answered.
    pub fn len(&self) -> usize {
        self.in_flight.len() + self.queued + self.refused.len()
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
        match self.lanes.get_mut(&lane) {
            Some(waiting) if waiting.refusing => self.refused.push_back(refusal(lane, request)),
            Some(waiting) => {
                waiting.waiting.push_back((Instant::now(), request));
                self.queued += 1;
            }
            None => {
                self.lanes.insert(lane.clone(), Lane::default());
                self.send_on(lane, request);
            }
        }
    }

    fn send_on(&mut self, lane: String, request: pb::PostMessageRequest) {
        let client_message_id = request.client_message_id.clone();
        let stored = (self.post)(request);
        self.in_flight.push(Box::pin(async move {
            Done {
                client_message_id,
                result: stored.await,
                lane,
            }
        }));
    }

    /// Refuses every send waiting in `lane`, and, while its send in flight
    /// is not done, every send to come.
    fn refuse_lane(&mut self, lane: &str) {
        let Some(waiting) = self.lanes.get_mut(lane) else {
            return;
        };
        waiting.refusing = true;
        for (_, request) in waiting.waiting.drain(..) {
            self.queued -= 1;
            self.refused.push_back(refusal(lane.to_owned(), request));
        }
    }

    /// The next send to finish (the next one of its lane starts meanwhile),
    /// or to be refused. Never resolves while nothing is in flight or
    /// refused. Cancel-safe: what it changes, it changes in the poll that
    /// resolves it.
    pub async fn next(&mut self) -> Done {
        if let Some(refused) = self.refused.pop_front() {
            return refused;
        }
        let oldest = self
            .lanes
            .values()
            .filter_map(|lane| lane.waiting.front().map(|(came, _)| *came))
            .min();
        let too_late = async {
            match oldest {
                Some(came) => tokio::time::sleep_until(came + self.max_wait).await,
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
                self.start_next(&done.lane);
                done
            }
            () = too_late => {
                let lane = self
                    .lanes
                    .iter()
                    .filter_map(|(name, lane)| Some((lane.waiting.front()?.0, name)))
                    .min()
                    .map(|(_, name)| name.clone())
                    .expect("the lane of the oldest waiting send");
                self.refuse_lane(&lane);
                self.refused.pop_front().expect("refused the oldest")
            }
        }
    }

    /// The send in flight of `lane` is done: the next one waiting starts,
    /// unless it waited too long (then it and those behind it are refused),
    /// or the lane is gone.
    fn start_next(&mut self, lane: &str) {
        let next = self
            .lanes
            .get_mut(lane)
            .and_then(|waiting| waiting.waiting.pop_front());
        match next {
            Some((came, request)) if came.elapsed() <= self.max_wait => {
                self.queued -= 1;
                self.send_on(lane.to_owned(), request);
            }
            Some((_, request)) => {
                self.queued -= 1;
                self.refused.push_back(refusal(lane.to_owned(), request));
                self.refuse_lane(lane);
                self.lanes.remove(lane);
            }
            None => {
                self.lanes.remove(lane);
            }
        }
    }
}

/// The answer to a send that waited too long behind its lane, or came to
/// a lane that refuses.
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use tokio::sync::oneshot;

    /// The posts in flight, by client id, each stored when the test says.
    type Posts = Arc<Mutex<VecDeque<(String, oneshot::Sender<()>)>>>;

    /// A pipeline whose posts wait until the test answers them, in order.
    fn held() -> (Pipeline, Posts) {
        let posts: Posts = Default::default();
        let taken = posts.clone();
        let pipeline = Pipeline::posting(
            DEFAULT_MAX_LANE_WAIT,
            Arc::new(move |request: pb::PostMessageRequest| {
                let (answer, answered) = oneshot::channel();
                taken
                    .lock()
                    .unwrap()
                    .push_back((request.client_message_id.clone(), answer));
                Box::pin(async move {
                    let _ = answered.await;
                    Ok(pb::PostMessageResponse::default())
                })
            }),
        );
        (pipeline, posts)
    }

    fn send(id: &str) -> pb::PostMessageRequest {
        pb::PostMessageRequest {
            client_message_id: id.into(),
            ..Default::default()
        }
    }

    fn store_next(posts: &Posts) -> String {
        let (id, answer) = posts.lock().unwrap().pop_front().expect("a post in flight");
        answer.send(()).unwrap();
        id
    }

    /// The next answer: the send's id and whether it was stored.
    async fn answer(pipeline: &mut Pipeline) -> (String, bool) {
        let done = pipeline.next().await;
        (done.client_message_id, done.result.is_ok())
    }

    #[tokio::test(start_paused = true)]
    async fn one_lane_posts_one_at_a_time_in_order_and_lanes_go_in_parallel() {
        let (mut pipeline, posts) = held();
        for id in ["a1", "a2"] {
            pipeline.submit("a".into(), send(id));
        }
        pipeline.submit("b".into(), send("b1"));
        let posted: Vec<String> = posts
            .lock()
            .unwrap()
            .iter()
            .map(|(id, _)| id.clone())
            .collect();
        assert_eq!(posted, ["a1", "b1"], "one in flight per lane");
        assert_eq!(pipeline.len(), 3);

        assert_eq!(store_next(&posts), "a1");
        assert_eq!(answer(&mut pipeline).await, ("a1".into(), true));
        assert_eq!(store_next(&posts), "b1");
        assert_eq!(answer(&mut pipeline).await, ("b1".into(), true));
        assert_eq!(store_next(&posts), "a2");
        assert_eq!(answer(&mut pipeline).await, ("a2".into(), true));
        assert!(pipeline.is_empty());
        assert!(pipeline.lanes.is_empty(), "a lane goes once it is done");
    }

    #[tokio::test(start_paused = true)]
    async fn a_send_stuck_behind_its_lane_is_refused_and_so_is_everything_after_it() {
        let (mut pipeline, posts) = held();
        pipeline.submit("a".into(), send("stuck"));
        pipeline.submit("a".into(), send("behind"));
        tokio::time::advance(DEFAULT_MAX_LANE_WAIT / 2).await;
        pipeline.submit("a".into(), send("later"));

        // The timer refuses the oldest with everything behind it, while
        // the one in front is still being stored.
        assert_eq!(answer(&mut pipeline).await, ("behind".into(), false));
        assert_eq!(answer(&mut pipeline).await, ("later".into(), false));
        // Sent meanwhile: refused at once, never ahead of the refused ones.
        pipeline.submit("a".into(), send("meanwhile"));
        assert_eq!(answer(&mut pipeline).await, ("meanwhile".into(), false));
        assert_eq!(pipeline.queued, 0);

        assert_eq!(store_next(&posts), "stuck");
        assert_eq!(answer(&mut pipeline).await, ("stuck".into(), true));
        assert!(pipeline.is_empty());
        // Once the lane is done, it takes sends again.
        pipeline.submit("a".into(), send("resent"));
        assert_eq!(store_next(&posts), "resent");
        assert_eq!(answer(&mut pipeline).await, ("resent".into(), true));
    }

    #[tokio::test(start_paused = true)]
    async fn a_send_found_too_late_when_its_turn_comes_is_refused_with_those_behind_it() {
        let (mut pipeline, posts) = held();
        pipeline.submit("a".into(), send("first"));
        pipeline.submit("a".into(), send("second"));
        pipeline.submit("a".into(), send("third"));
        // The first is stored just as time runs out for the others.
        tokio::time::advance(DEFAULT_MAX_LANE_WAIT + Duration::from_millis(1)).await;
        assert_eq!(store_next(&posts), "first");
        let mut answers = Vec::new();
        while !pipeline.is_empty() {
            answers.push(answer(&mut pipeline).await);
        }
        answers.sort();
        assert_eq!(
            answers,
            [
                ("first".into(), true),
                ("second".into(), false),
                ("third".into(), false)
            ]
        );
        assert!(posts.lock().unwrap().is_empty(), "nothing more was posted");
        assert!(pipeline.lanes.is_empty());
    }
}
