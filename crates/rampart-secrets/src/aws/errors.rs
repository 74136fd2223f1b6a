//! The mapping of AWS SDK errors to store errors.
//!
//! Rule upheld: an error names the secret and AWS's error code only, never a credential,
//! a request or a value.

use aws_sdk_secretsmanager::error::{ProvideErrorMetadata, SdkError};

use super::BACKEND;
use crate::store::SecretError;

/// Maps an SDK error to a store error naming the secret and AWS's error code only.
pub(super) fn sdk_error<E, R>(name: &str, error: SdkError<E, R>) -> SecretError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let code = error.code().unwrap_or_default().to_owned();
    match code.as_str() {
        "ResourceNotFoundException" => SecretError::NotFound(name.to_owned()),
        "AccessDeniedException"
        | "UnrecognizedClientException"
        | "InvalidSignatureException"
        | "ExpiredTokenException" => SecretError::Denied {
            backend: BACKEND,
            detail: code,
        },
        "" => SecretError::Unavailable {
            backend: BACKEND,
            detail: transport_detail(&error),
        },
        _ => SecretError::Unavailable {
            backend: BACKEND,
            detail: format!("AWS answered `{code}`"),
        },
    }
}

fn transport_detail<E, R>(error: &SdkError<E, R>) -> String {
    match error {
        SdkError::TimeoutError(_) => "request timed out".into(),
        SdkError::DispatchFailure(_) => "connection failed".into(),
        SdkError::ConstructionFailure(_) => "request could not be built (credentials?)".into(),
        _ => "unexpected answer".into(),
    }
}
