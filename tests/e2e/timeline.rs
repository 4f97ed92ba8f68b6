//! A contact's timeline through the REST API: the dialog's messages (kept
//! by the dialog service) and what the contact did (kept by the contact
//! service) in one list, newest first, paged by one cursor that never shows
//! an entry twice nor skips one, filtered by kind, and walled off by account.

use serde_json::{Value, json};

use chat_testkit::clients::{Api, Socket};
use chat_testkit::eventually;

use crate::helpers::{TestSuite, client_id};

/// Every page of the timeline at `limit` entries a page: the summaries in
/// order, and how many pages it took.
async fn every_page(api: &Api, path: &str, limit: u32) -> (Vec<String>, usize) {
    let (mut summaries, mut pages, mut cursor) = (Vec::new(), 0, None::<String>);
    loop {
        let url = match &cursor {
            None => format!("{path}limit={limit}"),
            Some(c) => format!("{path}limit={limit}&cursor={c}"),
        };
        let (status, page) = api.get(&url).await;
        assert_eq!(status, 200, "{page}");
        pages += 1;
        let events = page["events"].as_array().unwrap();
        assert!(events.len() <= limit as usize);
        summaries.extend(
            events
                .iter()
                .map(|e| e["summary"].as_str().unwrap().to_owned()),
        );
        match &page["next_cursor"] {
            Value::String(next) => cursor = Some(next.clone()),
            _ => return (summaries, pages),
        }
    }
}

async fn visit(widget: &mut Socket, api: &Api, timeline: &str, url: &str, visits: usize) {
    widget
        .send_json(
            json!({"type": "page", "url": url, "title": "", "referrer": "",
                          "page_view_id": client_id(), "pages_seen": 1}),
        )
        .await;
    let path = format!("{timeline}?kind=page_visit");
    eventually("the page visit on the timeline", || async {
        let (_, page) = api.get(&path).await;
        (page["events"].as_array()?.len() == visits).then_some(())
    })
    .await;
}

async fn say(widget: &mut Socket, text: &str) {
    widget
        .send_json(json!({"type": "send", "client_message_id": client_id(), "text": text}))
        .await;
    widget.wait_for_type("ack").await;
}

#[tokio::test]
async fn messages_and_page_visits_are_one_timeline_paged_without_gaps_or_repeats() {
    let t = TestSuite::start().await;
    let shop = t.shop("Timeline").await;
    let other = t.shop("Elsewhere").await;
    let api = t.manager_api(&shop).await;
    let nosy = t.manager_api(&other).await;
    let mut widget = Socket::visitor(t.port, &shop.site_key, "timeline-visitor", None).await;
    let contact_id = widget.wait_for_type("hello").await["contact_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let timeline = format!("/api/v1/contacts/{contact_id}/timeline");

    say(&mut widget, "m1: hello").await;
    visit(&mut widget, &api, &timeline, "https://shop.example/p1", 1).await;
    let (_, dialogs) = api
        .get(&format!("/api/v1/dialogs?contact_id={contact_id}"))
        .await;
    let dialog_id = dialogs["dialogs"][0]["id"].as_str().unwrap().to_owned();
    let reply = json!({"client_message_id": client_id(), "text": "m2: how can I help?"});
    let (status, _) = api
        .post(&format!("/api/v1/dialogs/{dialog_id}/messages"), reply)
        .await;
    assert_eq!(status, 201);
    widget.wait_for_type("message").await;
    visit(&mut widget, &api, &timeline, "https://shop.example/p2", 2).await;
    say(&mut widget, &format!("m3: {}", "long".repeat(100))).await;

    let expected = [
        format!("m3: {}", "long".repeat(100))
            .chars()
            .take(200)
            .collect::<String>(),
        "https://shop.example/p2".to_owned(),
        "m2: how can I help?".to_owned(),
        "https://shop.example/p1".to_owned(),
        "m1: hello".to_owned(),
    ];
    for limit in [1, 2, 3, 5, 50] {
        let (summaries, pages) = every_page(&api, &format!("{timeline}?"), limit).await;
        assert_eq!(summaries, expected, "{limit} a page");
        assert_eq!(
            pages,
            expected.len().div_ceil(limit as usize),
            "{limit} a page"
        );
    }

    // One kind: the dialog's messages alone (the system's included, were
    // there any), or the contact's own entries alone.
    let (messages, _) = every_page(&api, &format!("{timeline}?kind=message&"), 2).await;
    assert_eq!(
        messages,
        [
            expected[0].clone(),
            expected[2].clone(),
            expected[4].clone()
        ]
    );
    let (visits, _) = every_page(&api, &format!("{timeline}?kind=page_visit&"), 1).await;
    assert_eq!(visits, [expected[1].clone(), expected[3].clone()]);
    let (_, first) = api.get(&format!("{timeline}?kind=message&limit=1")).await;
    let message = &first["events"][0];
    assert_eq!(message["kind"], "message");
    assert_eq!(
        message["id"], message["ref_id"],
        "a message entry is the message"
    );
    assert!(message["occurred_at"].as_str().unwrap().ends_with('Z'));

    // Bad input is named, and changes nothing.
    for bad in [
        "cursor=garbage",
        "cursor=es.m0",
        "cursor=1700000000000000_x",
        "kind=orders",
        "kind=",
        "limit=0",
    ] {
        let (status, body) = api.get(&format!("{timeline}?{bad}")).await;
        assert_eq!(status, 422, "{bad}: {body}");
    }

    // Another shop's manager sees no such contact, whatever the kind.
    for query in ["", "?kind=message", "?kind=page_visit"] {
        let (status, body) = nosy.get(&format!("{timeline}{query}")).await;
        assert_eq!(status, 404, "{query}: {body}");
    }
    t.stop().await;
}
