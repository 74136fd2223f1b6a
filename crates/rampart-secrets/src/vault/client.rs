//! The Vault / OpenBao HTTP client: authentication, token renewal and JSON requests.
//!
//! Rule upheld: the Vault token lives in a `secrecy` box and is sent only in the
//! `X-Vault-Token` header; it is renewed (`auth/token/renew-self`) once two thirds of its
//! TTL have passed, and an AppRole login is repeated when renewal is refused or the token
//! is not renewable. No error carries a token, a secret id or a response body.

use std::time::{Duration, Instant};

use reqwest::{Client, Method, StatusCode, Url};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use tokio::sync::Mutex;

use crate::http;
use crate::store::SecretError;

use super::BACKEND;

/// How Rampart authenticates to Vault.
pub enum VaultAuth {
    /// A token given by the operator (resolved from a reference).
    Token(SecretString),
    /// An AppRole login.
    AppRole {
        /// The auth mount (`approle`).
        mount: String,
        /// The role id.
        role_id: SecretString,
        /// The secret id.
        secret_id: SecretString,
    },
}

impl std::fmt::Debug for VaultAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VaultAuth::Token(_) => f.write_str("VaultAuth::Token([redacted])"),
            VaultAuth::AppRole { mount, .. } => write!(f, "VaultAuth::AppRole({mount})"),
        }
    }
}

/// The token in use and when it needs renewing.
struct Session {
    token: SecretString,
    renewable: bool,
    /// `None` for a token that never expires (a root token).
    ttl: Option<Duration>,
    obtained: Instant,
}

impl Session {
    fn needs_renewal(&self) -> bool {
        self.ttl
            .is_some_and(|ttl| self.obtained.elapsed() >= ttl * 2 / 3)
    }
}

/// An authenticated Vault client.
pub struct VaultClient {
    http: Client,
    address: Url,
    namespace: Option<String>,
    auth: VaultAuth,
    session: Mutex<Option<Session>>,
}

impl VaultClient {
    /// A client for `address`; authenticates on first use.
    pub(super) fn new(
        http: Client,
        address: Url,
        namespace: Option<String>,
        auth: VaultAuth,
    ) -> VaultClient {
        VaultClient {
            http,
            address,
            namespace,
            auth,
            session: Mutex::new(None),
        }
    }

    /// Sends a request with the current token; on 403, logs in again once (AppRole).
    pub(super) async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(StatusCode, Value), SecretError> {
        let token = self.token().await?;
        let (status, answer) = self.send(method.clone(), path, body, Some(&token)).await?;
        if status != StatusCode::FORBIDDEN || !matches!(self.auth, VaultAuth::AppRole { .. }) {
            return Ok((status, answer));
        }
        *self.session.lock().await = None;
        let token = self.token().await?;
        self.send(method, path, body, Some(&token)).await
    }

    /// Renews or replaces the token if two thirds of its TTL have passed.
    pub async fn refresh(&self) -> Result<(), SecretError> {
        self.token().await.map(drop)
    }

    /// How long until the token needs renewing, if it expires.
    pub async fn renew_in(&self) -> Option<Duration> {
        let session = self.session.lock().await;
        let session = session.as_ref()?;
        let due = session.ttl? * 2 / 3;
        Some(due.saturating_sub(session.obtained.elapsed()))
    }

    async fn token(&self) -> Result<SecretString, SecretError> {
        let mut session = self.session.lock().await;
        let renewed = match session.take() {
            None => self.authenticate().await?,
            Some(current) if !current.needs_renewal() => current,
            Some(current) => self.renew_or_login(current).await?,
        };
        let token = renewed.token.clone();
        *session = Some(renewed);
        Ok(token)
    }

    async fn renew_or_login(&self, current: Session) -> Result<Session, SecretError> {
        if current.renewable {
            match self.renew(&current.token).await {
                Ok(session) => return Ok(session),
                Err(error) => {
                    tracing::warn!(%error, "vault token renewal failed; logging in again")
                }
            }
        }
        match self.auth {
            VaultAuth::AppRole { .. } => self.authenticate().await,
            // An operator token cannot be replaced from here: keep it until Vault refuses it.
            VaultAuth::Token(_) => Ok(Session {
                obtained: Instant::now(),
                ..current
            }),
        }
    }

    async fn authenticate(&self) -> Result<Session, SecretError> {
        match &self.auth {
            VaultAuth::Token(token) => self.lookup(token).await,
            VaultAuth::AppRole {
                mount,
                role_id,
                secret_id,
            } => {
                let body = json!({
                    "role_id": role_id.expose_secret(),
                    "secret_id": secret_id.expose_secret(),
                });
                let path = format!("auth/{mount}/login");
                let (status, answer) = self.send(Method::POST, &path, Some(&body), None).await?;
                check(status, "AppRole login")?;
                session_from_auth(&answer)
            }
        }
    }

    async fn lookup(&self, token: &SecretString) -> Result<Session, SecretError> {
        let (status, answer) = self
            .send(Method::GET, "auth/token/lookup-self", None, Some(token))
            .await?;
        check(status, "token lookup")?;
        let data = answer.get("data").unwrap_or(&Value::Null);
        let ttl = data.get("ttl").and_then(Value::as_u64).unwrap_or(0);
        Ok(Session {
            token: token.clone(),
            renewable: data
                .get("renewable")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            ttl: (ttl > 0).then(|| Duration::from_secs(ttl)),
            obtained: Instant::now(),
        })
    }

    async fn renew(&self, token: &SecretString) -> Result<Session, SecretError> {
        let body = json!({});
        let (status, answer) = self
            .send(
                Method::POST,
                "auth/token/renew-self",
                Some(&body),
                Some(token),
            )
            .await?;
        check(status, "token renewal")?;
        let session = session_from_auth(&answer)?;
        tracing::debug!(
            ttl_seconds = session.ttl.map(|t| t.as_secs()),
            "vault token renewed"
        );
        Ok(session)
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        token: Option<&SecretString>,
    ) -> Result<(StatusCode, Value), SecretError> {
        let url = self
            .address
            .join(&format!("v1/{path}"))
            .map_err(|_| SecretError::Config("vault path is not a valid URL path".into()))?;
        let mut request = self.http.request(method, url);
        if let Some(token) = token {
            request = request.header("X-Vault-Token", token.expose_secret());
        }
        if let Some(namespace) = &self.namespace {
            request = request.header("X-Vault-Namespace", namespace);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request
            .send()
            .await
            .map_err(|e| http::unavailable(BACKEND, &e))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| http::unavailable(BACKEND, &e))?;
        let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Ok((status, value))
    }
}

fn session_from_auth(answer: &Value) -> Result<Session, SecretError> {
    let auth = answer
        .get("auth")
        .ok_or_else(|| denied("no `auth` in the answer"))?;
    let token = auth
        .get("client_token")
        .and_then(Value::as_str)
        .ok_or_else(|| denied("no `client_token` in the answer"))?;
    let ttl = auth
        .get("lease_duration")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    Ok(Session {
        token: SecretString::from(token.to_owned()),
        renewable: auth
            .get("renewable")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        ttl: (ttl > 0).then(|| Duration::from_secs(ttl)),
        obtained: Instant::now(),
    })
}

/// Maps an authentication status to an error.
fn check(status: StatusCode, what: &str) -> Result<(), SecretError> {
    match status {
        s if s.is_success() => Ok(()),
        StatusCode::BAD_REQUEST | StatusCode::FORBIDDEN | StatusCode::UNAUTHORIZED => Err(denied(
            &format!("{what} refused (HTTP {})", status.as_u16()),
        )),
        _ => Err(SecretError::Unavailable {
            backend: BACKEND,
            detail: format!("{what} answered HTTP {}", status.as_u16()),
        }),
    }
}

pub(super) fn denied(detail: &str) -> SecretError {
    SecretError::Denied {
        backend: BACKEND,
        detail: detail.to_owned(),
    }
}
