//! Backward compatibility between two JSON Schemas (draft-07) of the same event version.
//!
//! Both sides of a Kafka topic must keep working when a schema for an already released
//! version changes: a consumer built with the new schema must read every message valid
//! under the old one, and a consumer built with the old schema must accept the messages
//! producers now send. So, at every place in the schema:
//!
//! - no property is removed, and no property becomes required or stops being required;
//! - no type changes (`string` to `integer`, and also `string` to `[string, null]`);
//! - no enum value is removed and no `const` changes;
//! - no constraint changes, in either direction: `maxLength`, `minLength`, `pattern`,
//!   `format`, `minimum`, `maximum`, `multipleOf`, item and property counts, and a closed
//!   object (`additionalProperties: false`) stays exactly as closed or open as it was;
//! - every other keyword that restricts values (`anyOf`, `not`, ...) keeps its shape.
//!
//! Two changes are allowed: a new optional property (old readers ignore it, new readers do
//! not need it) and a new enum value (a new catalog region, say); consumers must treat enum
//! values they do not know as "other". Annotations (`title`, `description`, `default`,
//! `examples`) may change freely. Local references (`#/definitions/...`) are followed on
//! both sides, so renaming a definition is not a change.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt;

use serde_json::{Map, Value};

/// Which rule a change breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rule {
    /// A property of the old schema is gone.
    PropertyRemoved,
    /// A property was added to an object that forbids unknown properties.
    PropertyAddedToClosedObject,
    /// A property became required (or a new property is required).
    RequiredAdded,
    /// A required property became optional.
    RequiredRemoved,
    /// The allowed JSON types changed.
    TypeChanged,
    /// An enum value of the old schema is gone.
    EnumValueRemoved,
    /// A constraint is new or stricter.
    ConstraintTightened,
    /// A constraint is gone or looser.
    ConstraintLoosened,
    /// A constraint changed in a way that is neither (a new pattern, another format).
    ConstraintChanged,
    /// `anyOf`, `oneOf` or `allOf` gained or lost alternatives.
    AlternativesChanged,
    /// Another restricting keyword changed.
    KeywordChanged,
    /// A `$ref` points to nothing in its document.
    UnresolvedReference,
}

/// One backward-incompatible difference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incompatibility {
    /// Where, as a path into the data: `$` is the event's data, `$.name` a property,
    /// `$.tags[]` the items of an array, `$.provider<anyOf 0>` an alternative.
    pub path: String,
    /// Which rule.
    pub rule: Rule,
    /// What changed, e.g. `maxLength 63 -> 40`.
    pub detail: String,
}

impl fmt::Display for Incompatibility {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {:?}: {}", self.path, self.rule, self.detail)
    }
}

/// Every backward-incompatible difference from `old` to `new` (empty when compatible).
pub fn backward_incompatibilities(old: &Value, new: &Value) -> Vec<Incompatibility> {
    let mut walk = Walk {
        old_root: old,
        new_root: new,
        seen_refs: HashSet::new(),
        found: Vec::new(),
    };
    walk.compare(old, new, "$");
    walk.found
}

/// Whether `new` is a backward-compatible change of `old` (see the module docs).
pub fn is_backward_compatible(old: &Value, new: &Value) -> bool {
    backward_incompatibilities(old, new).is_empty()
}

/// Keywords that only annotate; their changes are always compatible.
const ANNOTATIONS: &[&str] = &[
    "$schema",
    "$id",
    "$comment",
    "title",
    "description",
    "default",
    "examples",
    "deprecated",
    "readOnly",
    "writeOnly",
    "definitions",
    "$defs",
];

/// Keywords compared by [`Walk::compare`] itself; every other one must stay equal.
const HANDLED: &[&str] = &[
    "$ref",
    "type",
    "enum",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "anyOf",
    "oneOf",
    "allOf",
];

/// Upper bounds: a larger value is looser.
const MAXIMA: &[&str] = &[
    "maxLength",
    "maximum",
    "exclusiveMaximum",
    "maxItems",
    "maxProperties",
];

/// Lower bounds: a larger value is stricter.
const MINIMA: &[&str] = &[
    "minLength",
    "minimum",
    "exclusiveMinimum",
    "minItems",
    "minProperties",
];

/// Constraints that cannot be ordered: any change is reported as such.
const OTHER_CONSTRAINTS: &[&str] = &["pattern", "format", "const", "multipleOf", "uniqueItems"];

struct Walk<'a> {
    old_root: &'a Value,
    new_root: &'a Value,
    /// Pairs of references already compared (so recursive schemas terminate).
    seen_refs: HashSet<(String, String)>,
    found: Vec<Incompatibility>,
}

impl<'a> Walk<'a> {
    fn push(&mut self, path: &str, rule: Rule, detail: impl Into<String>) {
        self.found.push(Incompatibility {
            path: path.to_owned(),
            rule,
            detail: detail.into(),
        });
    }

    fn compare(&mut self, old: &'a Value, new: &'a Value, path: &str) {
        if let (Some(old_ref), Some(new_ref)) = (first_reference(old), first_reference(new)) {
            if !self
                .seen_refs
                .insert((old_ref.to_owned(), new_ref.to_owned()))
            {
                return;
            }
        }
        let (Some(old), Some(new)) = (
            self.resolve(old, true, path),
            self.resolve(new, false, path),
        ) else {
            return;
        };
        let (Some(old), Some(new)) = (as_schema(old), as_schema(new)) else {
            if old != new {
                self.push(path, Rule::KeywordChanged, format!("schema {old} -> {new}"));
            }
            return;
        };
        self.compare_types(&old, &new, path);
        self.compare_enums(&old, &new, path);
        self.compare_constraints(&old, &new, path);
        self.compare_properties(&old, &new, path);
        self.compare_additional(&old, &new, path);
        self.compare_items(&old, &new, path);
        for keyword in ["anyOf", "oneOf", "allOf"] {
            self.compare_alternatives(&old, &new, keyword, path);
        }
        self.compare_other_keywords(&old, &new, path);
    }

    /// Follows `$ref`s and unwraps a lone `allOf` (how draft-07 attaches a description to
    /// a reference).
    fn resolve(&mut self, schema: &'a Value, old_side: bool, path: &str) -> Option<&'a Value> {
        let root = if old_side {
            self.old_root
        } else {
            self.new_root
        };
        let mut current = schema;
        for _ in 0..64 {
            if let Some(target) = reference(current) {
                match target.strip_prefix('#').and_then(|p| root.pointer(p)) {
                    Some(next) => current = next,
                    None => {
                        let side = if old_side { "old" } else { "new" };
                        self.push(path, Rule::UnresolvedReference, format!("{side} {target}"));
                        return None;
                    }
                }
            } else if let Some(inner) = lone_all_of(current) {
                current = inner;
            } else {
                return Some(current);
            }
        }
        self.push(path, Rule::UnresolvedReference, "a reference loop");
        None
    }

    fn compare_types(&mut self, old: &Schema<'a>, new: &Schema<'a>, path: &str) {
        let (old_types, new_types) = (old.types(), new.types());
        if old_types != new_types {
            let detail = format!(
                "type {} -> {}",
                show_types(&old_types),
                show_types(&new_types)
            );
            self.push(path, Rule::TypeChanged, detail);
        }
    }

    fn compare_enums(&mut self, old: &Schema<'a>, new: &Schema<'a>, path: &str) {
        match (old.enum_values(), new.enum_values()) {
            (Some(old_values), Some(new_values)) => {
                for value in old_values.iter().filter(|v| !new_values.contains(v)) {
                    self.push(
                        path,
                        Rule::EnumValueRemoved,
                        format!("enum value {value} removed"),
                    );
                }
            }
            (None, Some(_)) => self.push(path, Rule::ConstraintTightened, "enum added"),
            (Some(_), None) => self.push(path, Rule::ConstraintLoosened, "enum removed"),
            (None, None) => {}
        }
    }

    fn compare_constraints(&mut self, old: &Schema<'a>, new: &Schema<'a>, path: &str) {
        for keyword in MAXIMA.iter().chain(MINIMA).chain(OTHER_CONSTRAINTS) {
            let (before, after) = (old.get(keyword), new.get(keyword));
            if before == after {
                continue;
            }
            let rule = match (before, after) {
                (None, Some(_)) => Rule::ConstraintTightened,
                (Some(_), None) => Rule::ConstraintLoosened,
                (Some(before), Some(after)) => ordered_change(keyword, before, after),
                (None, None) => continue,
            };
            let detail = format!("{keyword} {} -> {}", show(before), show(after));
            self.push(path, rule, detail);
        }
    }

    fn compare_properties(&mut self, old: &Schema<'a>, new: &Schema<'a>, path: &str) {
        let (old_props, new_props) = (old.properties(), new.properties());
        for (name, old_schema) in &old_props {
            match new_props.get(name) {
                Some(new_schema) => self.compare(old_schema, new_schema, &format!("{path}.{name}")),
                None => self.push(
                    path,
                    Rule::PropertyRemoved,
                    format!("property {name} removed"),
                ),
            }
        }
        if old.get("additionalProperties") == Some(&Value::Bool(false)) {
            for name in new_props.keys().filter(|n| !old_props.contains_key(*n)) {
                let detail = format!("property {name} added where additionalProperties is false");
                self.push(path, Rule::PropertyAddedToClosedObject, detail);
            }
        }
        let (old_required, new_required) = (old.required(), new.required());
        for name in new_required.difference(&old_required) {
            self.push(
                path,
                Rule::RequiredAdded,
                format!("property {name} is now required"),
            );
        }
        for name in old_required.difference(&new_required) {
            if new_props.contains_key(*name) {
                let detail = format!("property {name} is no longer required");
                self.push(path, Rule::RequiredRemoved, detail);
            }
        }
    }

    fn compare_additional(&mut self, old: &Schema<'a>, new: &Schema<'a>, path: &str) {
        let before = old.get("additionalProperties").unwrap_or(&OPEN);
        let after = new.get("additionalProperties").unwrap_or(&OPEN);
        match (before, after) {
            (Value::Bool(b), Value::Bool(a)) if b == a => {}
            (Value::Bool(true), Value::Bool(false)) => {
                self.push(
                    path,
                    Rule::ConstraintTightened,
                    "additionalProperties: false added",
                );
            }
            (Value::Object(_), Value::Object(_)) => {
                self.compare(before, after, &format!("{path}.*"));
            }
            _ => {
                let detail = format!("additionalProperties {before} -> {after}");
                self.push(path, Rule::ConstraintLoosened, detail);
            }
        }
    }

    fn compare_items(&mut self, old: &Schema<'a>, new: &Schema<'a>, path: &str) {
        match (old.get("items"), new.get("items")) {
            (Some(before), Some(after)) => self.compare(before, after, &format!("{path}[]")),
            (None, Some(_)) => self.push(path, Rule::ConstraintTightened, "items added"),
            (Some(_), None) => self.push(path, Rule::ConstraintLoosened, "items removed"),
            (None, None) => {}
        }
    }

    fn compare_alternatives(
        &mut self,
        old: &Schema<'a>,
        new: &Schema<'a>,
        keyword: &str,
        path: &str,
    ) {
        let (before, after) = (old.alternatives(keyword), new.alternatives(keyword));
        if before.len() != after.len() {
            let detail = format!(
                "{keyword} with {} -> {} alternatives",
                before.len(),
                after.len()
            );
            self.push(path, Rule::AlternativesChanged, detail);
            return;
        }
        for (index, (b, a)) in before.iter().zip(after).enumerate() {
            self.compare(b, a, &format!("{path}<{keyword} {index}>"));
        }
    }

    fn compare_other_keywords(&mut self, old: &Schema<'a>, new: &Schema<'a>, path: &str) {
        let keywords: BTreeSet<&str> = old.keys().chain(new.keys()).collect();
        for keyword in keywords {
            let known = ANNOTATIONS
                .iter()
                .chain(HANDLED)
                .chain(MAXIMA)
                .chain(MINIMA);
            if known.chain(OTHER_CONSTRAINTS).any(|k| *k == keyword) {
                continue;
            }
            let (before, after) = (old.get(keyword), new.get(keyword));
            if before != after {
                let detail = format!("{keyword} {} -> {}", show(before), show(after));
                self.push(path, Rule::KeywordChanged, detail);
            }
        }
    }
}

/// A schema read as an object (`true`, which allows anything, reads as `{}`).
struct Schema<'a> {
    map: &'a Map<String, Value>,
}

/// `additionalProperties` when absent.
static OPEN: Value = Value::Bool(true);

static EMPTY: std::sync::LazyLock<Map<String, Value>> = std::sync::LazyLock::new(Map::new);

impl<'a> Schema<'a> {
    fn get(&self, keyword: &str) -> Option<&'a Value> {
        self.map.get(keyword)
    }

    fn keys(&self) -> impl Iterator<Item = &'a str> {
        self.map.keys().map(String::as_str)
    }

    fn array(&self, keyword: &str) -> Option<&'a Vec<Value>> {
        self.get(keyword).and_then(Value::as_array)
    }

    /// The allowed values: `enum`, or a `oneOf`/`anyOf` of `const`s (how schemars writes
    /// an enum whose variants have doc comments).
    fn enum_values(&self) -> Option<Vec<&'a Value>> {
        if let Some(values) = self.array("enum") {
            return Some(values.iter().collect());
        }
        ["oneOf", "anyOf"]
            .into_iter()
            .find_map(|k| self.const_list(k))
    }

    /// The `const` of every alternative of `keyword`, when each has one.
    fn const_list(&self, keyword: &str) -> Option<Vec<&'a Value>> {
        let consts: Option<Vec<&Value>> = self
            .array(keyword)?
            .iter()
            .map(|a| a.get("const"))
            .collect();
        consts.filter(|c| !c.is_empty())
    }

    /// The alternatives of `keyword`, none when they are an enum in disguise (compared by
    /// [`Schema::enum_values`]).
    fn alternatives(&self, keyword: &str) -> &'a [Value] {
        if self.const_list(keyword).is_some() {
            return &[];
        }
        self.array(keyword).map_or(&[], Vec::as_slice)
    }

    /// The allowed JSON types: `type`, or else the types of the enum values.
    fn types(&self) -> Option<BTreeSet<&'a str>> {
        match self.get("type") {
            Some(Value::String(one)) => Some(BTreeSet::from([one.as_str()])),
            Some(Value::Array(many)) => Some(many.iter().filter_map(Value::as_str).collect()),
            Some(_) => None,
            None => {
                let values = self.enum_values()?;
                Some(values.into_iter().map(json_type).collect())
            }
        }
    }

    fn properties(&self) -> BTreeMap<&'a str, &'a Value> {
        let properties = self.get("properties").and_then(Value::as_object);
        properties
            .into_iter()
            .flat_map(|m| m.iter().map(|(k, v)| (k.as_str(), v)))
            .collect()
    }

    fn required(&self) -> BTreeSet<&'a str> {
        let required = self.array("required").into_iter().flatten();
        required.filter_map(Value::as_str).collect()
    }
}

/// An object schema, or `true` as `{}`; `None` for `false` (or a malformed schema).
fn as_schema(value: &Value) -> Option<Schema<'_>> {
    match value {
        Value::Object(map) => Some(Schema { map }),
        Value::Bool(true) => Some(Schema { map: &EMPTY }),
        _ => None,
    }
}

/// The JSON Schema type of a value.
fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "number",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn reference(schema: &Value) -> Option<&str> {
    schema.get("$ref").and_then(Value::as_str)
}

/// The reference a schema starts with, directly or in a lone `allOf`.
fn first_reference(schema: &Value) -> Option<&str> {
    reference(schema).or_else(|| lone_all_of(schema).and_then(reference))
}

/// The only schema of a lone `allOf` whose siblings are all annotations.
fn lone_all_of(schema: &Value) -> Option<&Value> {
    let map = schema.as_object()?;
    let [inner] = map.get("allOf")?.as_array()?.as_slice() else {
        return None;
    };
    let only_annotations = map
        .keys()
        .all(|k| k == "allOf" || ANNOTATIONS.contains(&k.as_str()));
    only_annotations.then_some(inner)
}

/// Whether a change of the bound `keyword` from `before` to `after` tightens or loosens.
fn ordered_change(keyword: &str, before: &Value, after: &Value) -> Rule {
    let (Some(before), Some(after)) = (before.as_f64(), after.as_f64()) else {
        return Rule::ConstraintChanged;
    };
    let tighter = if MAXIMA.contains(&keyword) {
        after < before
    } else if MINIMA.contains(&keyword) {
        after > before
    } else {
        return Rule::ConstraintChanged;
    };
    if tighter {
        Rule::ConstraintTightened
    } else {
        Rule::ConstraintLoosened
    }
}

fn show(value: Option<&Value>) -> String {
    value.map_or_else(|| "(none)".to_owned(), Value::to_string)
}

fn show_types(types: &Option<BTreeSet<&str>>) -> String {
    match types {
        None => "(any)".to_owned(),
        Some(set) => format!("{set:?}"),
    }
}

#[cfg(test)]
#[path = "compat_tests.rs"]
mod tests;
