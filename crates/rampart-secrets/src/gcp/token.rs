//! Service-account credentials for GCP: the JSON key and the OAuth 2.0 JWT bearer grant
//! (RFC 7523) that turns it into short-lived access tokens.
//!
//! Rule upheld: the private key and the access tokens live only in `secrecy` types; the
//! key's `Debug` shows the account's e-mail and key id, never the key; a token is
//! refreshed once two thirds of its lifetime have passed.

use std::time::{Duration, Instant};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::{Client, Url};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use super::BACKEND;
use crate::store::{SecretError, SecretValue};

/// The OAuth scope Secret Manager needs.
pub const SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";
/// The JWT bearer grant type (RFC 7523).
pub const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// What a key must hold, for the error when it does not.
const KEY_FIELDS: &str = "the GCP service-account key is not JSON with `client_email`, \
                          `private_key_id`, `private_key` and `token_uri`";

/// A service-account JSON key, as the GCP console issues it.
#[derive(Deserialize)]
pub struct ServiceAccountKey {
    /// The account's e-mail (the JWT issuer).
    pub client_email: String,
    /// The key's id (the JWT `kid`).
    pub private_key_id: String,
    /// The PEM private key.
    private_key: SecretString,
    /// Where tokens are obtained.
    pub token_uri: String,
}

impl std::fmt::Debug for ServiceAccountKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceAccountKey")
            .field("client_email", &self.client_email)
            .field("private_key_id", &self.private_key_id)
            .finish_non_exhaustive()
    }
}

impl ServiceAccountKey {
    /// Parses the JSON key (resolved from a reference); errors never show its content.
    pub fn from_json(value: &SecretValue) -> Result<ServiceAccountKey, SecretError> {
        let key: ServiceAccountKey = serde_json::from_slice(value.expose_bytes())
            .map_err(|_| SecretError::Config(KEY_FIELDS.into()))?;
        crate::http::parse_address(BACKEND, &key.token_uri)?;
        EncodingKey::from_rsa_pem(key.private_key.expose_secret().as_bytes()).map_err(|_| {
            SecretError::Config(
                "the GCP service-account `private_key` is not an RSA PEM key".into(),
            )
        })?;
        Ok(key)
    }
}

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    scope: &'a str,
    aud: &'a str,
    iat: i64,
    exp: i64,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: SecretString,
    expires_in: u64,
}

struct Cached {
    token: SecretString,
    lifetime: Duration,
    obtained: Instant,
}

/// Obtains and caches access tokens for one service account.
pub struct TokenSource {
    key: ServiceAccountKey,
    http: Client,
    cached: Mutex<Option<Cached>>,
}

impl TokenSource {
    /// A token source for `key`.
    pub fn new(key: ServiceAccountKey, http: Client) -> TokenSource {
        TokenSource {
            key,
            http,
            cached: Mutex::new(None),
        }
    }

    /// A valid access token, fetching a new one when two thirds of the old one's life passed.
    pub async fn token(&self) -> Result<SecretString, SecretError> {
        let mut cached = self.cached.lock().await;
        if let Some(current) = cached
            .as_ref()
            .filter(|c| c.obtained.elapsed() < c.lifetime * 2 / 3)
        {
            return Ok(current.token.clone());
        }
        let fresh = self.fetch().await?;
        let token = fresh.token.clone();
        *cached = Some(fresh);
        Ok(token)
    }

    /// Forgets the cached token (after a 401).
    pub async fn invalidate(&self) {
        *self.cached.lock().await = None;
    }

    /// The signed JWT assertion for the token request.
    pub fn assertion(&self, now_unix: i64) -> Result<SecretString, SecretError> {
        let claims = Claims {
            iss: &self.key.client_email,
            scope: SCOPE,
            aud: &self.key.token_uri,
            iat: now_unix,
            exp: now_unix + 3600,
        };
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.key.private_key_id.clone());
        let key = EncodingKey::from_rsa_pem(self.key.private_key.expose_secret().as_bytes())
            .map_err(|_| SecretError::Config("the GCP service-account key is unusable".into()))?;
        let jwt = jsonwebtoken::encode(&header, &claims, &key)
            .map_err(|_| SecretError::Config("signing the GCP token assertion failed".into()))?;
        Ok(SecretString::from(jwt))
    }

    async fn fetch(&self) -> Result<Cached, SecretError> {
        let assertion = self.assertion(chrono::Utc::now().timestamp())?;
        let url = Url::parse(&self.key.token_uri)
            .map_err(|_| SecretError::Config("the GCP `token_uri` is not a URL".into()))?;
        let form = [
            ("grant_type", GRANT_TYPE),
            ("assertion", assertion.expose_secret()),
        ];
        let response = self.http.post(url).form(&form).send().await;
        let response = response.map_err(|e| crate::http::unavailable(BACKEND, &e))?;
        let status = response.status();
        if !status.is_success() {
            let detail = format!("the token endpoint answered HTTP {}", status.as_u16());
            return Err(SecretError::Denied {
                backend: BACKEND,
                detail,
            });
        }
        let answer: TokenAnswer = response
            .json()
            .await
            .map_err(|_| SecretError::Unavailable {
                backend: BACKEND,
                detail: "the token endpoint answer is malformed".into(),
            })?;
        Ok(Cached {
            token: answer.access_token,
            lifetime: Duration::from_secs(answer.expires_in.max(1)),
            obtained: Instant::now(),
        })
    }
}
