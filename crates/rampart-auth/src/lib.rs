//! Client secrets and access tokens for the Rampart gateway.
