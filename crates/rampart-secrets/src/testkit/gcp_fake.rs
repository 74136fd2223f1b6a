//! A FAKE of GCP Secret Manager's REST v1 API and of Google's OAuth token endpoint, for
//! tests only: GCP publishes no emulator. It implements the documented subset Rampart
//! uses (`secrets.get/create/list/patch`, `secrets.addVersion`, `versions.access` by
//! number, `latest` or alias, `versions.disable` with its etag, the JWT bearer grant) in
//! memory, checks bearer tokens and
//! the RS256 assertion, and records every request so tests can check its shape.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value, json};

use crate::store::SecretValue;

/// The fake's service account e-mail.
pub const CLIENT_EMAIL: &str = "rampart-test@fake-project.iam.gserviceaccount.com";

/// One request the fake received.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    /// The method.
    pub method: String,
    /// The path and query.
    pub path: String,
    /// The `content-type` header.
    pub content_type: Option<String>,
    /// Whether an `authorization: Bearer` header was present.
    pub bearer: bool,
    /// The body as JSON, or as form fields for the token endpoint.
    pub body: Value,
}

#[derive(Default)]
struct FakeSecret {
    created: String,
    versions: BTreeMap<u64, Vec<u8>>,
    checksums: BTreeMap<u64, u32>,
    aliases: Map<String, Value>,
    annotations: Map<String, Value>,
    etag: u64,
    version_etags: BTreeMap<u64, u64>,
    disabled: HashSet<u64>,
}

#[derive(Default)]
struct State {
    secrets: BTreeMap<String, FakeSecret>,
    tokens: HashSet<String>,
    requests: Vec<RecordedRequest>,
    issued: u64,
    conflicting: HashSet<String>,
}

struct Shared {
    state: Mutex<State>,
    public_pem: Vec<u8>,
    token_uri: String,
}

/// A running fake; stopped when dropped.
pub struct GcpFake {
    shared: Arc<Shared>,
    endpoint: String,
    private_pem: String,
    task: tokio::task::JoinHandle<()>,
}

impl GcpFake {
    /// Starts the fake on a free loopback port with a fresh RSA key (made by `openssl`).
    pub async fn start() -> Result<GcpFake, String> {
        let (private_pem, public_pem) = rsa_key_pair()?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| e.to_string())?;
        let port = listener.local_addr().map_err(|e| e.to_string())?.port();
        let endpoint = format!("http://127.0.0.1:{port}/");
        let token_uri = format!("http://127.0.0.1:{port}/token");
        let shared = Arc::new(Shared {
            state: Mutex::default(),
            public_pem,
            token_uri,
        });
        let app_state = Arc::clone(&shared);
        let app = Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let shared = Arc::clone(&app_state);
                async move { handle(&shared, &method, &uri, &headers, &body) }
            },
        );
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(GcpFake {
            shared,
            endpoint,
            private_pem,
            task,
        })
    }

    /// The API endpoint to configure (`http://127.0.0.1:PORT/`).
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// A service-account JSON key whose `token_uri` is the fake's token endpoint.
    pub fn service_account_key(&self) -> SecretValue {
        let key = json!({
            "type": "service_account",
            "project_id": "fake-project",
            "private_key_id": "fake-key-1",
            "private_key": self.private_pem,
            "client_email": CLIENT_EMAIL,
            "token_uri": self.shared.token_uri,
        });
        SecretValue::text(key.to_string())
    }

    /// Every request received, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared
            .state
            .lock()
            .map(|s| s.requests.clone())
            .unwrap_or_default()
    }

    /// Flips one byte of a stored version, keeping its recorded CRC32C (storage corruption).
    pub fn corrupt_version(&self, secret: &str, version: u64) {
        let Ok(mut state) = self.shared.state.lock() else {
            return;
        };
        let data = state
            .secrets
            .get_mut(secret)
            .and_then(|s| s.versions.get_mut(&version));
        if let Some(byte) = data.and_then(|d| d.first_mut()) {
            *byte ^= 0x01;
        }
    }

    /// Makes the next `secrets.patch` of `secret` fail with `ABORTED`, as when another
    /// writer changed it after it was read (its etag moved on).
    pub fn conflict_next_patch(&self, secret: &str) {
        if let Ok(mut state) = self.shared.state.lock() {
            state.conflicting.insert(secret.to_owned());
        }
    }

    /// Whether version `version` of `secret` is disabled.
    pub fn is_disabled(&self, secret: &str, version: u64) -> bool {
        self.shared.state.lock().is_ok_and(|state| {
            state
                .secrets
                .get(secret)
                .is_some_and(|s| s.disabled.contains(&version))
        })
    }

    /// Revokes every access token issued so far (the next API call gets 401).
    pub fn revoke_tokens(&self) {
        if let Ok(mut state) = self.shared.state.lock() {
            state.tokens.clear();
        }
    }
}

impl Drop for GcpFake {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn rsa_key_pair() -> Result<(String, Vec<u8>), String> {
    let run = |args: &[&str], input: Option<&[u8]>| -> Result<Vec<u8>, String> {
        use std::io::Write;
        let mut child = std::process::Command::new("openssl")
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .map_err(|e| {
                format!("`openssl` is needed by the GCP fake (apt-get install openssl): {e}")
            })?;
        if let (Some(input), Some(mut stdin)) = (input, child.stdin.take()) {
            stdin.write_all(input).map_err(|e| e.to_string())?;
        }
        let out = child.wait_with_output().map_err(|e| e.to_string())?;
        out.status
            .success()
            .then_some(out.stdout)
            .ok_or_else(|| "openssl failed".to_owned())
    };
    let private = run(
        &[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
        ],
        None,
    )?;
    let public = run(&["pkey", "-pubout"], Some(&private))?;
    Ok((
        String::from_utf8(private).map_err(|e| e.to_string())?,
        public,
    ))
}

fn handle(
    shared: &Shared,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let path = uri
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let bearer = auth.strip_prefix("Bearer ").map(str::to_owned);
    let parsed = if uri.path() == "/token" {
        form_json(body)
    } else {
        serde_json::from_slice(body).unwrap_or(Value::Null)
    };
    let Ok(mut state) = shared.state.lock() else {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL");
    };
    state.requests.push(RecordedRequest {
        method: method.to_string(),
        path: path.clone(),
        content_type: headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        bearer: bearer.is_some(),
        body: parsed.clone(),
    });
    if uri.path() == "/token" && method == Method::POST {
        return token(shared, &mut state, &parsed);
    }
    if !bearer.is_some_and(|t| state.tokens.contains(&t)) {
        return error(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED");
    }
    api(&mut state, method, uri, &parsed)
}

fn form_json(body: &[u8]) -> Value {
    let text = String::from_utf8_lossy(body);
    let mut map = Map::new();
    for pair in text.split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        map.insert(k.to_owned(), Value::String(percent_decode(v)));
    }
    Value::Object(map)
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (b, hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(decoded)) => {
                out.push(decoded);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn token(shared: &Shared, state: &mut State, form: &Value) -> Response {
    if form.get("grant_type").and_then(Value::as_str) != Some(crate::gcp::token::GRANT_TYPE) {
        return error(StatusCode::BAD_REQUEST, "unsupported_grant_type");
    }
    let Ok(key) = DecodingKey::from_rsa_pem(&shared.public_pem) else {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL");
    };
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[shared.token_uri.as_str()]);
    validation.set_issuer(&[CLIENT_EMAIL]);
    let assertion = form
        .get("assertion")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let Ok(claims) = jsonwebtoken::decode::<Value>(assertion, &key, &validation) else {
        return error(StatusCode::BAD_REQUEST, "invalid_grant");
    };
    if claims.claims.get("scope").and_then(Value::as_str) != Some(crate::gcp::token::SCOPE) {
        return error(StatusCode::BAD_REQUEST, "invalid_scope");
    }
    state.issued += 1;
    let access_token = format!(
        "fake-access-{}-{}",
        state.issued,
        crate::testkit::openbao::uuid_like()
    );
    state.tokens.insert(access_token.clone());
    axum::Json(json!({ "access_token": access_token, "expires_in": 3600, "token_type": "Bearer" }))
        .into_response()
}

fn error(status: StatusCode, code: &str) -> Response {
    let body = json!({ "error": { "code": status.as_u16(), "status": code, "message": code } });
    (status, axum::Json(body)).into_response()
}

fn api(state: &mut State, method: &Method, uri: &Uri, body: &Value) -> Response {
    let path = uri.path();
    let query = uri.query().unwrap_or_default();
    let Some(rest) = path.strip_prefix("/v1/projects/") else {
        return error(StatusCode::NOT_FOUND, "NOT_FOUND");
    };
    let parts: Vec<&str> = rest.split('/').collect();
    match (method.as_str(), parts.as_slice()) {
        ("GET", [p, "secrets"]) => list(state, p, query),
        ("POST", [p, "secrets"]) => create(state, p, query),
        ("GET", [p, "secrets", s]) => with_secret(state, s, |sec| resource(p, s, sec)),
        ("PATCH", [p, "secrets", s]) => patch(state, p, s, query, body),
        ("POST", [p, "secrets", s]) if s.ends_with(":addVersion") => add_version(state, p, s, body),
        ("GET", [p, "secrets", s, "versions", v]) if v.ends_with(":access") => {
            access(state, p, s, v)
        }
        ("POST", [p, "secrets", s, "versions", v]) if v.ends_with(":disable") => {
            disable(state, p, s, v, body)
        }
        _ => error(StatusCode::NOT_FOUND, "NOT_FOUND"),
    }
}

fn query_param<'a>(query: &'a str, key: &str) -> Option<&'a str> {
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix(key)?.strip_prefix('='))
}

fn resource(project: &str, id: &str, secret: &FakeSecret) -> Value {
    json!({
        "name": format!("projects/{project}/secrets/{id}"),
        "createTime": secret.created,
        "replication": { "automatic": {} },
        "versionAliases": secret.aliases,
        "annotations": secret.annotations,
        "etag": format!("\"{}\"", secret.etag),
    })
}

fn with_secret(state: &mut State, id: &str, answer: impl FnOnce(&FakeSecret) -> Value) -> Response {
    match state.secrets.get(id) {
        Some(secret) => axum::Json(answer(secret)).into_response(),
        None => error(StatusCode::NOT_FOUND, "NOT_FOUND"),
    }
}

fn list(state: &State, project: &str, query: &str) -> Response {
    let size = query_param(query, "pageSize")
        .and_then(|s| s.parse().ok())
        .unwrap_or(25usize);
    let after = query_param(query, "pageToken").map(percent_decode);
    let ids = state
        .secrets
        .keys()
        .filter(|id| after.as_ref().is_none_or(|a| id.as_str() > a.as_str()));
    let page: Vec<&String> = ids.take(size).collect();
    let secrets: Vec<Value> = page
        .iter()
        .filter_map(|id| state.secrets.get(*id).map(|s| resource(project, id, s)))
        .collect();
    let next = page
        .last()
        .filter(|_| page.len() == size)
        .map(|last| (*last).clone());
    let answer = match next {
        Some(token) => json!({ "secrets": secrets, "nextPageToken": token }),
        None => json!({ "secrets": secrets }),
    };
    axum::Json(answer).into_response()
}

fn create(state: &mut State, project: &str, query: &str) -> Response {
    let Some(id) = query_param(query, "secretId").map(str::to_owned) else {
        return error(StatusCode::BAD_REQUEST, "INVALID_ARGUMENT");
    };
    if state.secrets.contains_key(&id) {
        return error(StatusCode::CONFLICT, "ALREADY_EXISTS");
    }
    let secret = FakeSecret {
        created: chrono::Utc::now().to_rfc3339(),
        etag: 1,
        ..FakeSecret::default()
    };
    let answer = resource(project, &id, &secret);
    state.secrets.insert(id, secret);
    axum::Json(answer).into_response()
}

fn add_version(state: &mut State, project: &str, verb: &str, body: &Value) -> Response {
    let id = verb.trim_end_matches(":addVersion");
    let Some(data) = body
        .pointer("/payload/data")
        .and_then(Value::as_str)
        .and_then(|d| STANDARD.decode(d).ok())
    else {
        return error(StatusCode::BAD_REQUEST, "INVALID_ARGUMENT");
    };
    let Some(secret) = state.secrets.get_mut(id) else {
        return error(StatusCode::NOT_FOUND, "NOT_FOUND");
    };
    let sent = body.pointer("/payload/dataCrc32c").and_then(Value::as_str);
    if sent.is_some_and(|c| c != crc32c::crc32c(&data).to_string()) {
        return error(StatusCode::BAD_REQUEST, "INVALID_ARGUMENT");
    }
    let number = secret.versions.keys().max().copied().unwrap_or(0) + 1;
    secret.checksums.insert(number, crc32c::crc32c(&data));
    secret.versions.insert(number, data);
    secret.version_etags.insert(number, 1);
    let name = format!("projects/{project}/secrets/{id}/versions/{number}");
    let created = chrono::Utc::now().to_rfc3339();
    axum::Json(json!({ "name": name, "createTime": created, "state": "ENABLED", "etag": "\"1\"" }))
        .into_response()
}

fn disable(state: &mut State, project: &str, id: &str, verb: &str, body: &Value) -> Response {
    let number = verb.trim_end_matches(":disable").parse::<u64>().ok();
    let secret = state.secrets.get_mut(id);
    let Some((secret, number)) = secret
        .zip(number)
        .filter(|(s, n)| s.versions.contains_key(n))
    else {
        return error(StatusCode::NOT_FOUND, "NOT_FOUND");
    };
    let etag = secret.version_etags.get(&number).copied().unwrap_or(1);
    let sent = body.get("etag").and_then(Value::as_str);
    if sent.is_some_and(|e| e != format!("\"{etag}\"")) {
        return error(StatusCode::CONFLICT, "ABORTED");
    }
    secret.disabled.insert(number);
    secret.version_etags.insert(number, etag + 1);
    let name = format!("projects/{project}/secrets/{id}/versions/{number}");
    let answer = json!({ "name": name, "state": "DISABLED", "etag": format!("\"{}\"", etag + 1) });
    axum::Json(answer).into_response()
}

fn access(state: &State, project: &str, id: &str, verb: &str) -> Response {
    let wanted = verb.trim_end_matches(":access");
    let Some(secret) = state.secrets.get(id) else {
        return error(StatusCode::NOT_FOUND, "NOT_FOUND");
    };
    let number = match wanted {
        "latest" => secret.versions.keys().max().copied(),
        n if n.parse::<u64>().is_ok() => n.parse().ok(),
        alias => secret
            .aliases
            .get(alias)
            .and_then(Value::as_str)
            .and_then(|v| v.parse().ok()),
    };
    let Some((number, data)) = number.and_then(|n| secret.versions.get(&n).map(|d| (n, d))) else {
        return error(StatusCode::NOT_FOUND, "NOT_FOUND");
    };
    if secret.disabled.contains(&number) {
        return error(StatusCode::BAD_REQUEST, "FAILED_PRECONDITION");
    }
    let name = format!("projects/{project}/secrets/{id}/versions/{number}");
    let checksum = secret.checksums.get(&number).map(u32::to_string);
    let payload = json!({ "data": STANDARD.encode(data), "dataCrc32c": checksum });
    axum::Json(json!({ "name": name, "payload": payload })).into_response()
}

fn patch(state: &mut State, project: &str, id: &str, query: &str, body: &Value) -> Response {
    let mask = query_param(query, "updateMask")
        .unwrap_or_default()
        .to_owned();
    if state.conflicting.remove(id) {
        return error(StatusCode::CONFLICT, "ABORTED");
    }
    let Some(secret) = state.secrets.get_mut(id) else {
        return error(StatusCode::NOT_FOUND, "NOT_FOUND");
    };
    if body
        .get("etag")
        .and_then(Value::as_str)
        .is_some_and(|e| e != format!("\"{}\"", secret.etag))
    {
        return error(StatusCode::CONFLICT, "ABORTED");
    }
    if mask.split(',').any(|f| f == "versionAliases") {
        let aliases = body
            .get("versionAliases")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let known = |v: &Value| {
            v.as_str()
                .and_then(|s| s.parse::<u64>().ok())
                .is_some_and(|n| secret.versions.contains_key(&n))
        };
        if !aliases.values().all(known) {
            return error(StatusCode::BAD_REQUEST, "INVALID_ARGUMENT");
        }
        secret.aliases = aliases;
    }
    if mask.split(',').any(|f| f == "annotations") {
        secret.annotations = body
            .get("annotations")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
    }
    secret.etag += 1;
    axum::Json(resource(project, id, secret)).into_response()
}
