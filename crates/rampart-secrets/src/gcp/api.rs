//! The GCP Secret Manager REST v1 requests Rampart makes, built as data so that their
//! shapes can be checked against the published API reference.
//!
//! Rule upheld: each request is exactly the documented method, path and body; a value
//! appears only in `addVersion`'s `payload.data` (base64, as the API requires).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use reqwest::Method;
use serde_json::{Map, Value, json};

/// One request: method, path with query (relative to the endpoint) and JSON body.
#[derive(Debug)]
pub struct ApiRequest {
    /// The HTTP method.
    pub method: Method,
    /// The path and query, starting `v1/`.
    pub path: String,
    /// The JSON body, if any.
    pub body: Option<Value>,
}

fn secret_path(project: &str, secret: &str) -> String {
    format!("v1/projects/{project}/secrets/{secret}")
}

/// `GET v1/projects/P/secrets/S/versions/V:access` (V a number, `latest` or an alias).
pub fn access(project: &str, secret: &str, version: &str) -> ApiRequest {
    let path = format!("{}/versions/{version}:access", secret_path(project, secret));
    ApiRequest {
        method: Method::GET,
        path,
        body: None,
    }
}

/// `GET v1/projects/P/secrets/S`.
pub fn get_secret(project: &str, secret: &str) -> ApiRequest {
    ApiRequest {
        method: Method::GET,
        path: secret_path(project, secret),
        body: None,
    }
}

/// `POST v1/projects/P/secrets?secretId=S` with automatic replication.
pub fn create_secret(project: &str, secret: &str) -> ApiRequest {
    let path = format!("v1/projects/{project}/secrets?secretId={secret}");
    let body = json!({ "replication": { "automatic": {} } });
    ApiRequest {
        method: Method::POST,
        path,
        body: Some(body),
    }
}

/// `POST v1/projects/P/secrets/S:addVersion` with the base64 payload and its CRC32C.
pub fn add_version(project: &str, secret: &str, data: &[u8]) -> ApiRequest {
    let path = format!("{}:addVersion", secret_path(project, secret));
    let checksum = crc32c::crc32c(data).to_string();
    let body = json!({ "payload": { "data": STANDARD.encode(data), "dataCrc32c": checksum } });
    ApiRequest {
        method: Method::POST,
        path,
        body: Some(body),
    }
}

/// `POST v1/projects/P/secrets/S/versions/N:disable`, guarded by the version's `etag`.
pub fn disable_version(
    project: &str,
    secret: &str,
    version: u64,
    etag: Option<&str>,
) -> ApiRequest {
    let path = format!(
        "{}/versions/{version}:disable",
        secret_path(project, secret)
    );
    let body = match etag {
        Some(etag) => json!({ "etag": etag }),
        None => json!({}),
    };
    ApiRequest {
        method: Method::POST,
        path,
        body: Some(body),
    }
}

/// `PATCH v1/projects/P/secrets/S?updateMask=versionAliases,annotations`, guarded by `etag`.
pub fn update_stages(
    project: &str,
    secret: &str,
    aliases: &Map<String, Value>,
    annotations: &Map<String, Value>,
    etag: Option<&str>,
) -> ApiRequest {
    let path = format!(
        "{}?updateMask=versionAliases,annotations",
        secret_path(project, secret)
    );
    let mut body = json!({ "versionAliases": aliases, "annotations": annotations });
    if let (Some(etag), Some(object)) = (etag, body.as_object_mut()) {
        object.insert("etag".into(), Value::String(etag.to_owned()));
    }
    ApiRequest {
        method: Method::PATCH,
        path,
        body: Some(body),
    }
}

/// `GET v1/projects/P/secrets?pageSize=250[&pageToken=T]`.
pub fn list_secrets(project: &str, page_token: Option<&str>) -> ApiRequest {
    let mut path = format!("v1/projects/{project}/secrets?pageSize=250");
    if let Some(token) = page_token {
        path.push_str("&pageToken=");
        path.extend(form_urlencoded_byte(token));
    }
    ApiRequest {
        method: Method::GET,
        path,
        body: None,
    }
}

/// Percent-encodes a page token (opaque, may hold `=`, `+`, `/`).
fn form_urlencoded_byte(token: &str) -> impl Iterator<Item = String> + '_ {
    token.bytes().map(|b| match b {
        b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
            (b as char).to_string()
        }
        _ => format!("%{b:02X}"),
    })
}

/// A `Secret` resource as the API returns it.
#[derive(Debug, Default)]
pub struct SecretResource {
    /// The secret id (last segment of `name`).
    pub id: String,
    /// `createTime`.
    pub created_at: Option<DateTime<Utc>>,
    /// `versionAliases`, as version numbers.
    pub aliases: Map<String, Value>,
    /// `annotations`.
    pub annotations: Map<String, Value>,
    /// `etag`.
    pub etag: Option<String>,
    /// `rotation.nextRotationTime`.
    pub next_rotation: Option<DateTime<Utc>>,
}

impl SecretResource {
    /// Reads the resource from its JSON.
    pub fn from_json(value: &Value) -> SecretResource {
        let time = |v: Option<&Value>| v.and_then(Value::as_str).and_then(|s| s.parse().ok());
        let object = |key: &str| {
            value
                .get(key)
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default()
        };
        let name = value
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        SecretResource {
            id: name.rsplit('/').next().unwrap_or_default().to_owned(),
            created_at: time(value.get("createTime")),
            aliases: object("versionAliases"),
            annotations: object("annotations"),
            etag: value.get("etag").and_then(Value::as_str).map(str::to_owned),
            next_rotation: time(value.pointer("/rotation/nextRotationTime")),
        }
    }

    /// The version number an alias points at (int64 is a JSON string or number).
    pub fn alias(&self, alias: &str) -> Option<u64> {
        match self.aliases.get(alias)? {
            Value::String(s) => s.parse().ok(),
            Value::Number(n) => n.as_u64(),
            _ => None,
        }
    }
}

/// Whether `data` matches the payload's `dataCrc32c` (int64 as a string or number), when
/// the answer carries one.
pub fn checksum_matches(payload: &Value, data: &[u8]) -> bool {
    let expected = match payload.get("dataCrc32c") {
        None | Some(Value::Null) => return true,
        Some(Value::String(s)) => s.parse::<u64>().ok(),
        Some(Value::Number(n)) => n.as_u64(),
        Some(_) => None,
    };
    expected == Some(u64::from(crc32c::crc32c(data)))
}

/// The version number at the end of a version resource name.
pub fn version_number(name: &str) -> Option<u64> {
    name.rsplit('/').next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_is_a_get_of_the_version_with_the_access_verb() {
        let request = access("p1", "db", "latest");
        assert_eq!(request.method, Method::GET);
        assert_eq!(
            request.path,
            "v1/projects/p1/secrets/db/versions/latest:access"
        );
        assert!(request.body.is_none());
    }

    #[test]
    fn create_secret_posts_the_id_as_query_and_automatic_replication() {
        let request = create_secret("p1", "db");
        assert_eq!(request.method, Method::POST);
        assert_eq!(request.path, "v1/projects/p1/secrets?secretId=db");
        assert_eq!(
            request.body,
            Some(json!({ "replication": { "automatic": {} } }))
        );
    }

    #[test]
    fn add_version_posts_a_base64_payload() {
        let request = add_version("p1", "db", b"hello");
        assert_eq!(request.method, Method::POST);
        assert_eq!(request.path, "v1/projects/p1/secrets/db:addVersion");
        let checksum = crc32c::crc32c(b"hello").to_string();
        let payload = json!({ "payload": { "data": "aGVsbG8=", "dataCrc32c": checksum } });
        assert_eq!(request.body, Some(payload));
    }

    #[test]
    fn update_stages_patches_aliases_and_annotations_with_the_etag() {
        let mut aliases = Map::new();
        aliases.insert("current".into(), json!("3"));
        let request = update_stages("p1", "db", &aliases, &Map::new(), Some("\"abc\""));
        assert_eq!(request.method, Method::PATCH);
        assert_eq!(
            request.path,
            "v1/projects/p1/secrets/db?updateMask=versionAliases,annotations"
        );
        let body = request.body.unwrap();
        assert_eq!(body["versionAliases"]["current"], "3");
        assert_eq!(body["etag"], "\"abc\"");
    }

    #[test]
    fn list_secrets_encodes_the_page_token() {
        let request = list_secrets("p1", Some("a+b/c="));
        assert_eq!(request.method, Method::GET);
        assert_eq!(
            request.path,
            "v1/projects/p1/secrets?pageSize=250&pageToken=a%2Bb%2Fc%3D"
        );
    }

    #[test]
    fn secret_resource_reads_aliases_given_as_strings_or_numbers() {
        let value = json!({
            "name": "projects/123/secrets/db",
            "createTime": "2026-01-01T00:00:00Z",
            "versionAliases": { "current": "4", "previous": 3 },
            "etag": "\"e1\""
        });
        let resource = SecretResource::from_json(&value);
        assert_eq!(resource.id, "db");
        assert_eq!(resource.alias("current"), Some(4));
        assert_eq!(resource.alias("previous"), Some(3));
        assert_eq!(
            version_number("projects/123/secrets/db/versions/7"),
            Some(7)
        );
    }
}
