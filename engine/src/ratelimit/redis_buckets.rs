//! [`RedisBuckets`]: token buckets in Redis, shared by every API process.
//!
//! One key per bucket, `<prefix><rule>:<scope>:<scope id>`, a hash `{used, at}`. A take
//! is one Lua script (atomic in Redis) computing what [`super::bucket::take`] computes;
//! the caller passes its clock's now, the rate and the capacity, so a changed rule applies
//! to existing buckets at once and tests can move time. A key expires once its bucket
//! would be full again.

use std::time::Duration;

use async_trait::async_trait;
use redis::aio::ConnectionManager;
use redis::{Client, Script};

use super::bucket::{Allowance, Limits};
use super::store::{BucketError, BucketStore};

/// KEYS[1] bucket; ARGV now_ms, rate_per_sec, capacity, take (1 or 0). A refusal (or a
/// peek) writes nothing. Returns {allowed (0/1), used (as a string: Lua numbers become
/// integers otherwise)}.
const TAKE: &str = r"
local now = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local capacity = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'used', 'at')
local used = tonumber(state[1]) or 0
local at = tonumber(state[2]) or now
if now > at then
  used = math.max(0, used - (now - at) / 1000 * rate)
  at = now
end
local allowed = 0
if used + 1 <= capacity then allowed = 1 end
if ARGV[4] == '1' and allowed == 1 then
  used = used + 1
  redis.call('HSET', KEYS[1], 'used', string.format('%.17g', used), 'at', tostring(at))
  redis.call('PEXPIRE', KEYS[1], math.ceil(used / rate * 1000) + 1000)
end
return {allowed, string.format('%.17g', used)}
";

/// Buckets in Redis. Connects lazily and reconnects by itself.
pub struct RedisBuckets {
    connection: ConnectionManager,
    prefix: String,
    timeout: Duration,
    script: Script,
}

impl RedisBuckets {
    /// Buckets at `url` under `prefix`. Fails only on a malformed URL; an unreachable
    /// server is an error of each call (answered within `timeout`).
    pub fn open(url: &str, prefix: &str, timeout: Duration) -> Result<Self, BucketError> {
        let client = Client::open(url)?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout))
            .set_number_of_retries(0);
        Ok(Self {
            connection: ConnectionManager::new_lazy_with_config(client, config)?,
            prefix: prefix.to_owned(),
            timeout,
            script: Script::new(TAKE),
        })
    }

    async fn run(
        &self,
        key: &str,
        limits: Limits,
        now_ms: u64,
        take: bool,
    ) -> Result<Allowance, BucketError> {
        let mut connection = self.connection.clone();
        let mut invocation = self.script.key(format!("{}{key}", self.prefix));
        invocation
            .arg(now_ms)
            .arg(limits.rate_per_sec)
            .arg(limits.capacity)
            .arg(if take { "1" } else { "0" });
        let call = invocation.invoke_async::<(i64, String)>(&mut connection);
        let (allowed, used) = tokio::time::timeout(self.timeout, call)
            .await
            .map_err(|_| BucketError::Timeout(self.timeout.as_millis() as u64))??;
        let used: f64 = used
            .parse()
            .map_err(|_| BucketError::Malformed(format!("used = {used:?}")))?;
        Ok(Allowance::from_used(allowed == 1, used, limits))
    }
}

#[async_trait]
impl BucketStore for RedisBuckets {
    async fn take(&self, key: &str, limits: Limits, now_ms: u64) -> Result<Allowance, BucketError> {
        self.run(key, limits, now_ms, true).await
    }

    async fn peek(&self, key: &str, limits: Limits, now_ms: u64) -> Result<Allowance, BucketError> {
        self.run(key, limits, now_ms, false).await
    }

    fn backend(&self) -> &'static str {
        "redis"
    }
}
