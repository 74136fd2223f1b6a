//! An HTTPS client for the gateway that trusts only the gateway's own CA.
//!
//! Certificate verification is never turned off: the client trusts exactly
//! one root, the development CA in the gateway's data directory, and none of
//! the built-in roots. Every answer is read whole into an [`Answer`], so that
//! a test can assert on status, headers and body together.

use reqwest::header::{CONTENT_TYPE, HeaderMap};
use reqwest::{Certificate, Client, Method, RequestBuilder};
use serde_json::Value;

/// The media type of RFC 9457 problem documents.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// A client bound to one gateway's base URL.
#[derive(Debug, Clone)]
pub struct Api {
    http: Client,
    base_url: String,
}

/// A whole response: status, headers and body.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The HTTP status code.
    pub status: u16,
    /// The response headers.
    pub headers: HeaderMap,
    /// The body as text.
    pub text: String,
    /// The body as JSON, or `Value::Null` when it is not JSON.
    pub json: Value,
}

impl Api {
    /// A client for `base_url` trusting only the PEM certificate `ca_pem`.
    pub fn new(base_url: &str, ca_pem: &[u8]) -> Api {
        Self::build(base_url, ca_pem, false)
    }

    /// Like [`Api::new`], but speaking HTTP/1.1 only (no HTTP/2 over ALPN).
    pub fn new_http1(base_url: &str, ca_pem: &[u8]) -> Api {
        Self::build(base_url, ca_pem, true)
    }

    fn build(base_url: &str, ca_pem: &[u8], http1_only: bool) -> Api {
        let ca = Certificate::from_pem(ca_pem).expect("the gateway's CA file is a PEM certificate");
        let mut builder = Client::builder();
        if http1_only {
            builder = builder.http1_only();
        }
        let http = builder
            .use_rustls_tls()
            .tls_built_in_root_certs(false)
            .add_root_certificate(ca)
            .https_only(true)
            .timeout(std::time::Duration::from_secs(20))
            .build()
            .expect("the HTTPS client builds");
        Api {
            http,
            base_url: base_url.trim_end_matches('/').to_owned(),
        }
    }

    /// The underlying client, for requests the helpers below do not cover.
    pub fn http(&self) -> &Client {
        &self.http
    }

    /// The absolute URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// A request builder for `method` on `path`, with a bearer token if given.
    pub fn request(&self, method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
        let builder = self.http.request(method, self.url(path));
        match token {
            Some(token) => builder.bearer_auth(token),
            None => builder,
        }
    }

    /// `GET path`.
    pub async fn get(&self, path: &str, token: Option<&str>) -> Answer {
        Answer::of(self.request(Method::GET, path, token)).await
    }

    /// `POST path` with a JSON body.
    pub async fn post_json(&self, path: &str, token: Option<&str>, body: &Value) -> Answer {
        Answer::of(self.request(Method::POST, path, token).json(body)).await
    }

    /// `POST path` with raw bytes declared as `content_type`.
    pub async fn post_raw(
        &self,
        path: &str,
        token: Option<&str>,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> Answer {
        let builder = self
            .request(Method::POST, path, token)
            .header(CONTENT_TYPE, content_type);
        Answer::of(builder.body(body)).await
    }
}

impl Answer {
    /// Sends `request` and reads the whole answer; a transport failure fails the test.
    pub async fn of(request: RequestBuilder) -> Answer {
        let response = request
            .send()
            .await
            .expect("the gateway answers over HTTPS");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response
            .text()
            .await
            .expect("the response body can be read");
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            text,
            json,
        }
    }

    /// The `Content-Type` without parameters, lowercased.
    pub fn media_type(&self) -> String {
        let value = self
            .headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        value
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    }

    /// The string member `name` of the body, if it is one.
    pub fn member(&self, name: &str) -> Option<&str> {
        self.json.get(name).and_then(Value::as_str)
    }

    /// The body's `code` member, or `""`.
    pub fn code(&self) -> &str {
        self.member("code").unwrap_or("")
    }

    /// Asserts an RFC 9457 problem with `status` and `code`, with every required member.
    pub fn assert_problem(&self, status: u16, code: &str) -> &Answer {
        assert_eq!(self.status, status, "status of {}", self.text);
        self.assert_problem_shape();
        assert_eq!(self.code(), code, "code of {}", self.text);
        self
    }

    /// Asserts a well-formed problem document of any status and code.
    pub fn assert_problem_shape(&self) -> &Answer {
        assert_eq!(
            self.media_type(),
            PROBLEM_JSON,
            "media type of {}",
            self.text
        );
        for member in ["type", "title", "detail", "code", "request_id"] {
            assert!(
                self.member(member).is_some(),
                "problem member `{member}` in {}",
                self.text
            );
        }
        assert_eq!(
            self.json.get("status").and_then(Value::as_u64),
            Some(u64::from(self.status)),
            "{}",
            self.text
        );
        self
    }

    /// Asserts a successful JSON answer with `status`.
    pub fn assert_json(&self, status: u16) -> &Value {
        assert_eq!(self.status, status, "status of {}", self.text);
        assert_eq!(
            self.media_type(),
            "application/json",
            "media type of {}",
            self.text
        );
        &self.json
    }
}
