//! What every aggregate shares: the pure [`Decide`] step, folding an event history into
//! state, the `(type, data)` event encoding, and the classification of domain errors.
//!
//! Every aggregate's event enum is `#[serde(tag = "type", content = "data")]` with one
//! dotted name per variant (`cluster.created`, ...), and every variant carries a payload
//! struct, so an event serialises as `{"type": "...", "data": {...}}`. [`event_parts`] and
//! [`event_from_parts`] split and join that shape for the event store, which keeps the type
//! and the data in separate columns.

use cqrs_es::Aggregate;
use serde::de::value::{BorrowedStrDeserializer, MapAccessDeserializer};
use serde::de::{DeserializeOwned, DeserializeSeed, MapAccess};
use serde::Serialize;
use serde_json::{Map, Value};

/// The pure decision step of an aggregate: which events a command produces from the
/// current state, or why it is rejected. No I/O and no clock: the same state and command
/// always give the same answer.
pub trait Decide: Aggregate {
    /// Decides the events for `command`. A command that changes nothing returns `Ok(vec![])`.
    fn decide(&self, command: Self::Command) -> Result<Vec<Self::Event>, Self::Error>;
}

/// Folds an event history (oldest first) into the aggregate state.
pub fn fold<A: Aggregate>(events: impl IntoIterator<Item = A::Event>) -> A {
    let mut aggregate = A::default();
    for event in events {
        aggregate.apply(event);
    }
    aggregate
}

/// Decides `command` on `aggregate` and, when accepted, applies the events to it.
/// Returns the events (empty for a no-op); on rejection the state is left untouched.
pub fn execute<A: Decide>(
    aggregate: &mut A,
    command: A::Command,
) -> Result<Vec<A::Event>, A::Error> {
    let events = aggregate.decide(command)?;
    for event in &events {
        aggregate.apply(event.clone());
    }
    Ok(events)
}

/// cqrs-es's `handle` for every aggregate: decide (pure), then write each event to the sink
/// (which applies it).
pub async fn handle_with_decide<A: Decide>(
    aggregate: &mut A,
    command: A::Command,
    sink: &cqrs_es::event_sink::EventSink<A>,
) -> Result<(), A::Error> {
    for event in aggregate.decide(command)? {
        sink.write(event, aggregate).await;
    }
    Ok(())
}

/// Splits an event into its type string and its `data` object.
///
/// Fails when `event` does not serialise to the adjacently tagged `{"type", "data"}` shape.
/// A missing `data` (a unit variant) is returned as `{}`.
pub fn event_parts<E: Serialize>(event: &E) -> Result<(String, Value), serde_json::Error> {
    let Value::Object(mut map) = serde_json::to_value(event)? else {
        return Err(shape_error("an event must serialise to a JSON object"));
    };
    let Some(Value::String(event_type)) = map.remove("type") else {
        return Err(shape_error("an event must carry a string \"type\""));
    };
    let data = map
        .remove("data")
        .unwrap_or_else(|| Value::Object(Map::new()));
    Ok((event_type, data))
}

/// Rebuilds an event from its type string and `data` object (the inverse of [`event_parts`]).
pub fn event_from_parts<E: DeserializeOwned>(
    event_type: &str,
    data: Value,
) -> Result<E, serde_json::Error> {
    event_from_ref(event_type, &data)
}

/// [`event_from_parts`] without taking `data`: the event is read straight from the borrowed
/// parts (no copy of `data`, no `{"type", "data"}` object built for it), which is what folds
/// over many events want.
pub fn event_from_ref<E: DeserializeOwned>(
    event_type: &str,
    data: &Value,
) -> Result<E, serde_json::Error> {
    E::deserialize(MapAccessDeserializer::new(Parts {
        event_type,
        data: Some(data),
        next: 0,
    }))
}

/// [`event_from_ref`] of `data` as JSON text: the event is parsed straight from the text,
/// with no [`Value`] tree built in between (what bulk folds read).
pub fn event_from_str<E: DeserializeOwned>(
    event_type: &str,
    data: &str,
) -> Result<E, serde_json::Error> {
    let mut text = serde_json::Deserializer::from_str(data);
    let event = E::deserialize(MapAccessDeserializer::new(Parts {
        event_type,
        data: Some(&mut text),
        next: 0,
    }))?;
    text.end()?;
    Ok(event)
}

/// The two entries `type` and `data` of an event, offered to the event enum's adjacently
/// tagged deserialiser in that order (tag first, so it reads the payload without buffering);
/// `data` is any deserialiser of the data object (a [`Value`], or JSON text).
struct Parts<'a, D> {
    event_type: &'a str,
    data: Option<D>,
    next: u8,
}

impl<'a, D> MapAccess<'a> for Parts<'a, D>
where
    D: serde::Deserializer<'a, Error = serde_json::Error>,
{
    type Error = serde_json::Error;

    fn next_key_seed<K: DeserializeSeed<'a>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        let key = match self.next {
            0 => "type",
            1 => "data",
            _ => return Ok(None),
        };
        seed.deserialize(BorrowedStrDeserializer::new(key))
            .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'a>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, Self::Error> {
        self.next += 1;
        if self.next == 1 {
            return seed.deserialize(BorrowedStrDeserializer::new(self.event_type));
        }
        match self.data.take() {
            Some(data) => seed.deserialize(data),
            None => Err(shape_error("an event's data was read twice")),
        }
    }
}

fn shape_error(message: &str) -> serde_json::Error {
    <serde_json::Error as serde::ser::Error>::custom(message)
}

/// The broad class of a domain error, for callers that map errors to responses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DomainErrorKind {
    /// The aggregate does not exist.
    NotFound,
    /// The command conflicts with the aggregate's current state.
    Conflict,
    /// The command is well formed but breaks a business rule.
    Unprocessable,
    /// The command carries an invalid value.
    Invalid,
}

/// Implemented by every domain error: says which [`DomainErrorKind`] it is.
pub trait Classify {
    /// The class of this error.
    fn kind(&self) -> DomainErrorKind;
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(tag = "type", content = "data")]
    enum Sample {
        #[serde(rename = "sample.happened")]
        Happened(Payload),
        #[serde(rename = "sample.ended")]
        Ended,
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Payload {
        value: u32,
    }

    #[test]
    fn parts_round_trip() {
        let event = Sample::Happened(Payload { value: 7 });
        let (event_type, data) = event_parts(&event).expect("parts");
        assert_eq!(event_type, "sample.happened");
        assert_eq!(data, json!({"value": 7}));
        let back: Sample = event_from_parts(&event_type, data).expect("from parts");
        assert_eq!(back, event);
    }

    #[test]
    fn borrowed_parts_read_like_the_joined_object() {
        let event = Sample::Happened(Payload { value: 7 });
        let (event_type, data) = event_parts(&event).expect("parts");
        let joined: Sample =
            serde_json::from_value(json!({ "type": event_type, "data": data })).expect("joined");
        let borrowed: Sample = event_from_ref(&event_type, &data).expect("borrowed");
        assert_eq!(borrowed, joined);
        assert_eq!(borrowed, event);
        let wrong = event_from_ref::<Sample>("sample.happened", &json!({ "value": "x" }));
        let message = wrong.expect_err("a mistyped field").to_string();
        assert!(message.contains("invalid type"), "{message}");
        let unknown = event_from_ref::<Sample>("sample.unknown", &json!({}));
        let message = unknown.expect_err("an unknown type").to_string();
        assert!(message.contains("sample.unknown"), "{message}");
    }

    #[test]
    fn events_read_from_text_like_from_values() {
        let event = Sample::Happened(Payload { value: 7 });
        let (event_type, data) = event_parts(&event).expect("parts");
        let text = data.to_string();
        let read: Sample = event_from_str(&event_type, &text).expect("from text");
        assert_eq!(read, event);
        // A unit variant reads as it does from a value.
        assert_eq!(
            event_from_str::<Sample>("sample.ended", "{}").ok(),
            event_from_ref::<Sample>("sample.ended", &json!({})).ok()
        );
        let wrong = event_from_str::<Sample>("sample.happened", r#"{"value":"x"}"#);
        let message = wrong.expect_err("a mistyped field").to_string();
        assert!(message.contains("invalid type"), "{message}");
        let unknown = event_from_str::<Sample>("sample.unknown", "{}");
        let message = unknown.expect_err("an unknown type").to_string();
        assert!(message.contains("sample.unknown"), "{message}");
        let trailing = event_from_str::<Sample>("sample.happened", r#"{"value":7} x"#);
        assert!(trailing.is_err(), "text after the object is refused");
    }

    #[test]
    fn unit_variant_has_empty_data() {
        let (event_type, data) = event_parts(&Sample::Ended).expect("parts");
        assert_eq!(event_type, "sample.ended");
        assert_eq!(data, json!({}));
    }

    #[test]
    fn non_event_shapes_are_rejected() {
        assert!(event_parts(&42).is_err());
        assert!(event_parts(&json!({"data": {}})).is_err());
        assert!(event_from_parts::<Sample>("sample.unknown", json!({})).is_err());
        assert!(event_from_parts::<Sample>("sample.happened", json!({"value": "x"})).is_err());
    }
}
