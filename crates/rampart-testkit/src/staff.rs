//! Signed-in people of a test gateway, and API clients answerable to them.
//!
//! Four-eyes decisions and proposals are for people, so a test that proposes
//! or approves does it as a person signed in through `POST /v1/auth/login`
//! with password and TOTP, never through an API client.

use rampart_core::{AccountId, Role};

use crate::gateway::TestGateway;
use crate::identity::ApiClient;
use crate::people::{Setup, TestUser};

/// A person of the test gateway and an access token of theirs.
pub struct Person {
    /// The user, with its password and TOTP seed.
    pub user: TestUser,
    /// An access token from their sign-in.
    pub token: String,
}

impl Person {
    /// The person's subject id.
    pub fn id(&self) -> &str {
        &self.user.id
    }
}

impl TestGateway {
    /// A person with `roles` on `accounts`, signed in with password and TOTP.
    pub async fn person(&self, roles: &[Role], accounts: &[&AccountId]) -> Person {
        let user = self.add_user(roles, accounts, Setup::READY).await;
        let (token, _) = self.login(&user).await;
        Person { user, token }
    }

    /// A fresh access token for `person`, after the clock has moved past the last one.
    pub async fn sign_in_again(&self, person: &Person) -> String {
        self.login(&person.user).await.0
    }

    /// Registers a client with `roles` on `accounts` owned by the person `owner`.
    pub async fn add_owned_client(
        &self,
        roles: &[Role],
        accounts: &[&AccountId],
        owner: &str,
    ) -> ApiClient {
        let client = self.add_client(roles, accounts).await;
        let (id, owner) = (client.id.clone(), owner.to_owned());
        self.in_store(move |store| async move {
            let mut tx = store.begin().await?;
            assert!(
                tx.set_client_owner(&id, &owner).await?,
                "client `{id}` exists"
            );
            tx.commit().await
        })
        .await
        .expect("the client owner is stored");
        client
    }
}
