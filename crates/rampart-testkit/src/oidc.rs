//! A real OpenID Connect provider (npm `oidc-provider`) on a free loopback port, over HTTPS.
//!
//! [`OidcProvider::start`] runs `oidc/provider.mjs` with `node`, serving a
//! certificate from a CA made for it (hand [`OidcProvider::ca_file`] to the
//! gateway: verification stays on). It issues client_credentials access
//! tokens as JWTs for the resource indicator asked for, carrying the `groups`
//! and the extra claims it was started with; by default `amr` = `["pwd",
//! "otp"]`, as a person signed in with a second factor. When Node.js or the
//! package is missing, the test fails, naming the install step.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rampart_server::devcert::{self, DevCertPaths};
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::process::{Child, Command};

use crate::api::{Answer, Api};
use crate::service::{free_port, wait_ready};

/// What a test says when the program is missing or does not start.
const NOT_STARTED: &str =
    "the OIDC provider did not start; is `.ci/services/oidc-provider.sh` installed?";

/// Where `.ci/services/oidc-provider.sh` installs the package.
pub const DEFAULT_DIR: &str = "/root/.cache/rampart-tools/oidc-provider";

/// The client the provider knows.
const CLIENT_ID: &str = "rampart-test-client";

/// Its secret (a test value on a loopback-only provider).
const CLIENT_SECRET: &str = "loopback-test-secret-not-used-elsewhere";

/// A running provider; stopped when dropped.
pub struct OidcProvider {
    child: Child,
    issuer: String,
    ca_file: PathBuf,
    signing_key: Vec<u8>,
    api: Api,
    _dir: TempDir,
}

impl OidcProvider {
    /// Starts a provider whose tokens carry `groups` as their `groups` claim, and MFA.
    pub async fn start(groups: &[&str]) -> OidcProvider {
        Self::start_with(groups, &json!({ "amr": ["pwd", "otp"] })).await
    }

    /// Starts a provider whose tokens carry `groups` and the members of `extra`
    /// (such as `amr`, `acr`, `email`), and nothing about MFA unless `extra` says it.
    pub async fn start_with(groups: &[&str], extra: &Value) -> OidcProvider {
        let module_dir = std::env::var("RAMPART_OIDC_PROVIDER_DIR").unwrap_or(DEFAULT_DIR.into());
        let installed = Path::new(&module_dir).join("node_modules/oidc-provider/package.json");
        assert!(
            installed.is_file(),
            "the npm package `oidc-provider` is not installed in `{module_dir}`: \
             run `.ci/services/oidc-provider.sh`"
        );
        let dir = tempfile::tempdir().expect("a temporary directory");
        let tls = DevCertPaths::in_dir(dir.path());
        devcert::ensure(&tls).expect("a certificate for the provider");
        let port = free_port();
        let key_out = dir.path().join("signing-key.p8");

        let mut child = Command::new("node")
            .arg(script())
            .env("OIDC_PROVIDER_DIR", &module_dir)
            .env("OIDC_PORT", port.to_string())
            .env("OIDC_CERT", &tls.server_cert)
            .env("OIDC_KEY", &tls.server_key)
            .env("OIDC_KEY_OUT", &key_out)
            .env("OIDC_CLIENT_ID", CLIENT_ID)
            .env("OIDC_CLIENT_SECRET", CLIENT_SECRET)
            .env("OIDC_GROUPS", groups.join(","))
            .env("OIDC_EXTRA_CLAIMS", extra.to_string())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|error| {
                panic!("`node` cannot be started ({error}): run `.ci/services/oidc-provider.sh`")
            });
        wait_ready(&mut child, NOT_STARTED).await;

        let issuer = format!("https://127.0.0.1:{port}");
        let ca_pem = std::fs::read(&tls.ca_cert).expect("the provider's CA file");
        OidcProvider {
            child,
            api: Api::new(&issuer, &ca_pem),
            issuer,
            ca_file: tls.ca_cert.clone(),
            signing_key: std::fs::read(&key_out).expect("the provider's signing key"),
            _dir: dir,
        }
    }

    /// The issuer URL, such as `https://127.0.0.1:40123`.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The CA certificate the provider's TLS certificate chains to.
    pub fn ca_file(&self) -> &Path {
        &self.ca_file
    }

    /// Asks the provider for an access token for `resource` (client credentials).
    pub async fn token_answer(&self, resource: &str) -> Answer {
        let request = self
            .api
            .http()
            .post(self.api.url("/token"))
            .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
            .form(&[
                ("grant_type", "client_credentials"),
                ("resource", resource),
                ("scope", "api:read"),
            ]);
        Answer::of(request).await
    }

    /// An access token for `resource`; fails the test unless the provider issues one.
    pub async fn token(&self, resource: &str) -> String {
        let answer = self.token_answer(resource).await;
        assert_eq!(answer.status, 200, "the provider refused: {}", answer.text);
        answer
            .member("access_token")
            .expect("an access token")
            .to_owned()
    }

    /// A token with `claims`, signed with the provider's own key (ES256, its `kid`).
    pub fn forge(&self, claims: &Value) -> String {
        let header = json!({ "alg": "ES256", "typ": "at+jwt", "kid": "test-es256" });
        let encode = |value: &Value| URL_SAFE_NO_PAD.encode(value.to_string());
        let input = format!("{}.{}", encode(&header), encode(claims));
        let rng = SystemRandom::new();
        let pair =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &self.signing_key, &rng)
                .expect("the provider's P-256 key");
        let signature = pair.sign(&rng, input.as_bytes()).expect("a signature");
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.as_ref()))
    }
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("oidc/provider.mjs")
}
