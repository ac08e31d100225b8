//! The HTTP client the scenes drive a running server with: commands as the actor `demo`
//! (`X-User-Id`), each with an `Idempotency-Key` (POST) and a correlation id the console's
//! Audit page can filter by (`X-Request-Id`), and bounded waits on what the read side shows.

use std::future::Future;
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::Value;

use super::error::DemoError;

/// The actor the scenes' events are recorded under.
pub const ACTOR: &str = "demo";

/// How often a wait looks again.
const POLL: Duration = Duration::from_millis(200);

/// How many times a command refused with `429` or `503` is sent again (after the
/// `Retry-After` it names, when at most [`LONGEST_RETRY_AFTER`]).
const RETRIES: u32 = 3;

/// The longest `Retry-After` a command waits for before giving up.
const LONGEST_RETRY_AFTER: u64 = 30;

/// What a wait's probe found: done with a value, or not yet (with what it saw).
pub enum Step<T> {
    Done(T),
    NotYet(String),
}

/// A client of one server.
#[derive(Debug, Clone)]
pub struct DemoClient {
    http: reqwest::Client,
    base: String,
    timeout: Duration,
    quiet: bool,
    catch_interrupt: bool,
}

impl DemoClient {
    /// A client of the server at `url` (`http://host:port`); each wait gives up after
    /// `timeout`. It says what it does on stderr (see [`DemoClient::quiet`]).
    pub fn new(url: &str, timeout: Duration) -> Result<Self, DemoError> {
        let base = url.trim().trim_end_matches('/').to_owned();
        let rest = base
            .strip_prefix("http://")
            .or_else(|| base.strip_prefix("https://"));
        if rest.is_none_or(|host| host.is_empty()) {
            return Err(DemoError::BadUrl {
                url: url.to_owned(),
            });
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|source| DemoError::Unreachable {
                what: "set up the HTTP client".into(),
                base: base.clone(),
                source,
            })?;
        Ok(Self {
            http,
            base,
            timeout,
            quiet: false,
            catch_interrupt: false,
        })
    }

    /// Says nothing while it works.
    pub fn quiet(mut self) -> Self {
        self.quiet = true;
        self
    }

    /// Treats Ctrl-C as [`DemoError::Interrupted`] where a scene must clean up before it
    /// stops (a provider it broke is healed first).
    pub fn catch_interrupt(mut self) -> Self {
        self.catch_interrupt = true;
        self
    }

    /// The server's base URL (the console is at its root).
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Prints a line of progress on stderr, unless quiet.
    pub fn say(&self, line: impl AsRef<str>) {
        if !self.quiet {
            eprintln!("{}", line.as_ref());
        }
    }

    /// Completes on Ctrl-C when [`DemoClient::catch_interrupt`] was asked for; never
    /// otherwise.
    pub async fn interrupted(&self) {
        if self.catch_interrupt && tokio::signal::ctrl_c().await.is_ok() {
            return;
        }
        std::future::pending::<()>().await
    }

    /// `GET path`: the JSON body of a `200`; `None` for a `404`.
    pub async fn get(&self, path: &str, what: &str) -> Result<Option<Value>, DemoError> {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .header("x-user-id", ACTOR)
            .send()
            .await
            .map_err(|source| self.unreachable(what, source))?;
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|source| self.unreachable(what, source))?;
        match status {
            StatusCode::NOT_FOUND => Ok(None),
            s if s.is_success() => parse(what, s, &text).map(Some),
            s => Err(DemoError::answered(what, s.as_u16(), &text)),
        }
    }

    /// `GET path`, which must be a `200`.
    pub async fn read(&self, path: &str, what: &str) -> Result<Value, DemoError> {
        self.get(path, what)
            .await?
            .ok_or_else(|| DemoError::Unexpected {
                what: what.to_owned(),
                status: 404,
                body: format!("{path} not found"),
            })
    }

    /// Sends a command (`body` as JSON) under the correlation id `correlation`; returns
    /// the JSON answer of a `2xx`. A `429` or `503` is sent again after its `Retry-After`
    /// (a few times, with the same `Idempotency-Key`); any other refusal is a
    /// [`DemoError::Refused`] carrying the problem's detail.
    pub async fn command(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        what: &str,
        correlation: &str,
    ) -> Result<Value, DemoError> {
        let key = uuid::Uuid::new_v4().to_string();
        let mut retries = 0;
        loop {
            let mut request = self
                .http
                .request(method.clone(), format!("{}{path}", self.base))
                .header("x-user-id", ACTOR)
                .header("x-request-id", correlation);
            if method == Method::POST {
                request = request.header("idempotency-key", &key);
            }
            if let Some(body) = body {
                request = request.json(body);
            }
            let response = request
                .send()
                .await
                .map_err(|source| self.unreachable(what, source))?;
            let status = response.status();
            let retry_after = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok());
            let text = response
                .text()
                .await
                .map_err(|source| self.unreachable(what, source))?;
            if status.is_success() {
                return parse(what, status, &text);
            }
            let busy = matches!(
                status,
                StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE
            );
            match retry_after {
                Some(secs) if busy && retries < RETRIES && secs <= LONGEST_RETRY_AFTER => {
                    self.say(format!(
                        "  {what}: {status}, trying again in {secs} s (Retry-After)"
                    ));
                    tokio::time::sleep(Duration::from_secs(secs.max(1))).await;
                    retries += 1;
                }
                _ => return Err(DemoError::answered(what, status.as_u16(), &text)),
            }
        }
    }

    /// `POST path` with `body`.
    pub async fn post(
        &self,
        path: &str,
        body: &Value,
        what: &str,
        correlation: &str,
    ) -> Result<Value, DemoError> {
        self.command(Method::POST, path, Some(body), what, correlation)
            .await
    }

    /// `POST /v1/clusters`: the cluster `name` in `region` on `provider`, said aloud; its id.
    pub async fn create_cluster(
        &self,
        name: &str,
        region: &str,
        provider: &str,
        correlation: &str,
    ) -> Result<String, DemoError> {
        let body = serde_json::json!({ "name": name, "region": region, "provider": provider });
        let what = format!("create cluster {name}");
        let cluster = self.post("/v1/clusters", &body, &what, correlation).await?;
        let id = text(&cluster, "id").to_owned();
        self.say(format!(
            "created cluster {name} ({id}) in {region} on {provider}"
        ));
        Ok(id)
    }

    /// `POST /v1/droplets` with `body`, which creates the droplet `name`: its id and its
    /// provision job's.
    pub async fn create_droplet(
        &self,
        name: &str,
        body: &Value,
        correlation: &str,
    ) -> Result<(String, String), DemoError> {
        let what = format!("create droplet {name}");
        let created = self.post("/v1/droplets", body, &what, correlation).await?;
        let id = text(&created["droplet"], "id").to_owned();
        Ok((id, text(&created["job"], "id").to_owned()))
    }

    /// Calls `probe` every 200 ms until it is done, at most the client's timeout; the
    /// error names `what` and the last thing the probe saw.
    pub async fn wait<T, F, Fut>(&self, what: &str, mut probe: F) -> Result<T, DemoError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<Step<T>, DemoError>>,
    {
        let started = Instant::now();
        loop {
            match probe().await? {
                Step::Done(value) => return Ok(value),
                Step::NotYet(last) if started.elapsed() >= self.timeout => {
                    return Err(DemoError::TimedOut {
                        what: what.to_owned(),
                        waited: self.timeout,
                        last,
                    })
                }
                Step::NotYet(_) => tokio::time::sleep(POLL).await,
            }
        }
    }

    /// Waits until job `id` has succeeded; returns it. A job that ends otherwise is a
    /// [`DemoError::JobEnded`]; `what` says what the job is for.
    pub async fn job_succeeded(&self, id: &str, what: &str) -> Result<Value, DemoError> {
        let path = format!("/v1/jobs/{id}");
        let waiting = format!("job {id} ({what}) to succeed");
        self.wait(&waiting, || async {
            let Some(job) = self.get(&path, &format!("read job {id}")).await? else {
                return Ok(Step::NotYet("not in the read model yet".into()));
            };
            match job["status"].as_str().unwrap_or_default() {
                "succeeded" => Ok(Step::Done(job)),
                status @ ("failed" | "cancelled" | "timed_out") => Err(DemoError::JobEnded {
                    what: what.to_owned(),
                    job_id: id.to_owned(),
                    status: status.to_owned(),
                    error: job["error"].as_str().map(str::to_owned),
                }),
                status => Ok(Step::NotYet(format!(
                    "{status}, {}%, attempt {} of {}",
                    job["progress"], job["attempts"], job["max_attempts"]
                ))),
            }
        })
        .await
    }

    /// Waits until droplet `id` is `status` (and, if `size` is given, that size);
    /// returns it.
    pub async fn droplet_is(
        &self,
        id: &str,
        name: &str,
        status: &str,
        size: Option<&str>,
    ) -> Result<Value, DemoError> {
        let path = format!("/v1/droplets/{id}");
        let waiting = match size {
            Some(size) => format!("droplet {name} ({id}) to be {status} at {size}"),
            None => format!("droplet {name} ({id}) to be {status}"),
        };
        self.wait(&waiting, || async {
            let Some(droplet) = self.get(&path, &format!("read droplet {name}")).await? else {
                return Ok(Step::NotYet("not in the read model yet".into()));
            };
            let (now, now_size) = (&droplet["status"], &droplet["size"]);
            if now == status && size.is_none_or(|size| now_size == size) {
                Ok(Step::Done(droplet))
            } else {
                Ok(Step::NotYet(format!("{now} at {now_size}")))
            }
        })
        .await
    }

    fn unreachable(&self, what: &str, source: reqwest::Error) -> DemoError {
        DemoError::Unreachable {
            what: what.to_owned(),
            base: self.base.clone(),
            source,
        }
    }
}

fn parse(what: &str, status: StatusCode, text: &str) -> Result<Value, DemoError> {
    serde_json::from_str(text).map_err(|_| DemoError::Unexpected {
        what: what.to_owned(),
        status: status.as_u16(),
        body: text.chars().take(500).collect(),
    })
}

/// A string field of an answer (empty when absent).
pub fn text<'a>(value: &'a Value, field: &str) -> &'a str {
    value[field].as_str().unwrap_or_default()
}

/// Four random characters (`[0-9a-f]`) that set one load's names apart from another's.
pub fn suffix() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..4].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_urls_are_taken() {
        for bad in ["127.0.0.1:8080", "ftp://x", "http://", ""] {
            assert!(
                DemoClient::new(bad, Duration::from_secs(1)).is_err(),
                "{bad}"
            );
        }
        let client = DemoClient::new("http://127.0.0.1:8080/", Duration::from_secs(1)).unwrap();
        assert_eq!(client.base(), "http://127.0.0.1:8080");
    }

    #[test]
    fn suffixes_can_end_a_resource_name() {
        let s = suffix();
        assert_eq!(s.len(), 4);
        assert!(s
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
    }
}
