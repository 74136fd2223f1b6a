//! People of a test gateway: users with a known password and TOTP seed, and their sign-in.
//!
//! Users are written straight into the store (record and audit event in one
//! transaction), with a password hashed as the gateway hashes it; sign-in,
//! refresh and everything after go through the gateway's own HTTPS routes.
//! TOTP codes are computed from the gateway's clock, which a test moves
//! forward by one step before each code so that no code is a replay.

use chrono::Duration;
use rampart_audit::{NewEvent, Outcome};
use rampart_auth::TotpSecret;
use rampart_auth::password::hash_password;
use rampart_core::{AccountId, Role, RoleSet};
use rampart_store::{StoredUser, UserProfile};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

use crate::api::Answer;
use crate::gateway::TestGateway;
use crate::identity::OPERATOR;

/// The password every test user gets.
pub const PASSWORD: &str = "correct horse battery staple 42";

/// A user of the test gateway, with its secrets in clear.
pub struct TestUser {
    /// The subject id.
    pub id: String,
    /// The sign-in name.
    pub username: String,
    /// The password.
    pub password: String,
    /// The TOTP seed, when MFA is enrolled.
    pub totp: Option<TotpSecret>,
}

/// How a test user is set up.
#[derive(Debug, Clone, Copy)]
pub struct Setup {
    /// Whether TOTP is enrolled.
    pub mfa: bool,
    /// Whether the password must be changed first.
    pub must_change_password: bool,
}

impl Setup {
    /// A user ready to sign in fully: MFA enrolled, password already changed.
    pub const READY: Setup = Setup {
        mfa: true,
        must_change_password: false,
    };

    /// A user who has not enrolled MFA yet.
    pub const NO_MFA: Setup = Setup {
        mfa: false,
        must_change_password: false,
    };
}

impl TestGateway {
    /// Creates a user with `roles` on `accounts`, set up as `setup` says.
    pub async fn add_user(
        &self,
        roles: &[Role],
        accounts: &[&AccountId],
        setup: Setup,
    ) -> TestUser {
        let totp = setup
            .mfa
            .then(|| TotpSecret::generate().expect("a TOTP seed"));
        let suffix = uuid::Uuid::new_v4().simple().to_string();
        let username = format!("user-{}", suffix.get(..12).unwrap_or(&suffix));
        let hash = tokio::task::spawn_blocking(|| hash_password(&SecretString::from(PASSWORD)))
            .await
            .expect("the hashing task ends")
            .expect("the password hashes");
        let record = StoredUser {
            id: uuid::Uuid::now_v7().to_string(),
            username: username.clone(),
            password_hash: hash,
            roles: RoleSet::new(roles.iter().copied()).expect("roles that may be held together"),
            accounts: accounts.iter().map(|a| (*a).clone()).collect(),
            disabled: false,
            must_change_password: setup.must_change_password,
            mfa_secret: totp.as_ref().map(TotpSecret::to_base32),
            mfa_pending_secret: None,
            mfa_last_step: None,
            created_at: self.clock().now(),
        };
        let id = record.id.clone();
        let event = NewEvent::new(
            OPERATOR,
            "user.created",
            format!("user:{id}"),
            Outcome::Success,
            uuid::Uuid::now_v7().to_string(),
        );
        self.in_store(move |store| async move {
            let mut tx = store.begin().await?;
            tx.create_user(&record, &UserProfile::default()).await?;
            tx.append(event).await?;
            tx.commit().await
        })
        .await
        .expect("the user is stored");
        TestUser {
            id,
            username,
            password: PASSWORD.to_owned(),
            totp,
        }
    }

    /// A fresh TOTP code for `user`: the clock moves one step forward first.
    pub fn fresh_code(&self, user: &TestUser) -> String {
        self.clock().advance(Duration::seconds(30));
        let now = u64::try_from(self.clock().now_unix()).expect("a time after 1970");
        let totp = user.totp.as_ref().expect("the user has MFA");
        totp.code_at(now).expose_secret().to_owned()
    }

    /// Posts `body` to `POST /v1/auth/login`.
    pub async fn login_with(&self, body: &Value) -> Answer {
        self.api().post_json("/v1/auth/login", None, body).await
    }

    /// Signs `user` in with its password and a fresh TOTP code.
    pub async fn login_answer(&self, user: &TestUser) -> Answer {
        let body = match user.totp {
            Some(_) => json!({
                "username": user.username,
                "password": user.password,
                "totp_code": self.fresh_code(user),
            }),
            None => json!({ "username": user.username, "password": user.password }),
        };
        self.login_with(&body).await
    }

    /// Signs `user` in; fails the test unless tokens come back. Returns (access, refresh).
    pub async fn login(&self, user: &TestUser) -> (String, Option<String>) {
        let answer = self.login_answer(user).await;
        let body = answer.assert_json(200);
        let access = body["access_token"]
            .as_str()
            .expect("an access token")
            .to_owned();
        let refresh = body["refresh_token"].as_str().map(str::to_owned);
        (access, refresh)
    }

    /// Posts a form to `path` (such as `/oauth/token`) with no client authentication.
    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> Answer {
        let api = self.api();
        Answer::of(api.http().post(api.url(path)).form(form)).await
    }

    /// Exchanges a refresh token at `POST /oauth/token`.
    pub async fn refresh(&self, refresh_token: &str) -> Answer {
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ];
        self.post_form("/oauth/token", &form).await
    }
}

/// An API client that authenticates with `private_key_jwt`, and its private key.
pub struct KeyClient {
    /// The client id.
    pub id: String,
    /// The key it signs assertions with; its public JWK is registered.
    pub key: rampart_auth::SigningKey,
}

impl TestGateway {
    /// Registers a client with `roles` whose public JWK is stored, as `rampart client add --jwk`.
    pub async fn add_key_client(&self, roles: &[Role], accounts: &[&AccountId]) -> KeyClient {
        let client = self.add_client(roles, accounts).await;
        let key = rampart_auth::SigningKey::generate().expect("an Ed25519 key");
        let jwk = key.public_jwk();
        let id = client.id.clone();
        let now = self.clock().now();
        self.in_store(move |store| async move {
            let mut tx = store.begin().await?;
            tx.set_client_jwk(&id, &jwk, now).await?;
            tx.commit().await
        })
        .await
        .expect("the client key is stored");
        KeyClient { id: client.id, key }
    }

    /// A client assertion for `client`, with `aud`, signed by `key` (EdDSA).
    pub fn assertion(
        &self,
        client: &KeyClient,
        key: &rampart_auth::SigningKey,
        aud: &str,
    ) -> String {
        let now = self.clock().now_unix();
        let header = json!({ "alg": "EdDSA", "typ": "JWT", "kid": key.kid() });
        let claims = json!({
            "iss": client.id, "sub": client.id, "aud": aud,
            "jti": uuid::Uuid::new_v4().to_string(), "iat": now, "exp": now + 120,
        });
        sign_eddsa(&header, &claims, key.expose_pkcs8_der())
    }

    /// Asks `POST /oauth/token` for a token with a client assertion.
    pub async fn assertion_token(&self, client_id: &str, assertion: &str) -> Answer {
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", assertion),
        ];
        self.post_form("/oauth/token", &form).await
    }
}

/// A compact JWT of `header` and `claims`, signed with the Ed25519 key in `pkcs8`.
pub fn sign_eddsa(header: &Value, claims: &Value, pkcs8: &[u8]) -> String {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let encode = |value: &Value| URL_SAFE_NO_PAD.encode(value.to_string());
    let input = format!("{}.{}", encode(header), encode(claims));
    let pair = ring::signature::Ed25519KeyPair::from_pkcs8_maybe_unchecked(pkcs8)
        .expect("an Ed25519 PKCS#8 key");
    let signature = pair.sign(input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.as_ref()))
}
