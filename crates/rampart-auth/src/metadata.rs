//! Authorization-server metadata (RFC 8414) for the gateway's own issuer.
//!
//! The document advertises only what the gateway implements: the
//! `client_credentials` grant with a client secret sent by HTTP Basic or in
//! the form body, and EdDSA-signed tokens whose keys are in the JWKS.

use serde_json::{Value, json};

/// The path of the token endpoint under the issuer.
pub const TOKEN_PATH: &str = "/oauth/token";

/// The path of the JWKS document under the issuer.
pub const JWKS_PATH: &str = "/.well-known/jwks.json";

/// The RFC 8414 metadata document for `issuer` (an `https` URL without query or fragment).
pub fn authorization_server_metadata(issuer: &str) -> Value {
    let base = issuer.trim_end_matches('/');
    json!({
        "issuer": issuer,
        "token_endpoint": format!("{base}{TOKEN_PATH}"),
        "jwks_uri": format!("{base}{JWKS_PATH}"),
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "response_types_supported": [],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_names_the_issuer_and_its_endpoints() {
        let document = authorization_server_metadata("https://127.0.0.1:8443");
        assert_eq!(document["issuer"], "https://127.0.0.1:8443");
        assert_eq!(
            document["token_endpoint"],
            "https://127.0.0.1:8443/oauth/token"
        );
        assert_eq!(
            document["jwks_uri"],
            "https://127.0.0.1:8443/.well-known/jwks.json"
        );
        assert_eq!(
            document["grant_types_supported"],
            json!(["client_credentials"])
        );
        assert_eq!(
            document["token_endpoint_auth_methods_supported"],
            json!(["client_secret_basic", "client_secret_post"])
        );
        assert_eq!(document["response_types_supported"], json!([]));
    }

    #[test]
    fn metadata_keeps_the_issuer_exact_and_joins_paths_without_double_slash() {
        let document = authorization_server_metadata("https://gw.example/");
        assert_eq!(document["issuer"], "https://gw.example/");
        assert_eq!(document["token_endpoint"], "https://gw.example/oauth/token");
    }
}
