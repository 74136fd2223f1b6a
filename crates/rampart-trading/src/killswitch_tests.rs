//! Tests of the kill switch: engaging, releasing, scopes and sharing across threads.

use chrono::TimeZone;
use rampart_core::AccountId;

use super::*;

fn account(id: &str) -> AccountId {
    id.parse().unwrap()
}

/// The engagement that stops an order of a client on `id`, if any.
fn blocks(switch: &KillSwitch, id: &str) -> Option<Engagement> {
    let account = account(id);
    let instrument = "BTC-USD".parse().unwrap();
    switch.blocking(&OrderContext {
        account: &account,
        instrument: &instrument,
        placed_by: "algo-1",
        kind: rampart_core::PlacedByKind::Client,
    })
}

fn at(minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 5, 9, minute, 0).unwrap()
}

fn engage(switch: &KillSwitch, scope: KillSwitchScope, minute: u32) -> Engagement {
    switch
        .engage(scope, "runaway algorithm", "risk-1", at(minute))
        .unwrap()
}

#[test]
fn nothing_blocks_an_account_before_an_engagement() {
    assert_eq!(blocks(&KillSwitch::new(), "ACC-1"), None);
}

#[test]
fn a_global_engagement_blocks_every_account() {
    let switch = KillSwitch::new();
    let engagement = engage(&switch, KillSwitchScope::Global, 0);
    assert_eq!(blocks(&switch, "ACC-1"), Some(engagement.clone()));
    assert_eq!(blocks(&switch, "ACC-2"), Some(engagement));
}

#[test]
fn an_account_engagement_blocks_only_that_account() {
    let switch = KillSwitch::new();
    let engagement = engage(&switch, KillSwitchScope::Account(account("ACC-1")), 0);
    assert_eq!(blocks(&switch, "ACC-1"), Some(engagement));
    assert_eq!(blocks(&switch, "ACC-2"), None);
}

#[test]
fn an_engagement_records_who_why_and_when() {
    let switch = KillSwitch::new();
    let engagement = engage(&switch, KillSwitchScope::Global, 7);
    assert_eq!(engagement.reason, "runaway algorithm");
    assert_eq!(engagement.engaged_by, "risk-1");
    assert_eq!(engagement.engaged_at, at(7));
    assert_eq!(switch.engaged(), vec![engagement]);
}

#[test]
fn engaging_an_engaged_scope_is_refused_with_the_existing_id() {
    let switch = KillSwitch::new();
    let first = engage(&switch, KillSwitchScope::Global, 0);
    let again = switch.engage(KillSwitchScope::Global, "again", "risk-2", at(1));
    assert_eq!(again, Err(KillSwitchError::AlreadyEngaged(first.id)));
    assert_eq!(switch.engaged().len(), 1);
}

#[test]
fn releasing_by_id_lifts_the_block() {
    let switch = KillSwitch::new();
    let engagement = engage(&switch, KillSwitchScope::Global, 0);
    assert_eq!(switch.release(engagement.id), Ok(engagement));
    assert_eq!(blocks(&switch, "ACC-1"), None);
    assert!(switch.engaged().is_empty());
}

#[test]
fn releasing_by_scope_leaves_other_scopes_engaged() {
    let switch = KillSwitch::new();
    let global = engage(&switch, KillSwitchScope::Global, 0);
    let scope = KillSwitchScope::Account(account("ACC-1"));
    let single = engage(&switch, scope.clone(), 1);
    assert_eq!(switch.release_scope(&KillSwitchScope::Global), Ok(global));
    assert_eq!(blocks(&switch, "ACC-1"), Some(single));
    assert_eq!(blocks(&switch, "ACC-2"), None);
}

#[test]
fn releasing_what_is_not_engaged_is_an_error() {
    let switch = KillSwitch::new();
    assert_eq!(
        switch.release(EngagementId::generate()),
        Err(KillSwitchError::NotEngaged)
    );
    let released = switch.release_scope(&KillSwitchScope::Global);
    assert_eq!(released, Err(KillSwitchError::NotEngaged));
}

#[test]
fn clones_share_the_same_engagements() {
    let switch = KillSwitch::new();
    let other = switch.clone();
    let engagement = engage(&switch, KillSwitchScope::Global, 0);
    assert_eq!(blocks(&other, "ACC-9"), Some(engagement));
}

#[test]
fn engagements_are_visible_across_threads() {
    let switch = KillSwitch::new();
    let worker = switch.clone();
    std::thread::spawn(move || engage(&worker, KillSwitchScope::Global, 0))
        .join()
        .unwrap();
    assert!(blocks(&switch, "ACC-1").is_some());
}

#[test]
fn the_oldest_covering_engagement_is_reported() {
    let single = KillSwitchScope::Account(account("ACC-1"));
    let restored = KillSwitch::with_engagements([
        Engagement {
            engaged_at: at(5),
            ..engage(&KillSwitch::new(), KillSwitchScope::Global, 5)
        },
        Engagement {
            engaged_at: at(1),
            ..engage(&KillSwitch::new(), single.clone(), 1)
        },
    ]);
    assert_eq!(blocks(&restored, "ACC-1").unwrap().scope, single);
    assert_eq!(restored.engaged().len(), 2);
}

#[test]
fn empty_long_or_control_character_reasons_are_refused() {
    let switch = KillSwitch::new();
    let long = "x".repeat(MAX_REASON_LEN + 1);
    for reason in ["", "   ", "line\nbreak", long.as_str()] {
        let result = switch.engage(KillSwitchScope::Global, reason, "risk-1", at(0));
        assert_eq!(result, Err(KillSwitchError::InvalidReason));
    }
    assert!(switch.engaged().is_empty());
}

#[test]
fn bidi_controls_in_a_reason_are_refused_so_the_listing_cannot_be_spoofed() {
    let switch = KillSwitch::new();
    let hidden = [
        '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}',
        '\u{2068}', '\u{2069}', '\u{200E}', '\u{200F}', '\u{061C}',
    ];
    for c in hidden {
        let reason = format!("released by risk {c}1-ksir");
        let result = switch.engage(KillSwitchScope::Global, &reason, "risk-1", at(0));
        assert_eq!(
            result,
            Err(KillSwitchError::InvalidReason),
            "U+{:04X}",
            c as u32
        );
    }
    assert!(switch.engaged().is_empty());
}

#[test]
fn format_and_control_characters_in_a_reason_are_refused() {
    let hidden = [
        '\u{0000}',
        '\u{001B}',
        '\u{007F}',
        '\u{0085}',
        '\u{009B}',
        '\u{00AD}',
        '\u{0600}',
        '\u{180E}',
        '\u{200B}',
        '\u{200D}',
        '\u{2028}',
        '\u{2029}',
        '\u{2060}',
        '\u{2064}',
        '\u{206F}',
        '\u{FEFF}',
        '\u{FFFB}',
        '\u{110BD}',
        '\u{1343F}',
        '\u{1D173}',
        '\u{E0001}',
        '\u{E0041}',
        '\u{E007F}',
    ];
    for c in hidden {
        let reason = format!("halt{c}now");
        assert_eq!(
            check_reason(&reason),
            Err(KillSwitchError::InvalidReason),
            "U+{:04X}",
            c as u32
        );
    }
}

#[test]
fn visible_non_ascii_reasons_are_accepted() {
    for reason in [
        "Störung im Handel",
        "取引停止",
        "سبب",
        "runaway algo — halt",
    ] {
        assert_eq!(check_reason(reason), Ok(()), "{reason}");
    }
}

#[test]
fn scopes_round_trip_through_their_text_form() {
    for scope in [
        KillSwitchScope::Global,
        KillSwitchScope::Account(account("ACC:1")),
    ] {
        assert_eq!(
            scope.to_string().parse::<KillSwitchScope>(),
            Ok(scope.clone())
        );
        let json = serde_json::to_string(&scope).unwrap();
        assert_eq!(
            serde_json::from_str::<KillSwitchScope>(&json).unwrap(),
            scope
        );
    }
    assert_eq!(
        KillSwitchScope::Account(account("ACC-1")).to_string(),
        "account:ACC-1"
    );
}

#[test]
fn malformed_scopes_are_refused() {
    for text in [
        "",
        "Global",
        "account",
        "account:",
        "account:a b",
        "desk:ACC-1",
    ] {
        assert_eq!(
            text.parse::<KillSwitchScope>(),
            Err(rampart_core::KillSwitchScopeError::Invalid)
        );
    }
}
