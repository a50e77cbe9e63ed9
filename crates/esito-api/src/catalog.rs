//! The commands the API accepts, read from the domain's own JSON Schema: each command type has
//! an endpoint, so a command added to the domain is served without a line here; but for the
//! service's own commands (`auth::SERVICE_COMMANDS`), which no client sends.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use esito_domain::Command;

pub struct Catalog {
    /// Command type (`PlaceOrder`) by its path segment (`place-order`).
    pub by_path: BTreeMap<String, &'static str>,
    /// The JSON Schema of each command's fields, by command type.
    pub schemas: BTreeMap<&'static str, serde_json::Value>,
    /// Definitions the command schemas refer to (`#/$defs/...`).
    pub definitions: serde_json::Map<String, serde_json::Value>,
}

/// `PlaceOrder` → `place-order`.
pub fn path_of(command: &str) -> String {
    let mut path = String::new();
    for (i, c) in command.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            path.push('-');
        }
        path.push(c.to_ascii_lowercase());
    }
    path
}

pub fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| {
        let schema =
            serde_json::to_value(schemars::schema_for!(Command)).expect("a schema serializes");
        let variants = schema["oneOf"]
            .as_array()
            .expect("Command is a tagged enum: its schema is a oneOf");
        let mut by_path = BTreeMap::new();
        let mut schemas = BTreeMap::new();
        for variant in variants {
            let tag = &variant["properties"]["type"];
            let name = tag["const"]
                .as_str()
                .or_else(|| tag["enum"][0].as_str())
                .expect("each variant has a constant type");
            if crate::auth::SERVICE_COMMANDS.contains(&name) {
                continue;
            }
            let name: &'static str = Box::leak(name.to_owned().into_boxed_str());
            by_path.insert(path_of(name), name);
            schemas.insert(name, variant.clone());
        }
        let definitions = schema["$defs"].as_object().cloned().unwrap_or_default();
        Catalog {
            by_path,
            schemas,
            definitions,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_has_a_path() {
        let catalog = catalog();
        assert_eq!(catalog.by_path.get("place-order"), Some(&"PlaceOrder"));
        assert_eq!(
            catalog.by_path.get("record-delivery"),
            Some(&"RecordDelivery")
        );
        assert!(catalog.by_path.len() >= 20, "{:?}", catalog.by_path.keys());
    }
}
