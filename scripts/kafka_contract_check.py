#!/usr/bin/env python3
"""An external consumer of ClusterGenie's event topics, written with another Kafka client.

It reads every partition of every event topic from the beginning (kafka-python, a pure
Python implementation of the protocol: nothing shared with ClusterGenie's librdkafka) and
checks the contract of docs/kafka.md and schemas/. The event topics are found by listing
the broker's topics (every clustergenie.events.* topic), not from a fixed list:

- CloudEvents binary headers: ce_specversion, ce_id (a UUID), ce_source, ce_type
  (io.clustergenie.<type>.v<version>), ce_time (RFC 3339), ce_subject (= the key),
  content-type, cg_position, cg_sequence;
- the topic is clustergenie.events.<aggregate_type>.v1 and the type belongs to it;
- the value validates against schemas/events/<type>.v<version>.json (with the validator of
  the draft its $schema names);
- with --partitions, every event topic has that many partitions;
- after deduplication on ce_id, each aggregate's sequences are 1, 2, 3... in order, and the
  positions are exactly 1..N.

Usage: kafka_contract_check.py --brokers HOST:PORT --schemas DIR --expect N [--timeout S]
       [--partitions P]
Prints a JSON summary; exits 1 listing every violation.
"""

import argparse
import datetime
import json
import pathlib
import re
import sys
import time
import uuid

import jsonschema
from kafka import KafkaConsumer, TopicPartition

EVENT_TOPIC_PREFIX = "clustergenie.events."
CE_TYPE = re.compile(r"^io\.clustergenie\.([a-z_]+)\.([a-z_]+)\.v([0-9]+)$")
REQUIRED = ("ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "ce_subject",
            "content-type", "cg_position", "cg_sequence")


def load_schemas(folder):
    schemas = {}
    for path in sorted(pathlib.Path(folder).glob("*.json")):
        schema = json.loads(path.read_text())
        if "$schema" not in schema:
            raise SystemExit(f"{path}: no $schema")
        validator = jsonschema.validators.validator_for(schema)
        validator.check_schema(schema)
        schemas[path.name[: -len(".json")]] = validator(schema)
    if not schemas:
        raise SystemExit(f"no schemas in {folder}")
    return schemas


def event_topics(consumer):
    """Every event topic on the broker, with its partitions."""
    topics = sorted(t for t in consumer.topics() if t.startswith(EVENT_TOPIC_PREFIX))
    return {topic: sorted(consumer.partitions_for_topic(topic) or []) for topic in topics}


def read_all(brokers, expect, timeout):
    consumer = KafkaConsumer(bootstrap_servers=brokers, enable_auto_commit=False,
                             consumer_timeout_ms=1000, client_id="contract-check")
    topics = event_topics(consumer)
    partitions = [TopicPartition(t, p) for t, ps in topics.items() for p in ps]
    if not partitions:
        raise SystemExit("no event topics found")
    consumer.assign(partitions)
    consumer.seek_to_beginning(*partitions)
    messages, positions = [], set()
    deadline = time.monotonic() + timeout
    while len(positions) < expect and time.monotonic() < deadline:
        for message in consumer:
            messages.append(message)
            headers = dict((k, v.decode()) for k, v in (message.headers or []))
            if headers.get("cg_position", "").isdigit():
                positions.add(int(headers["cg_position"]))
    consumer.close()
    return topics, messages


def partition_problems(topics, wanted):
    """Event topics whose partition count is not `wanted` (None: not checked)."""
    if wanted is None:
        return []
    return [f"{topic}: {len(partitions)} partitions, not {wanted}"
            for topic, partitions in topics.items() if len(partitions) != wanted]


def check(messages, schemas, expect):
    errors, seen_ids, per_key, positions = [], set(), {}, set()
    for message in messages:
        where = f"{message.topic}[{message.partition}]@{message.offset}"
        headers = {}
        for key, value in message.headers or []:
            headers[key] = value.decode("utf-8")
        missing = [h for h in REQUIRED if h not in headers]
        if missing:
            errors.append(f"{where}: missing headers {missing}")
            continue
        key = (message.key or b"").decode()
        problems = header_problems(headers, key, message.topic)
        errors.extend(f"{where}: {p}" for p in problems)
        match = CE_TYPE.match(headers["ce_type"])
        if not match:
            continue
        schema_name = f"{match.group(1)}.{match.group(2)}.v{match.group(3)}"
        validator = schemas.get(schema_name)
        try:
            value = json.loads(message.value)
        except ValueError as error:
            errors.append(f"{where}: value is not JSON: {error}")
            continue
        if validator is None:
            errors.append(f"{where}: no schema {schema_name}.json")
        else:
            for error in validator.iter_errors(value):
                errors.append(f"{where}: {schema_name}: {error.message}")
        if headers["ce_id"] in seen_ids:
            continue
        seen_ids.add(headers["ce_id"])
        positions.add(int(headers["cg_position"]))
        per_key.setdefault((message.topic, key), []).append(int(headers["cg_sequence"]))
    for (topic, key), sequences in sorted(per_key.items()):
        if sequences != list(range(1, len(sequences) + 1)):
            errors.append(f"{topic} key {key}: sequences {sequences} are not 1..n in order")
    if positions != set(range(1, expect + 1)):
        absent = sorted(set(range(1, expect + 1)) - positions)[:20]
        extra = sorted(positions - set(range(1, expect + 1)))[:20]
        errors.append(f"positions are not exactly 1..{expect}: absent {absent}, extra {extra}")
    return errors, len(seen_ids), len(per_key)


def header_problems(headers, key, topic):
    problems = []
    if headers["ce_specversion"] != "1.0":
        problems.append(f"ce_specversion {headers['ce_specversion']!r}")
    try:
        uuid.UUID(headers["ce_id"])
    except ValueError:
        problems.append(f"ce_id {headers['ce_id']!r} is not a UUID")
    if headers["ce_source"] != "clustergenie":
        problems.append(f"ce_source {headers['ce_source']!r}")
    match = CE_TYPE.match(headers["ce_type"])
    if not match:
        problems.append(f"ce_type {headers['ce_type']!r}")
    elif topic != f"clustergenie.events.{match.group(1)}.v1":
        problems.append(f"ce_type {headers['ce_type']} on topic {topic}")
    try:
        datetime.datetime.fromisoformat(headers["ce_time"].replace("Z", "+00:00"))
    except ValueError:
        problems.append(f"ce_time {headers['ce_time']!r} is not RFC 3339")
    if headers["ce_subject"] != key:
        problems.append(f"ce_subject {headers['ce_subject']!r} is not the key {key!r}")
    if headers["content-type"] != "application/json":
        problems.append(f"content-type {headers['content-type']!r}")
    for name in ("cg_position", "cg_sequence"):
        if not headers[name].isdigit() or int(headers[name]) < 1:
            problems.append(f"{name} {headers[name]!r}")
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--brokers", required=True)
    parser.add_argument("--schemas", required=True)
    parser.add_argument("--expect", type=int, required=True, help="the log's head position")
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--partitions", type=int, help="partitions every event topic must have")
    args = parser.parse_args()
    schemas = load_schemas(args.schemas)
    topics, messages = read_all(args.brokers, args.expect, args.timeout)
    errors, events, aggregates = check(messages, schemas, args.expect)
    errors = partition_problems(topics, args.partitions) + errors
    summary = {"topics": {t: len(ps) for t, ps in topics.items()},
               "messages": len(messages), "events": events, "aggregates": aggregates,
               "duplicates": len(messages) - events, "errors": errors[:50]}
    print(json.dumps(summary, indent=2))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
