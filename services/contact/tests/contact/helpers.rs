//! Starts the contact service on free ports for one test; it can be stopped
//! and started again on the same database and prefix.

use chat_proto::contact::v1::{self as pb, contact_service_client::ContactServiceClient};
use chat_testkit::InProcess;
use chat_testkit::env::TestEnv;
use tonic::transport::Channel;
use uuid::Uuid;

pub struct TestContact {
    pub env: TestEnv,
    pub client: ContactServiceClient<Channel>,
    running: Option<InProcess>,
}

impl TestContact {
    pub async fn start() -> TestContact {
        let env = TestEnv::create().await;
        let mut t = TestContact {
            client: ContactServiceClient::new(
                Channel::from_static("http://127.0.0.1:1").connect_lazy(),
            ),
            env,
            running: None,
        };
        t.resume().await;
        t
    }

    /// Starts the service (again), on a fresh port.
    pub async fn resume(&mut self) {
        let config = contact::Config {
            grpc_addr: "127.0.0.1:0".into(),
            ops_addr: "127.0.0.1:0".into(),
            common: self.env.common(),
        };
        let app = contact::Application::build(config)
            .await
            .expect("contact starts");
        let port = app.grpc_port();
        let service = InProcess::spawn(|shutdown| app.run_until_stopped(shutdown));
        self.client = ContactServiceClient::connect(format!("http://127.0.0.1:{port}"))
            .await
            .expect("gRPC reachable");
        self.running = Some(service);
    }

    /// Stops the service; it must stop cleanly.
    pub async fn pause(&mut self) {
        let service = self.running.take().expect("running");
        service.stop("the contact service").await;
    }

    pub async fn resolve(
        &self,
        account_id: Uuid,
        visitor_id: &str,
    ) -> Result<pb::Contact, tonic::Status> {
        self.client
            .clone()
            .resolve_visitor(pb::ResolveVisitorRequest {
                account_id: account_id.to_string(),
                visitor_id: visitor_id.into(),
                ..Default::default()
            })
            .await
            .map(tonic::Response::into_inner)
    }

    /// The contact of a messenger's user.
    pub async fn messenger_user(
        &self,
        account_id: Uuid,
        channel: &str,
        external_id: &str,
        name: &str,
    ) -> Result<pb::Contact, tonic::Status> {
        self.client
            .clone()
            .resolve_messenger_user(pb::ResolveMessengerUserRequest {
                account_id: account_id.to_string(),
                channel: channel.into(),
                external_id: external_id.into(),
                name: name.into(),
            })
            .await
            .map(tonic::Response::into_inner)
    }

    /// Records a page visit of the contact, as the gateway does.
    pub async fn visit(&self, account_id: Uuid, contact_id: &str, page_view_id: &str, page: &str) {
        self.client
            .clone()
            .record_activity(pb::RecordActivityRequest {
                account_id: account_id.to_string(),
                contact_id: contact_id.into(),
                kind: "page_visit".into(),
                ref_id: page_view_id.into(),
                summary: page.into(),
            })
            .await
            .expect("the visit is recorded");
    }

    pub async fn timeline(
        &self,
        account_id: Uuid,
        contact_id: &str,
    ) -> Result<Vec<pb::TimelineEvent>, tonic::Status> {
        self.client
            .clone()
            .list_timeline(pb::ListTimelineRequest {
                account_id: account_id.to_string(),
                contact_id: contact_id.into(),
                ..Default::default()
            })
            .await
            .map(|r| r.into_inner().events)
    }

    pub async fn stop(mut self) {
        if self.running.is_some() {
            self.pause().await;
        }
        self.env.cleanup().await;
    }
}
