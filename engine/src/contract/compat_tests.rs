//! Each rule of the checker, shown on hand-written old/new pairs.

use serde_json::{json, Value};

use super::*;

/// An object schema like the ones schemars writes: `name` (required) and `note`.
fn base() -> Value {
    json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "Sample",
        "type": "object",
        "properties": {
            "name": { "$ref": "#/definitions/Name" },
            "note": { "type": ["string", "null"] },
            "count": { "type": "integer", "format": "uint32", "minimum": 0 },
            "status": { "type": "string", "enum": ["healthy", "warning"] }
        },
        "required": ["name", "count", "status"],
        "definitions": {
            "Name": { "type": "string", "pattern": "^[a-z]+$", "maxLength": 63 }
        }
    })
}

/// `base()` changed by `edit`.
fn changed(edit: impl FnOnce(&mut Value)) -> Value {
    let mut schema = base();
    edit(&mut schema);
    schema
}

fn rules(old: &Value, new: &Value) -> Vec<Rule> {
    backward_incompatibilities(old, new)
        .into_iter()
        .map(|i| i.rule)
        .collect()
}

#[test]
fn an_unchanged_schema_is_compatible() {
    assert_eq!(backward_incompatibilities(&base(), &base()), vec![]);
    assert!(is_backward_compatible(&base(), &base()));
}

#[test]
fn annotations_and_definition_names_may_change() {
    let new = changed(|s| {
        s["title"] = json!("Renamed");
        s["description"] = json!("Now with words.");
        s["properties"]["count"]["description"] = json!("How many.");
        let name = s["definitions"]["Name"].take();
        s["definitions"] = json!({ "ResourceName": name });
        s["properties"]["name"] =
            json!({ "allOf": [{ "$ref": "#/definitions/ResourceName" }], "description": "x" });
    });
    assert_eq!(backward_incompatibilities(&base(), &new), vec![]);
}

#[test]
fn an_optional_property_may_be_added() {
    let new = changed(|s| s["properties"]["zone"] = json!({ "type": "string" }));
    assert_eq!(rules(&base(), &new), vec![]);
}

#[test]
fn a_new_required_property_is_incompatible() {
    let new = changed(|s| {
        s["properties"]["zone"] = json!({ "type": "string" });
        s["required"] = json!(["name", "count", "status", "zone"]);
    });
    let found = backward_incompatibilities(&base(), &new);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].rule, Rule::RequiredAdded);
    assert_eq!(found[0].path, "$");
    assert!(found[0].detail.contains("zone"), "{}", found[0]);
}

#[test]
fn an_optional_property_that_becomes_required_or_back_is_incompatible() {
    let new = changed(|s| s["required"] = json!(["name", "count", "status", "note"]));
    assert_eq!(rules(&base(), &new), vec![Rule::RequiredAdded]);
    let new = changed(|s| s["required"] = json!(["name", "status"]));
    assert_eq!(rules(&base(), &new), vec![Rule::RequiredRemoved]);
}

#[test]
fn a_removed_property_is_incompatible() {
    let new = changed(|s| {
        s["properties"].as_object_mut().unwrap().remove("note");
    });
    assert_eq!(rules(&base(), &new), vec![Rule::PropertyRemoved]);
}

#[test]
fn a_changed_type_is_incompatible_also_when_widened() {
    let new = changed(|s| s["properties"]["count"]["type"] = json!("string"));
    let found = backward_incompatibilities(&base(), &new);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].rule, Rule::TypeChanged);
    assert_eq!(found[0].path, "$.count");
    let new = changed(|s| s["properties"]["count"]["type"] = json!(["integer", "null"]));
    assert_eq!(rules(&base(), &new), vec![Rule::TypeChanged]);
    let new = changed(|s| s["properties"]["note"]["type"] = json!("string"));
    assert_eq!(rules(&base(), &new), vec![Rule::TypeChanged]);
}

#[test]
fn changes_behind_a_reference_are_found() {
    let new = changed(|s| s["definitions"]["Name"]["type"] = json!("integer"));
    let found = backward_incompatibilities(&base(), &new);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        (found[0].rule, found[0].path.as_str()),
        (Rule::TypeChanged, "$.name")
    );
}

#[test]
fn a_removed_enum_value_is_incompatible_and_an_added_one_is_not() {
    let new = changed(|s| s["properties"]["status"]["enum"] = json!(["healthy"]));
    assert_eq!(rules(&base(), &new), vec![Rule::EnumValueRemoved]);
    let new = changed(|s| {
        s["properties"]["status"]["enum"] = json!(["healthy", "warning", "critical"]);
    });
    assert_eq!(rules(&base(), &new), vec![]);
    let new = changed(|s| {
        s["properties"]["note"]["enum"] = json!(["a", null]);
    });
    assert_eq!(rules(&base(), &new), vec![Rule::ConstraintTightened]);
}

#[test]
fn an_enum_written_as_consts_is_an_enum() {
    let consts = |values: &[&str]| {
        let alternatives: Vec<Value> = values
            .iter()
            .map(|v| json!({ "const": v, "type": "string", "description": "doc" }))
            .collect();
        changed(|s| s["properties"]["status"] = json!({ "oneOf": alternatives }))
    };
    let two = consts(&["healthy", "warning"]);
    assert_eq!(
        rules(&two, &consts(&["healthy", "warning", "critical"])),
        vec![]
    );
    assert_eq!(rules(&two, &consts(&["warning", "healthy"])), vec![]);
    assert_eq!(
        rules(&two, &consts(&["healthy"])),
        vec![Rule::EnumValueRemoved]
    );
    assert_eq!(
        rules(&two, &base()),
        vec![],
        "the same values as a plain enum"
    );
    assert_eq!(rules(&base(), &two), vec![]);
}

#[test]
fn tightened_constraints_are_incompatible() {
    let smaller = changed(|s| s["definitions"]["Name"]["maxLength"] = json!(40));
    assert_eq!(rules(&base(), &smaller), vec![Rule::ConstraintTightened]);
    let new_pattern = changed(|s| s["properties"]["note"]["pattern"] = json!("^x"));
    assert_eq!(
        rules(&base(), &new_pattern),
        vec![Rule::ConstraintTightened]
    );
    let other_pattern = changed(|s| s["definitions"]["Name"]["pattern"] = json!("^[a-z0-9]+$"));
    assert_eq!(
        rules(&base(), &other_pattern),
        vec![Rule::ConstraintChanged]
    );
    let higher_minimum = changed(|s| s["properties"]["count"]["minimum"] = json!(1));
    assert_eq!(
        rules(&base(), &higher_minimum),
        vec![Rule::ConstraintTightened]
    );
    let new_format = changed(|s| s["properties"]["note"]["format"] = json!("ipv4"));
    assert_eq!(rules(&base(), &new_format), vec![Rule::ConstraintTightened]);
}

#[test]
fn loosened_constraints_are_incompatible_for_old_readers() {
    let larger = changed(|s| s["definitions"]["Name"]["maxLength"] = json!(100));
    assert_eq!(rules(&base(), &larger), vec![Rule::ConstraintLoosened]);
    let no_pattern = changed(|s| {
        s["definitions"]["Name"]
            .as_object_mut()
            .unwrap()
            .remove("pattern");
    });
    assert_eq!(rules(&base(), &no_pattern), vec![Rule::ConstraintLoosened]);
}

#[test]
fn closing_an_object_is_incompatible() {
    let closed = changed(|s| s["additionalProperties"] = json!(false));
    assert_eq!(rules(&base(), &closed), vec![Rule::ConstraintTightened]);
    let added = changed(|s| {
        s["additionalProperties"] = json!(false);
        s["properties"]["zone"] = json!({ "type": "string" });
    });
    assert_eq!(
        rules(&closed, &added),
        vec![Rule::PropertyAddedToClosedObject]
    );
}

#[test]
fn alternatives_and_other_keywords_must_keep_their_shape() {
    let any_of = changed(|s| {
        s["properties"]["note"] = json!({ "anyOf": [{ "type": "string" }, { "type": "null" }] });
    });
    let wider = changed(|s| {
        s["properties"]["note"] =
            json!({ "anyOf": [{ "type": "string" }, { "type": "null" }, { "type": "integer" }] });
    });
    assert_eq!(rules(&any_of, &wider), vec![Rule::AlternativesChanged]);
    let narrowed = changed(|s| {
        s["properties"]["note"] = json!({ "anyOf": [{ "type": "string" }, { "type": "boolean" }] });
    });
    let found = backward_incompatibilities(&any_of, &narrowed);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].path, "$.note<anyOf 1>");
    let not = changed(|s| s["properties"]["note"]["not"] = json!({ "const": "" }));
    assert_eq!(rules(&base(), &not), vec![Rule::KeywordChanged]);
}

#[test]
fn items_and_boolean_schemas_are_compared() {
    let list = changed(|s| {
        s["properties"]["tags"] = json!({ "type": "array", "items": { "type": "string" } });
    });
    let ints = changed(|s| {
        s["properties"]["tags"] = json!({ "type": "array", "items": { "type": "integer" } });
    });
    let found = backward_incompatibilities(&list, &ints);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].path, "$.tags[]");
    let anything = changed(|s| s["properties"]["extra"] = json!(true));
    let nothing = changed(|s| s["properties"]["extra"] = json!(false));
    assert_eq!(rules(&anything, &nothing), vec![Rule::KeywordChanged]);
    let empty = changed(|s| s["properties"]["extra"] = json!({}));
    assert_eq!(rules(&anything, &empty), vec![]);
}

#[test]
fn dangling_and_recursive_references_do_not_hang_or_pass_silently() {
    let dangling = changed(|s| s["properties"]["name"] = json!({ "$ref": "#/definitions/Gone" }));
    assert_eq!(rules(&base(), &dangling), vec![Rule::UnresolvedReference]);
    let tree = json!({
        "$ref": "#/definitions/Node",
        "definitions": { "Node": {
            "type": "object",
            "properties": { "children": { "type": "array", "items": { "$ref": "#/definitions/Node" } } }
        } }
    });
    assert_eq!(rules(&tree, &tree), vec![]);
    let mut changed_tree = tree.clone();
    changed_tree["definitions"]["Node"]["required"] = json!(["children"]);
    assert_eq!(rules(&tree, &changed_tree), vec![Rule::RequiredAdded]);
    let mut documented = tree.clone();
    documented["definitions"]["Node"]["properties"]["children"]["items"] =
        json!({ "allOf": [{ "$ref": "#/definitions/Node" }], "description": "A child." });
    assert_eq!(rules(&documented, &documented), vec![]);
}

#[test]
fn incompatibilities_read_well() {
    let new = changed(|s| s["definitions"]["Name"]["maxLength"] = json!(40));
    let found = backward_incompatibilities(&base(), &new);
    assert_eq!(
        found[0].to_string(),
        "$.name: ConstraintTightened: maxLength 63 -> 40"
    );
}
