//! The check of an indicator's selection (its event types and `where` filters) and of a field
//! it reads, against the events' payload fields.

use std::collections::{BTreeMap, BTreeSet};

use crate::definitions::{invalid, DefinitionError, FieldRef, FilterValues, Selection};

pub(crate) fn check_selection(
    id: &str,
    name: &str,
    events: &[String],
    filters: &BTreeMap<String, FilterValues>,
    schemas: &BTreeMap<&'static str, BTreeSet<String>>,
) -> Result<Selection, DefinitionError> {
    // The indicator's own selection reads `events` and `where`; a part's, `{part}.events`.
    let events_field = if name == "where" {
        "events".to_owned()
    } else {
        format!("{name}.events")
    };
    if events.is_empty() {
        return Err(invalid(id, &events_field, "names no event type"));
    }
    let mut selected = BTreeSet::new();
    for event in events {
        if !schemas.contains_key(event.as_str()) {
            return Err(invalid(
                id,
                &events_field,
                format!("`{event}` is not an event type"),
            ));
        }
        selected.insert(event.clone());
    }
    let mut checked = Vec::with_capacity(filters.len());
    for (field, values) in filters {
        let path = match check_field(id, &format!("{name}.{field}"), field, &selected, schemas)? {
            FieldRef::Payload(path) => path,
            FieldRef::StreamId => vec!["@stream_id".to_owned()],
        };
        let values: BTreeSet<String> = match values {
            FilterValues::One(value) => [value.clone()].into(),
            FilterValues::Flag(flag) => [flag.to_string()].into(),
            FilterValues::Many(values) => values.iter().cloned().collect(),
        };
        if values.is_empty() {
            return Err(invalid(id, &format!("{name}.{field}"), "accepts no value"));
        }
        checked.push((path, values));
    }
    Ok(Selection {
        events: selected,
        filters: checked,
    })
}

pub(crate) fn check_field(
    id: &str,
    name: &str,
    text: &str,
    events: &BTreeSet<String>,
    schemas: &BTreeMap<&'static str, BTreeSet<String>>,
) -> Result<FieldRef, DefinitionError> {
    let field = FieldRef::parse(text);
    if let FieldRef::Payload(path) = &field {
        let top = path.first().map(String::as_str).unwrap_or_default();
        for event in events {
            let known = schemas
                .get(event.as_str())
                .is_some_and(|fields| fields.contains(top));
            if !known {
                return Err(invalid(
                    id,
                    name,
                    format!("`{event}` has no payload field `{top}`"),
                ));
            }
        }
    }
    Ok(field)
}
