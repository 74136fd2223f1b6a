//! Starting the outside programs the tests talk to (the OIDC provider, the SMTP server):
//! a free loopback port, and waiting until the program says it is ready.
//!
//! Rule upheld: a missing program fails the test with a message naming its install step;
//! it never skips the test or hangs it.

use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Child;

/// How long a program may take to print `ready`: a guard against a hang, not a
/// measure. Loading the OIDC provider's modules has taken over 30 s on a two-core
/// machine running the whole suite.
const READY_TIMEOUT: Duration = Duration::from_secs(180);

/// A loopback port that is free now.
pub(crate) fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
    listener.local_addr().expect("its address").port()
}

/// Waits until `child` prints the line `ready`, then keeps draining its output; fails
/// with `not_started` when it does not within the timeout.
pub(crate) async fn wait_ready(child: &mut Child, not_started: &str) {
    let stdout = child.stdout.take().expect("the program's output");
    let mut lines = BufReader::new(stdout).lines();
    let ready = tokio::time::timeout(READY_TIMEOUT, async {
        while let Ok(Some(line)) = lines.next_line().await {
            if line.trim() == "ready" {
                return true;
            }
        }
        false
    })
    .await;
    assert!(matches!(ready, Ok(true)), "{not_started}");
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
}
