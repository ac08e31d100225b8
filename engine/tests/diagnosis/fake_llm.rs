//! A fake OpenAI-compatible chat endpoint: a real HTTP server on 127.0.0.1 (port 0) that
//! answers `POST /v1/chat/completions` with a script of responses (the last one repeats)
//! and records every request it got.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use warp::http::StatusCode;
use warp::Filter;

/// One scripted response.
#[derive(Debug, Clone)]
pub struct Scripted {
    pub status: u16,
    pub body: String,
    pub delay: Duration,
    pub retry_after: Option<u64>,
}

impl Scripted {
    /// A 200 chat completion whose message content is `content`.
    pub fn content(content: &str) -> Self {
        let body = json!({
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}]
        });
        Self {
            status: 200,
            body: body.to_string(),
            delay: Duration::ZERO,
            retry_after: None,
        }
    }

    /// A 200 chat completion whose content is `answer` as JSON.
    pub fn answer(answer: &Value) -> Self {
        Self::content(&answer.to_string())
    }

    /// An error status with a small JSON body.
    pub fn status(status: u16, retry_after: Option<u64>) -> Self {
        Self {
            status,
            body: json!({"error": {"message": "try later"}}).to_string(),
            delay: Duration::ZERO,
            retry_after,
        }
    }

    /// The same response after `delay`.
    pub fn after(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

/// A request the server got.
#[derive(Debug, Clone)]
pub struct Received {
    pub authorization: Option<String>,
    pub body: Value,
}

/// The running server.
pub struct FakeLlm {
    pub addr: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
}

impl FakeLlm {
    /// Starts a server answering with `script`.
    pub async fn start(script: Vec<Scripted>) -> Self {
        let script = Arc::new(Mutex::new(script));
        let received = Arc::new(Mutex::new(Vec::new()));
        let (s, r) = (Arc::clone(&script), Arc::clone(&received));
        let route = warp::post()
            .and(warp::path!("v1" / "chat" / "completions"))
            .and(warp::header::optional::<String>("authorization"))
            .and(warp::body::json())
            .then(move |authorization: Option<String>, body: Value| {
                let (script, received) = (Arc::clone(&s), Arc::clone(&r));
                async move {
                    received.lock().unwrap().push(Received {
                        authorization,
                        body,
                    });
                    let next = {
                        let mut script = script.lock().unwrap();
                        if script.len() > 1 {
                            script.remove(0)
                        } else {
                            script[0].clone()
                        }
                    };
                    tokio::time::sleep(next.delay).await;
                    let mut reply = warp::http::Response::builder()
                        .status(StatusCode::from_u16(next.status).unwrap())
                        .header("content-type", "application/json");
                    if let Some(seconds) = next.retry_after {
                        reply = reply.header("retry-after", seconds.to_string());
                    }
                    reply.body(next.body).unwrap()
                }
            });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(warp::serve(route).incoming(listener).run());
        Self { addr, received }
    }

    /// The base URL to configure (`/chat/completions` is appended by the client).
    pub fn url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// The requests so far.
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}
