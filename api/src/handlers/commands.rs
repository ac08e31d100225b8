//! How every command route runs its command, once the request is parsed into one: the
//! checks that may refuse it before anything is recorded (room in the job queue, rate
//! limits), the command itself, and the answer with its headers (`X-Position`, `ETag`,
//! `Idempotent-Replayed`, `RateLimit-*`).

use engine::commands::{Command, CommandContext, Reply};
use engine::domain::ratelimit_rule::Endpoint;
use engine::ratelimit::Verdict;
use warp::reply::Response;

use super::limiting::{guard, with_rate_headers};
use super::{command_reply, room_for_a_job};
use crate::errors::ApiError;
use crate::filters::common::RequestMeta;
use crate::state::AppState;

/// What must let a command through before it runs.
#[derive(Debug, Clone, Copy)]
pub enum Guard<'a> {
    /// Nothing: the route is not rate limited.
    Open,
    /// The rate limits of the endpoint (per cluster for the cluster named, if any).
    Limited(Endpoint, Option<&'a str>),
    /// A command that starts a job: room in the job queue, then the rate limits.
    StartsJob(Endpoint, Option<&'a str>),
}

/// A command that ran: its reply, and the rate-limit verdict its answer reports.
pub struct Executed<T> {
    pub reply: Reply<T>,
    verdict: Verdict,
}

impl<T: serde::Serialize> Executed<T> {
    /// The answer: the reply with `position` and its headers.
    pub fn respond(self) -> Result<Response, ApiError> {
        Ok(with_rate_headers(command_reply(self.reply)?, &self.verdict))
    }
}

/// Checks `guard`, then runs `command` in `ctx`; a refusal (`429`, `503`) records nothing.
pub async fn execute<C: Command>(
    state: &AppState,
    meta: &RequestMeta,
    ctx: &CommandContext,
    guarded_by: Guard<'_>,
    command: &C,
) -> Result<Executed<C::Output>, ApiError> {
    let verdict = match guarded_by {
        Guard::Open => Verdict::default(),
        Guard::Limited(endpoint, cluster) => guard(state, meta, endpoint, cluster).await?,
        Guard::StartsJob(endpoint, cluster) => {
            room_for_a_job(state, meta).await?;
            guard(state, meta, endpoint, cluster).await?
        }
    };
    let reply = state.commands.execute(ctx, command).await?;
    Ok(Executed { reply, verdict })
}

/// [`execute`], answered.
pub async fn run<C: Command>(
    state: &AppState,
    meta: &RequestMeta,
    ctx: &CommandContext,
    guarded_by: Guard<'_>,
    command: &C,
) -> Result<Response, ApiError> {
    execute(state, meta, ctx, guarded_by, command)
        .await?
        .respond()
}
