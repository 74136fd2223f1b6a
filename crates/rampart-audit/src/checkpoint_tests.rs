use chrono::TimeZone;

use super::*;

fn signer() -> CheckpointSigner {
    CheckpointSigner::generate("rampart-audit").unwrap()
}

fn sample() -> Checkpoint {
    let time = Utc.timestamp_opt(1_767_323_045, 123_456_789).unwrap();
    Checkpoint::new("rampart.test/audit", 1024, [7; 32], time)
}

/// Replaces the `n`th line (0-based) of `text` with `line`.
fn with_line(text: &str, n: usize, line: &str) -> String {
    let mut lines: Vec<&str> = text.split('\n').collect();
    lines[n] = line;
    lines.join("\n")
}

#[test]
fn signed_checkpoint_verifies_and_reads_back_what_was_signed() {
    let signer = signer();
    let signed = signer.sign(&sample()).unwrap();
    assert_eq!(signer.verifier().verify(&signed.text).unwrap(), sample());
    assert_eq!(signed.checkpoint, sample());
}

#[test]
fn text_has_the_signed_note_layout() {
    let signer = signer();
    let text = signer.sign(&sample()).unwrap().text;
    let lines: Vec<&str> = text.split('\n').collect();
    assert_eq!(lines[0], "rampart.test/audit");
    assert_eq!(lines[1], "1024");
    assert_eq!(lines[2], STANDARD.encode([7u8; 32]));
    assert_eq!(lines[3], "2026-01-02T03:04:05.123456Z");
    assert_eq!(lines[4], "");
    assert!(lines[5].starts_with("\u{2014} rampart-audit "));
    assert_eq!(lines[6], "");
    assert_eq!(lines.len(), 7);
    let blob = STANDARD
        .decode(lines[5].rsplit(' ').next().unwrap())
        .unwrap();
    assert_eq!(blob[..4], signer.key_id());
}

#[test]
fn key_id_follows_the_signed_note_rule() {
    let signer = signer();
    let mut input = b"rampart-audit\n\x01".to_vec();
    input.extend_from_slice(&signer.public_key());
    let digest = Sha256::digest(&input);
    assert_eq!(signer.key_id(), digest[..4]);
}

#[test]
fn tampered_size_is_refused() {
    let signer = signer();
    let text = signer.sign(&sample()).unwrap().text;
    let changed = with_line(&text, 1, "1025");
    assert_eq!(
        signer.verifier().verify(&changed),
        Err(CheckpointError::BadSignature {
            name: "rampart-audit".into()
        })
    );
}

#[test]
fn tampered_root_is_refused() {
    let signer = signer();
    let text = signer.sign(&sample()).unwrap().text;
    let changed = with_line(&text, 2, &STANDARD.encode([8u8; 32]));
    assert!(matches!(
        signer.verifier().verify(&changed),
        Err(CheckpointError::BadSignature { .. })
    ));
}

#[test]
fn tampered_time_is_refused() {
    let signer = signer();
    let text = signer.sign(&sample()).unwrap().text;
    let changed = with_line(&text, 3, "2026-01-02T03:04:05.123457Z");
    assert!(matches!(
        signer.verifier().verify(&changed),
        Err(CheckpointError::BadSignature { .. })
    ));
}

#[test]
fn tampered_signature_is_refused() {
    let signer = signer();
    let text = signer.sign(&sample()).unwrap().text;
    let line = text.split('\n').nth(5).unwrap();
    let (head, encoded) = line.rsplit_once(' ').unwrap();
    let mut blob = STANDARD.decode(encoded).unwrap();
    blob[10] ^= 1;
    let changed = with_line(&text, 5, &format!("{head} {}", STANDARD.encode(blob)));
    assert!(matches!(
        signer.verifier().verify(&changed),
        Err(CheckpointError::BadSignature { .. })
    ));
}

#[test]
fn checkpoint_signed_by_another_key_is_refused() {
    let text = signer().sign(&sample()).unwrap().text;
    assert_eq!(
        signer().verifier().verify(&text),
        Err(CheckpointError::UnsignedByKey {
            name: "rampart-audit".into()
        })
    );
}

#[test]
fn cosignature_by_an_unknown_key_is_allowed() {
    let ours = signer();
    let other = CheckpointSigner::generate("witness").unwrap();
    let text = ours.sign(&sample()).unwrap().text;
    let theirs = other.sign(&sample()).unwrap().text;
    let cosigned = format!("{text}{}", theirs.lines().nth(5).unwrap()) + "\n";
    assert_eq!(ours.verifier().verify(&cosigned).unwrap(), sample());
    assert_eq!(other.verifier().verify(&cosigned).unwrap(), sample());
}

#[test]
fn trailing_bytes_and_missing_lines_are_refused() {
    let signer = signer();
    let verifier = signer.verifier();
    let text = signer.sign(&sample()).unwrap().text;
    let cases = [
        format!("{text}x"),
        format!("{text}\n"),
        text.trim_end_matches('\n').to_owned(),
        text.replacen("\n\n", "\n", 1),
        text.replacen("\n\n", "\n\n\n", 1),
        text.replacen("1024\n", "", 1),
        text.replacen("1024\n", "1024\nextra\n", 1),
        text.replacen("\u{2014}", "-", 1),
    ];
    for case in cases {
        assert!(
            matches!(
                verifier.verify(&case),
                Err(CheckpointError::Malformed { .. })
            ),
            "accepted {case:?}"
        );
    }
}

#[test]
fn other_spellings_of_the_same_values_are_refused() {
    let signer = signer();
    let text = signer.sign(&sample()).unwrap().text;
    let root = STANDARD.encode([7u8; 32]);
    let cases = [
        (1, "01024".to_owned()),
        (1, "+1024".to_owned()),
        (1, " 1024".to_owned()),
        (2, root.trim_end_matches('=').to_owned()),
        (3, "2026-01-02T03:04:05.123456+00:00".to_owned()),
        (0, String::new()),
    ];
    for (line, spelling) in cases {
        let changed = with_line(&text, line, &spelling);
        assert!(
            matches!(
                Checkpoint::read_unverified(&changed),
                Err(CheckpointError::Malformed { line: l, .. }) if l == line + 1
            ),
            "accepted {spelling:?} on line {}",
            line + 1
        );
    }
}

#[test]
fn verifier_key_round_trips_and_checks_its_key_id() {
    // Keys whose base64 holds `+` must read back too: try several.
    for _ in 0..32 {
        let signer = signer();
        let key = signer.verifier_key();
        assert_eq!(
            CheckpointVerifier::from_verifier_key(&key).unwrap(),
            signer.verifier()
        );
    }
    let signer = signer();
    let key = signer.verifier_key();
    assert_eq!(
        CheckpointVerifier::from_verifier_key(&key).unwrap(),
        signer.verifier()
    );
    let (name_and_id, encoded) = key.rsplit_once('+').unwrap();
    let wrong_id = format!(
        "{}+00000000+{encoded}",
        name_and_id.split('+').next().unwrap()
    );
    assert!(CheckpointVerifier::from_verifier_key(&wrong_id).is_err());
    assert!(CheckpointVerifier::from_verifier_key("rampart-audit+0000").is_err());
}

#[test]
fn signer_round_trips_through_pkcs8_and_hides_it_from_debug() {
    let signer = signer();
    let again = CheckpointSigner::from_pkcs8("rampart-audit", signer.expose_pkcs8_der()).unwrap();
    assert_eq!(again.public_key(), signer.public_key());
    let shown = format!("{signer:?}");
    assert!(shown.contains("rampart-audit"));
    assert!(!shown.contains(&format!("{:?}", signer.expose_pkcs8_der())));
    assert!(CheckpointSigner::from_pkcs8("rampart-audit", b"not a key").is_err());
}

#[test]
fn bad_key_names_are_refused() {
    for name in ["", "two words", "a+b", "tab\tname"] {
        assert!(
            CheckpointSigner::generate(name).is_err(),
            "accepted {name:?}"
        );
    }
}

#[test]
fn origin_with_a_newline_cannot_be_signed() {
    let mut checkpoint = sample();
    checkpoint.origin = "log\n9999".into();
    assert!(signer().sign(&checkpoint).is_err());
}
