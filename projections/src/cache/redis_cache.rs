//! [`RedisCache`]: the cache read models in Redis.
//!
//! Keys (`<prefix>` is `cg:` by default):
//! - `<prefix>cache:checkpoint`: hash `{epoch, position, log}`, the cache's own checkpoint;
//! - `<prefix>cache:<kind>:<id>`: hash `{position, view, state}`, one record.
//!
//! Every write is one Lua script that first checks the generation (`epoch`) and then sets
//! each record only if its position is newer, so writes from several processes, replays
//! and stale runners are harmless. Reads of views take the checkpoint in the same
//! `MULTI`, so an answer can tell whether the cache is as far as it needs to be.
//! Redis should run without key eviction (`maxmemory-policy noeviction`): a lost key is
//! detected (see the runner) but costs a full heal.

use std::future::Future;
use std::time::Duration;

use async_trait::async_trait;
use redis::aio::ConnectionManager;
use redis::{Client, Script};

use super::backend::{
    Checkpoint, ReadCache, Record, RecordKey, StoredState, StoredView, ViewsRead, Written,
};
use super::CacheError;

/// Records per write script (a batch may need several; the checkpoint goes with the last).
const WRITE_CHUNK: usize = 200;

/// Sets records only if newer than a record of the same generation (one of another
/// generation counts as absent), then raises the checkpoint, all only in generation ARGV[1].
const WRITE: &str = r"
local epoch = redis.call('HGET', KEYS[1], 'epoch')
if epoch ~= ARGV[1] then return -1 end
local written = 0
for i = 2, #KEYS do
  local base = 3 + (i - 2) * 3
  local position = tonumber(ARGV[base])
  local held = redis.call('HMGET', KEYS[i], 'epoch', 'position')
  local current = -1
  if held[1] == ARGV[1] then current = tonumber(held[2] or '-1') end
  if current < position then
    redis.call('HSET', KEYS[i], 'epoch', ARGV[1], 'position', ARGV[base],
      'view', ARGV[base + 1], 'state', ARGV[base + 2])
    written = written + 1
  end
end
if ARGV[2] ~= '' then
  local checkpoint = tonumber(redis.call('HGET', KEYS[1], 'position') or '0')
  if checkpoint < tonumber(ARGV[2]) then
    redis.call('HSET', KEYS[1], 'position', ARGV[2])
  end
end
return written
";

/// Joins the current generation or opens ARGV[1] (for log ARGV[2]) at position 0.
const BEGIN: &str = r"
local epoch = redis.call('HGET', KEYS[1], 'epoch')
if not epoch then
  redis.call('HSET', KEYS[1], 'epoch', ARGV[1], 'position', '0', 'log', ARGV[2])
end
return redis.call('HMGET', KEYS[1], 'epoch', 'position', 'log')
";

/// Key prefix, and how long to wait for Redis.
#[derive(Debug, Clone)]
pub struct RedisOptions {
    /// Prepended to every key (default `cg:`).
    pub prefix: String,
    pub connect_timeout: Duration,
    /// Any operation of the runner.
    pub operation_timeout: Duration,
    /// A read for an answer: short, since the answer can come from SQL instead.
    pub read_timeout: Duration,
}

impl Default for RedisOptions {
    fn default() -> Self {
        Self {
            prefix: "cg:".into(),
            connect_timeout: Duration::from_millis(1000),
            operation_timeout: Duration::from_millis(2000),
            read_timeout: Duration::from_millis(250),
        }
    }
}

/// The cache in Redis. Connects lazily and reconnects by itself, so it can be built
/// while Redis is down.
pub struct RedisCache {
    connection: ConnectionManager,
    prefix: String,
    timeout: Duration,
    read_timeout: Duration,
    write: Script,
    begin: Script,
}

impl RedisCache {
    /// A cache at `url` (`redis://[user:password@]host:port[/db]`). Fails only on a
    /// malformed URL; an unreachable server is an error of each operation.
    pub fn open(url: &str, options: RedisOptions) -> Result<Self, CacheError> {
        let client = Client::open(url)?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(options.connect_timeout))
            .set_response_timeout(Some(options.operation_timeout))
            .set_number_of_retries(1)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_millis(200));
        let connection = ConnectionManager::new_lazy_with_config(client, config)?;
        Ok(Self {
            connection,
            prefix: options.prefix,
            timeout: options.operation_timeout + options.connect_timeout,
            read_timeout: options.read_timeout,
            write: Script::new(WRITE),
            begin: Script::new(BEGIN),
        })
    }

    /// The key of a record.
    pub fn key(&self, key: &RecordKey) -> String {
        format!("{}cache:{}:{}", self.prefix, key.kind.as_str(), key.id)
    }

    /// The key of the checkpoint.
    pub fn checkpoint_key(&self) -> String {
        format!("{}cache:checkpoint", self.prefix)
    }

    /// The key prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Deletes every key of this cache (`<prefix>cache:*`) in one command, as clearing
    /// it by hand would; returns how many there were. Runners notice the missing
    /// checkpoint and heal the cache from the log.
    pub async fn flush(&self) -> Result<u64, CacheError> {
        let pattern = format!("{}cache:*", escape_glob(&self.prefix));
        let mut connection = self.connection.clone();
        let mut keys: Vec<String> = Vec::new();
        let mut cursor: u64 = 0;
        loop {
            let (next, batch): (u64, Vec<String>) = self
                .timed(
                    redis::cmd("SCAN")
                        .arg(cursor)
                        .arg("MATCH")
                        .arg(&pattern)
                        .arg("COUNT")
                        .arg(1000)
                        .query_async(&mut connection),
                )
                .await?;
            keys.extend(batch);
            cursor = next;
            if cursor == 0 {
                break;
            }
        }
        if keys.is_empty() {
            return Ok(0);
        }
        let deleted: u64 = self
            .timed(redis::cmd("DEL").arg(&keys).query_async(&mut connection))
            .await?;
        Ok(deleted)
    }

    async fn timed<T>(
        &self,
        work: impl Future<Output = Result<T, redis::RedisError>>,
    ) -> Result<T, CacheError> {
        within(self.timeout, work).await
    }

    async fn write_chunk(
        &self,
        epoch: &str,
        records: &[(RecordKey, Record)],
        checkpoint: Option<i64>,
    ) -> Result<Written, CacheError> {
        let mut invocation = self.write.prepare_invoke();
        invocation.key(self.checkpoint_key());
        for (key, _) in records {
            invocation.key(self.key(key));
        }
        invocation
            .arg(epoch)
            .arg(checkpoint.map(|p| p.to_string()).unwrap_or_default());
        for (_, record) in records {
            invocation
                .arg(record.position)
                .arg(&record.view)
                .arg(&record.state);
        }
        let mut connection = self.connection.clone();
        let written: i64 = self.timed(invocation.invoke_async(&mut connection)).await?;
        Ok(if written < 0 {
            Written::Lost
        } else {
            Written::Applied
        })
    }
}

#[async_trait]
impl ReadCache for RedisCache {
    fn backend(&self) -> &'static str {
        "redis"
    }

    async fn ping(&self) -> Result<(), CacheError> {
        let mut connection = self.connection.clone();
        let _: String = self
            .timed(redis::cmd("PING").query_async(&mut connection))
            .await?;
        Ok(())
    }

    async fn checkpoint(&self) -> Result<Option<Checkpoint>, CacheError> {
        let mut connection = self.connection.clone();
        let fields: CheckpointFields = self
            .timed(
                redis::cmd("HMGET")
                    .arg(self.checkpoint_key())
                    .arg(&CHECKPOINT_FIELDS[..])
                    .query_async(&mut connection),
            )
            .await?;
        parse_checkpoint(fields)
    }

    async fn begin(&self, fresh: &Checkpoint) -> Result<Checkpoint, CacheError> {
        let mut connection = self.connection.clone();
        let mut invocation = self.begin.prepare_invoke();
        invocation
            .key(self.checkpoint_key())
            .arg(&fresh.epoch)
            .arg(&fresh.log);
        let fields: CheckpointFields = self.timed(invocation.invoke_async(&mut connection)).await?;
        parse_checkpoint(fields)?
            .ok_or_else(|| CacheError::Protocol("no checkpoint after opening one".into()))
    }

    async fn reset(&self, fresh: &Checkpoint) -> Result<(), CacheError> {
        let mut connection = self.connection.clone();
        let _: i64 = self
            .timed(
                redis::cmd("HSET")
                    .arg(self.checkpoint_key())
                    .arg("epoch")
                    .arg(&fresh.epoch)
                    .arg("position")
                    .arg(fresh.position)
                    .arg("log")
                    .arg(&fresh.log)
                    .query_async(&mut connection),
            )
            .await?;
        Ok(())
    }

    async fn states(&self, keys: &[RecordKey]) -> Result<Vec<Option<StoredState>>, CacheError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        pipe.atomic();
        for key in keys {
            pipe.cmd("HMGET")
                .arg(self.key(key))
                .arg("epoch")
                .arg("position")
                .arg("state");
        }
        pipe.cmd("HMGET").arg(self.checkpoint_key()).arg("epoch");
        let mut connection = self.connection.clone();
        let mut rows: Vec<Vec<Option<String>>> =
            self.timed(pipe.query_async(&mut connection)).await?;
        let epoch = match rows.pop().as_deref() {
            Some([epoch]) => epoch.clone(),
            _ => return Err(CacheError::Protocol("no checkpoint in the answer".into())),
        };
        rows.into_iter()
            .map(|row| {
                let fields = record_fields(row)?;
                Ok(current(&epoch, fields)?
                    .map(|(position, state)| StoredState { position, state }))
            })
            .collect()
    }

    async fn write(
        &self,
        epoch: &str,
        records: &[(RecordKey, Record)],
        checkpoint: Option<i64>,
    ) -> Result<Written, CacheError> {
        let chunks: Vec<&[(RecordKey, Record)]> = if records.is_empty() {
            vec![&[]]
        } else {
            records.chunks(WRITE_CHUNK).collect()
        };
        let last = chunks.len() - 1;
        for (i, chunk) in chunks.into_iter().enumerate() {
            let checkpoint = if i == last { checkpoint } else { None };
            if self.write_chunk(epoch, chunk, checkpoint).await? == Written::Lost {
                return Ok(Written::Lost);
            }
        }
        Ok(Written::Applied)
    }

    async fn views(&self, keys: &[RecordKey]) -> Result<ViewsRead, CacheError> {
        let mut pipe = redis::pipe();
        pipe.atomic();
        for key in keys {
            pipe.cmd("HMGET")
                .arg(self.key(key))
                .arg("epoch")
                .arg("position")
                .arg("view");
        }
        pipe.cmd("HMGET")
            .arg(self.checkpoint_key())
            .arg(&CHECKPOINT_FIELDS[..]);
        let mut connection = self.connection.clone();
        let mut rows: Vec<Vec<Option<String>>> =
            within(self.read_timeout, pipe.query_async(&mut connection)).await?;
        let checkpoint = match rows.pop() {
            Some(fields) => parse_checkpoint(checkpoint_fields(fields)?)?,
            None => return Err(CacheError::Protocol("no checkpoint in the answer".into())),
        };
        let epoch = checkpoint.as_ref().map(|c| c.epoch.clone());
        let views = rows
            .into_iter()
            .map(|row| {
                let fields = record_fields(row)?;
                Ok(current(&epoch, fields)?.map(|(position, view)| StoredView { position, view }))
            })
            .collect::<Result<Vec<_>, CacheError>>()?;
        Ok(ViewsRead { checkpoint, views })
    }
}

async fn within<T>(
    limit: Duration,
    work: impl Future<Output = Result<T, redis::RedisError>>,
) -> Result<T, CacheError> {
    match tokio::time::timeout(limit, work).await {
        Ok(result) => Ok(result?),
        Err(_) => Err(CacheError::Timeout(limit)),
    }
}

/// A record's `epoch`, `position` and its view or state, as read.
type RecordFields = [Option<String>; 3];

fn record_fields(row: Vec<Option<String>>) -> Result<RecordFields, CacheError> {
    RecordFields::try_from(row)
        .map_err(|row| CacheError::Protocol(format!("{} record fields", row.len())))
}

/// The position and text of a record of generation `epoch`; None for a missing record
/// or one of another generation (left behind by a flush or a reset).
fn current(
    epoch: &Option<String>,
    [held, position, text]: RecordFields,
) -> Result<Option<(i64, String)>, CacheError> {
    match (held, position, text) {
        (Some(held), Some(position), Some(text)) if Some(&held) == epoch.as_ref() => {
            Ok(Some((parse_position(&position)?, text)))
        }
        _ => Ok(None),
    }
}

/// The fields of the checkpoint hash, in the order [`CheckpointFields`] holds them.
const CHECKPOINT_FIELDS: [&str; 3] = ["epoch", "position", "log"];

type CheckpointFields = (Option<String>, Option<String>, Option<String>);

fn checkpoint_fields(fields: Vec<Option<String>>) -> Result<CheckpointFields, CacheError> {
    match <[Option<String>; 3]>::try_from(fields) {
        Ok([epoch, position, log]) => Ok((epoch, position, log)),
        Err(fields) => Err(CacheError::Protocol(format!(
            "{} checkpoint fields",
            fields.len()
        ))),
    }
}

fn parse_checkpoint(
    (epoch, position, log): CheckpointFields,
) -> Result<Option<Checkpoint>, CacheError> {
    match epoch {
        Some(epoch) => Ok(Some(Checkpoint {
            epoch,
            position: position.as_deref().map_or(Ok(0), parse_position)?,
            log: log.unwrap_or_default(),
        })),
        None => Ok(None),
    }
}

fn parse_position(text: &str) -> Result<i64, CacheError> {
    text.parse()
        .map_err(|_| CacheError::Protocol(format!("position {text:?} is not a number")))
}

/// `text` with the characters a `SCAN MATCH` pattern treats specially escaped.
fn escape_glob(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// `url` with its password (if any) replaced by `***`, for logs.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "***".into();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split_once(':').map_or(userinfo, |(user, _)| user);
            format!("{scheme}://{user}:***@{host}{path}")
        }
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_never_reach_the_logs() {
        assert_eq!(
            redact_url("redis://user:secret@host:6379/0"),
            "redis://user:***@host:6379/0"
        );
        assert_eq!(redact_url("redis://:secret@host"), "redis://:***@host");
        assert_eq!(redact_url("redis://host:6379"), "redis://host:6379");
        assert_eq!(redact_url("not a url"), "***");
    }
}
