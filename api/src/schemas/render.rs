//! How the schema files are written: deterministic JSON and YAML (keys sorted, two-space
//! indent, a final newline), the YAML readable alike by YAML 1.2 and YAML 1.1 readers.

use std::collections::BTreeMap;

use serde_json::Value;

use super::SchemasError;

/// `value` as pretty JSON with sorted keys and a trailing newline.
pub fn render_json(value: &Value) -> Result<String, SchemasError> {
    let mut text = serde_json::to_string_pretty(&sorted(value))?;
    text.push('\n');
    Ok(text)
}

/// `value` as YAML with sorted keys (serde_norway ends it with a newline), readable alike
/// by YAML 1.2 and YAML 1.1 readers (see [`quote_yaml11_booleans`]).
pub fn render_yaml(value: &Value) -> Result<String, SchemasError> {
    Ok(quote_yaml11_booleans(&serde_norway::to_string(&sorted(
        value,
    ))?))
}

/// Plain scalars that YAML 1.1 readers (PyYAML among them) take for booleans, and YAML
/// 1.2, which serde_norway writes, for strings (`on`, an enum value, would become `true`).
const YAML11_BOOLEANS: [&str; 16] = [
    "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off",
    "OFF",
];

/// `text` (block-style YAML as serde_norway writes it) with every plain scalar of
/// [`YAML11_BOOLEANS`], a value or a key, single-quoted; block scalars are left as they are.
fn quote_yaml11_booleans(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    // The indentation of the line that opened the block scalar being read, if any.
    let mut block: Option<usize> = None;
    for line in text.lines() {
        let indent = line.len() - line.trim_start().len();
        match block {
            Some(open) if line.trim().is_empty() || indent > open => {
                out.push_str(line);
                out.push('\n');
                continue;
            }
            _ => block = None,
        }
        let mut rest = &line[indent..];
        let mut head = &line[..indent];
        while let Some(item) = rest.strip_prefix("- ") {
            head = &line[..line.len() - item.len()];
            rest = item;
        }
        let quote = |scalar: &str| match YAML11_BOOLEANS.contains(&scalar) {
            true => format!("'{scalar}'"),
            false => scalar.to_owned(),
        };
        let quoted = match rest.split_once(": ") {
            Some((key, value)) => format!("{head}{}: {}", quote(key), quote(value)),
            None if YAML11_BOOLEANS.contains(&rest) => format!("{head}'{rest}'"),
            None if rest
                .strip_suffix(':')
                .is_some_and(|key| YAML11_BOOLEANS.contains(&key)) =>
            {
                format!("{head}'{}':", &rest[..rest.len() - 1])
            }
            _ => line.to_owned(),
        };
        if ["|", "|-", "|+", ">", ">-", ">+"]
            .iter()
            .any(|marker| line.ends_with(&format!(" {marker}")) || rest == *marker)
        {
            block = Some(indent);
        }
        out.push_str(&quoted);
        out.push('\n');
    }
    out
}

/// `value` with the keys of every object in sorted order (whatever the map type keeps).
fn sorted(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let entries: BTreeMap<&String, Value> =
                map.iter().map(|(k, v)| (k, sorted(v))).collect();
            Value::Object(entries.into_iter().map(|(k, v)| (k.clone(), v)).collect())
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_rendered_with_sorted_keys_and_a_final_newline() {
        let value = serde_json::json!({ "b": 1, "a": { "d": [ { "z": 0, "y": 1 } ], "c": null } });
        assert_eq!(
            render_json(&value).expect("json"),
            "{\n  \"a\": {\n    \"c\": null,\n    \"d\": [\n      {\n        \"y\": 1,\n        \
             \"z\": 0\n      }\n    ]\n  },\n  \"b\": 1\n}\n"
        );
        let yaml = render_yaml(&value).expect("yaml");
        // `y` is a boolean to YAML 1.1: quoted.
        assert_eq!(yaml, "a:\n  c: null\n  d:\n  - 'y': 1\n    z: 0\nb: 1\n");
    }

    #[test]
    fn yaml_quotes_what_yaml_1_1_would_read_as_booleans() {
        let value = serde_json::json!({
            "enum": ["on", "off", "restart", "no"],
            "on": "yes",
            "text": "a line\nno\non",
            "plain": "onwards",
        });
        assert_eq!(
            render_yaml(&value).expect("yaml"),
            "enum:\n- 'on'\n- 'off'\n- restart\n- 'no'\n'on': 'yes'\nplain: onwards\ntext: |-\n  a line\n  no\n  on\n"
        );
    }
}
