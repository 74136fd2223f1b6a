use super::*;

/// A verifier that took the leaves of `count` events.
fn verified(count: u64) -> LogVerifier {
    let mut log = LogVerifier::new();
    for seq in 1..=count {
        log.push_leaf(seq, [u8::try_from(seq % 251).unwrap(); 32])
            .unwrap();
    }
    log
}

fn end(rows: u64, table_rows: u64) -> ScanEnd {
    ScanEnd { rows, table_rows }
}

#[test]
fn every_row_read_and_verified_is_complete() {
    assert!(check_complete(&verified(5), end(5, 5), 5).is_ok());
}

#[test]
fn a_row_the_scan_did_not_read_fails_verification() {
    let error = check_complete(&verified(5), end(5, 6), 5).unwrap_err();
    assert!(
        matches!(
            error,
            AuditCheckError::Incomplete {
                verified: 5,
                expected: 6
            }
        ),
        "{error:?}"
    );
}

#[test]
fn a_row_read_but_not_verified_fails_verification() {
    let error = check_complete(&verified(4), end(5, 5), 5).unwrap_err();
    assert!(
        matches!(
            error,
            AuditCheckError::Incomplete {
                verified: 4,
                expected: 5
            }
        ),
        "{error:?}"
    );
}

#[test]
fn fewer_events_than_the_log_held_before_the_scan_fail_verification() {
    let error = check_complete(&verified(3), end(3, 3), 5).unwrap_err();
    assert!(
        matches!(
            error,
            AuditCheckError::Incomplete {
                verified: 3,
                expected: 5
            }
        ),
        "{error:?}"
    );
}
