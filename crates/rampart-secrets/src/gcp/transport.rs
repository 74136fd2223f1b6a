//! Talking to the Secret Manager API: one authorised request, a retry after a refused
//! token, and the mapping of HTTP statuses to store errors.
//!
//! Rule upheld: the access token travels only as a bearer header, and an error names the
//! secret and the HTTP status, never a token or a value.

use reqwest::StatusCode;
use secrecy::ExposeSecret;
use serde_json::Value;

use super::api::ApiRequest;
use super::{BACKEND, GcpStore};
use crate::store::SecretError;

impl GcpStore {
    /// Sends `request`; on 401, fetches a new token and tries once more.
    pub(super) async fn send(
        &self,
        name: &str,
        request: ApiRequest,
    ) -> Result<(StatusCode, Value), SecretError> {
        let (status, answer) = self.send_once(&request).await?;
        if status != StatusCode::UNAUTHORIZED {
            return Ok((status, answer));
        }
        self.tokens.invalidate().await;
        let (status, answer) = self.send_once(&request).await?;
        if status == StatusCode::UNAUTHORIZED {
            return Err(status_error(name, status));
        }
        Ok((status, answer))
    }

    async fn send_once(&self, request: &ApiRequest) -> Result<(StatusCode, Value), SecretError> {
        let url = self
            .endpoint
            .join(&request.path)
            .map_err(|_| SecretError::Config("a GCP request path is invalid".into()))?;
        let token = self.tokens.token().await?;
        let mut builder = self
            .http
            .request(request.method.clone(), url)
            .bearer_auth(token.expose_secret());
        if let Some(body) = &request.body {
            builder = builder.json(body);
        }
        let response = builder
            .send()
            .await
            .map_err(|e| crate::http::unavailable(BACKEND, &e))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| crate::http::unavailable(BACKEND, &e))?;
        Ok((
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        ))
    }

    /// Sends `request` and requires a success.
    pub(super) async fn call(&self, name: &str, request: ApiRequest) -> Result<Value, SecretError> {
        let (status, answer) = self.send(name, request).await?;
        if !status.is_success() {
            return Err(status_error(name, status));
        }
        Ok(answer)
    }
}

pub(super) fn status_error(name: &str, status: StatusCode) -> SecretError {
    match status.as_u16() {
        404 => SecretError::NotFound(name.to_owned()),
        401 | 403 => SecretError::Denied {
            backend: BACKEND,
            detail: format!("access to `{name}` refused (HTTP {})", status.as_u16()),
        },
        code => SecretError::Unavailable {
            backend: BACKEND,
            detail: format!("`{name}`: HTTP {code}"),
        },
    }
}
