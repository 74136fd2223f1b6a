//! The HTTPS application of the Rampart gateway.
