//! The `rampart` command line.

fn main() {}
