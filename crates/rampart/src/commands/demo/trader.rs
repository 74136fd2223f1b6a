//! One algorithm at work: it sends its orders over HTTPS and keeps score.
//!
//! Every order is printed as it is answered, with what the gateway said: the
//! fill, the resting order, or the control code of a rejection. The tally is
//! what the summary table is made of; final statuses (fills of resting
//! orders, cancellations) are read back from the gateway at the end.

use std::collections::BTreeMap;
use std::ops::Range;
use std::time::Duration;

use chrono::TimeDelta;
use secrecy::SecretString;

use super::algos::{Intent, Market, Purpose};
use crate::api::{Api, ApiError, OrderView, Placement};

/// Produces the `step`-th order at replay position `now`.
pub type Strategy = fn(&Market, TimeDelta, usize) -> Option<Intent>;

/// An algorithm with its market, strategy and access token.
pub struct Algo {
    /// The name shown in the output.
    pub name: &'static str,
    /// What it trades.
    pub market: Market,
    /// How it decides.
    pub strategy: Strategy,
    /// Its bearer token.
    pub token: SecretString,
}

/// What one algorithm saw.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    /// Orders sent.
    pub sent: u32,
    /// Orders rejected by a control, by code.
    pub rejected: BTreeMap<String, u32>,
    /// Requests refused before the controls, by status and code.
    pub refused: BTreeMap<String, u32>,
    /// Orders filled, from the final statuses.
    pub filled: u32,
    /// Orders cancelled, from the final statuses.
    pub cancelled: u32,
    /// Orders still open at the end.
    pub open: u32,
    /// Deliberate breaches that got through (should stay empty).
    pub missed: BTreeMap<&'static str, u32>,
}

impl Tally {
    /// Rejections with `code`.
    pub fn rejected_with(&self, code: &str) -> u32 {
        self.rejected.get(code).copied().unwrap_or(0)
    }
}

impl Algo {
    /// Sends the orders of `steps`, one every `pace`, and records what happened.
    pub async fn trade(
        &self,
        api: &Api,
        steps: Range<usize>,
        pace: Duration,
        tally: &mut Tally,
    ) -> Result<(), ApiError> {
        for step in steps {
            let now = self.market.tape.position();
            let Some(intent) = (self.strategy)(&self.market, now, step) else {
                continue;
            };
            let placement = api.place(&self.token, &intent.request).await?;
            self.record(&intent, &placement, tally);
            tokio::time::sleep(pace).await;
        }
        Ok(())
    }

    /// Cancels every order still open; returns how many were cancelled.
    pub async fn cancel_open(&self, api: &Api) -> Result<u32, ApiError> {
        let account = self.market.account.as_str();
        let mut cancelled = 0;
        for order in api
            .orders(&self.token, account)
            .await?
            .iter()
            .filter(|o| o.status == "open")
        {
            if api.cancel(&self.token, &order.id).await? {
                cancelled += 1;
            }
        }
        Ok(cancelled)
    }

    /// Reads the final status of every order of the account into the tally.
    pub async fn settle(&self, api: &Api, tally: &mut Tally) -> Result<(), ApiError> {
        let orders = api
            .orders(&self.token, self.market.account.as_str())
            .await?;
        let count = |status: &str| orders.iter().filter(|o| o.status == status).count() as u32;
        tally.filled = count("filled");
        tally.cancelled = count("cancelled");
        tally.open = count("open");
        Ok(())
    }

    fn record(&self, intent: &Intent, placement: &Placement, tally: &mut Tally) {
        tally.count(intent.purpose, placement);
        let order = self.describe(intent);
        match placement {
            Placement::Accepted(view) => println!("  ✓ {order} {}", accepted_text(view)),
            Placement::Rejected(problem) => {
                println!("  ✗ {order} REJECTED {}: {}", problem.code, problem.detail);
            }
            Placement::Refused(status, problem) => {
                println!(
                    "  ! {order} refused {status}: {} {}",
                    problem.code, problem.detail
                );
            }
        }
    }

    fn describe(&self, intent: &Intent) -> String {
        let request = &intent.request;
        let price = request.limit_price.as_deref().unwrap_or("market");
        let (side, quantity) = (request.side.as_str(), &request.quantity);
        let (instrument, purpose) = (&request.instrument, intent.purpose.label());
        format!(
            "{:<14} {side:<4} {quantity:>9} {instrument} @ {price:<12} [{purpose}]",
            self.name
        )
    }
}

impl Tally {
    fn count(&mut self, purpose: Purpose, placement: &Placement) {
        self.sent += 1;
        let deliberate = matches!(purpose, Purpose::FatFinger | Purpose::Oversized);
        match placement {
            Placement::Accepted(_) if deliberate => {
                *self.missed.entry(purpose.label()).or_default() += 1;
            }
            Placement::Accepted(_) => {}
            Placement::Rejected(problem) => {
                *self.rejected.entry(problem.code.clone()).or_default() += 1;
            }
            Placement::Refused(status, problem) => {
                let key = format!("{} {}", status.as_u16(), problem.code);
                *self.refused.entry(key).or_default() += 1;
            }
        }
    }
}

fn accepted_text(view: &OrderView) -> String {
    match (view.status.as_str(), &view.average_fill_price) {
        ("filled", Some(price)) => format!("filled at {price}"),
        (status, _) => status.to_owned(),
    }
}
