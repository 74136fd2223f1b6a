//! Token verification against a bare Ed25519 signature check, in one run.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use criterion::{Criterion, black_box, criterion_group, criterion_main};
use rampart_auth::{SigningKey, TokenConfig, TokenIssuer, TokenVerifier};
use rampart_core::{AccountId, Principal, PrincipalKind, Role, RoleSet};
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use secrecy::ExposeSecret;

const NOW: i64 = 1_764_700_000;

fn verification(c: &mut Criterion) {
    let key = SigningKey::generate().unwrap();
    let config = TokenConfig::new("https://gw.example", "rampart");
    let verifier = TokenVerifier::new([key.verifying_key()], config.clone()).unwrap();
    let issuer = TokenIssuer::new(key, config).unwrap();
    let principal = Principal {
        id: "algo-1".to_owned(),
        kind: PrincipalKind::Client,
        roles: RoleSet::new([Role::Trader]).unwrap(),
        accounts: vec!["ACC-1".parse::<AccountId>().unwrap()],
    };
    let token = issuer.issue(&principal, NOW).unwrap();
    let token = token.access_token.expose_secret().to_owned();

    let pair = Ed25519KeyPair::from_pkcs8(
        Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new())
            .unwrap()
            .as_ref(),
    )
    .unwrap();
    let message = token.as_bytes();
    let signature = pair.sign(message);
    let public = UnparsedPublicKey::new(&ED25519, pair.public_key().as_ref().to_vec());

    let mut group = c.benchmark_group("verify");
    group.bench_function("access_token", |b| {
        b.iter(|| verifier.verify(black_box(&token), NOW).unwrap())
    });
    group.bench_function("bare_ed25519_signature", |b| {
        b.iter(|| {
            public
                .verify(black_box(message), black_box(signature.as_ref()))
                .unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, verification);
criterion_main!(benches);
