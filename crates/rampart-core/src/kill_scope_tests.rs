//! Tests of kill switch scopes: what each one covers, and its written form.

use super::*;

struct Facts {
    account: AccountId,
    instrument: InstrumentId,
    placed_by: String,
    kind: PlacedByKind,
}

impl Facts {
    fn new(account: &str, instrument: &str, placed_by: &str, kind: PlacedByKind) -> Self {
        Self {
            account: account.parse().unwrap(),
            instrument: instrument.parse().unwrap(),
            placed_by: placed_by.to_owned(),
            kind,
        }
    }

    fn context(&self) -> OrderContext<'_> {
        OrderContext {
            account: &self.account,
            instrument: &self.instrument,
            placed_by: &self.placed_by,
            kind: self.kind,
        }
    }
}

fn scope(text: &str) -> KillSwitchScope {
    text.parse().unwrap()
}

fn by_client() -> Facts {
    Facts::new("ACC-1", "BTC-USD", "algo-1", PlacedByKind::Client)
}

fn by_person() -> Facts {
    Facts::new("ACC-2", "USD-JPY", "u-7", PlacedByKind::User)
}

#[test]
fn the_global_scope_covers_every_order() {
    assert!(scope("global").covers(&by_client().context()));
    assert!(scope("global").covers(&by_person().context()));
}

#[test]
fn an_account_scope_covers_only_orders_on_that_account() {
    assert!(scope("account:ACC-1").covers(&by_client().context()));
    assert!(!scope("account:ACC-1").covers(&by_person().context()));
}

#[test]
fn an_instrument_scope_covers_only_orders_in_that_instrument() {
    assert!(scope("instrument:USD-JPY").covers(&by_person().context()));
    assert!(!scope("instrument:USD-JPY").covers(&by_client().context()));
}

#[test]
fn a_client_scope_covers_only_orders_that_client_placed() {
    assert!(scope("client:algo-1").covers(&by_client().context()));
    assert!(!scope("client:algo-2").covers(&by_client().context()));
    assert!(!scope("client:u-7").covers(&by_person().context()));
}

#[test]
fn a_trader_scope_covers_only_orders_that_person_placed() {
    assert!(scope("trader:u-7").covers(&by_person().context()));
    assert!(!scope("trader:algo-1").covers(&by_client().context()));
    assert!(!scope("trader:u-8").covers(&by_person().context()));
}

#[test]
fn every_scope_round_trips_through_its_written_form() {
    for text in [
        "global",
        "account:ACC-1",
        "instrument:BTC-USD",
        "client:algo-1",
        "trader:0190c2a4-7d1e-7000-8000-000000000001",
    ] {
        assert_eq!(scope(text).to_string(), text);
        let json = serde_json::to_string(&scope(text)).unwrap();
        assert_eq!(
            serde_json::from_str::<KillSwitchScope>(&json).unwrap(),
            scope(text)
        );
    }
}

#[test]
fn malformed_scopes_are_refused() {
    let long = format!("client:{}", "x".repeat(MAX_PRINCIPAL_ID_LEN + 1));
    for text in [
        "",
        "global:x",
        "account",
        "account:",
        "desk:rates",
        "client:",
        "client:a b",
        "trader:\u{202E}x",
        long.as_str(),
    ] {
        assert_eq!(
            text.parse::<KillSwitchScope>(),
            Err(KillSwitchScopeError::Invalid),
            "{text:?}"
        );
    }
}

#[test]
fn the_parts_of_a_scope_name_its_kind_and_target() {
    let instrument = scope("instrument:BTC-USD");
    assert_eq!(instrument.kind(), "instrument");
    assert_eq!(instrument.target(), Some("BTC-USD"));
    assert_eq!(instrument.account(), None);
    assert_eq!(scope("global").target(), None);
}

#[test]
fn every_scope_round_trips_through_its_stored_kind_and_target() {
    for text in [
        "global",
        "account:ACC-1",
        "instrument:BTC-USD",
        "client:c",
        "trader:u",
    ] {
        let original = scope(text);
        let back = KillSwitchScope::from_parts(original.kind(), original.target());
        assert_eq!(back, Ok(original));
    }
}

#[test]
fn malformed_stored_parts_do_not_decode() {
    for (kind, target) in [
        ("global", Some("x")),
        ("account", None),
        ("client", Some("")),
        ("desk", Some("x")),
    ] {
        assert_eq!(
            KillSwitchScope::from_parts(kind, target),
            Err(KillSwitchScopeError::Invalid),
            "{kind} {target:?}"
        );
    }
}
