//! Pre-trade controls, kill switch and the paper broker of the Rampart gateway.
