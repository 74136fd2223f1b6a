//! Token verification in one run: a bare Ed25519 signature check, a full
//! uncached verification, and a verification served by the cache.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use criterion::{Criterion, black_box, criterion_group, criterion_main};
use rampart_auth::cache::CachedVerifier;
use rampart_auth::{SigningKey, TokenConfig, TokenIssuer, TokenVerifier};
use rampart_core::{AccountId, Principal, PrincipalKind, Role, RoleSet};
use secrecy::ExposeSecret;

const NOW: i64 = 1_764_700_000;

fn verification(c: &mut Criterion) {
    let key = SigningKey::generate().unwrap();
    let public = key.verifying_key();
    let config = TokenConfig::new("https://gw.example", "rampart");
    let verifier = TokenVerifier::new([public.clone()], config.clone()).unwrap();
    let cached = CachedVerifier::new(
        TokenVerifier::new([public.clone()], config.clone()).unwrap(),
        10_000,
        |_: &str| false,
    );
    let issuer = TokenIssuer::new(key, config).unwrap();
    let principal = Principal {
        id: "algo-1".to_owned(),
        kind: PrincipalKind::Client,
        roles: RoleSet::new([Role::Trader]).unwrap(),
        accounts: vec!["ACC-1".parse::<AccountId>().unwrap()],
    };
    let token = issuer.issue(&principal, NOW).unwrap();
    let token = token.access_token.expose_secret().to_owned();

    // The same signature check the verifier performs, on this token's bytes.
    let (signing_input, signature) = token.rsplit_once('.').unwrap();
    let signature = URL_SAFE_NO_PAD.decode(signature).unwrap();
    assert!(public.verify(signing_input.as_bytes(), &signature));
    cached.verify(&token, NOW).unwrap();

    let mut group = c.benchmark_group("verify");
    group.bench_function("bare_ed25519_signature", |b| {
        b.iter(|| assert!(public.verify(black_box(signing_input.as_bytes()), &signature)))
    });
    group.bench_function("access_token_uncached", |b| {
        b.iter(|| verifier.verify(black_box(&token), NOW).unwrap())
    });
    group.bench_function("access_token_cached_hit", |b| {
        b.iter(|| cached.verify(black_box(&token), NOW).unwrap())
    });
    group.finish();
}

criterion_group!(benches, verification);
criterion_main!(benches);
