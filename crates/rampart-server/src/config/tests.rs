//! Tests of loading, layering and validating the configuration.

use figment::Jail;

use super::*;

fn key_of(error: ConfigError) -> String {
    match error {
        ConfigError::Invalid { key, .. } => key,
        other => panic!("unexpected error {other}"),
    }
}

#[test]
fn defaults_apply_without_a_file() {
    Jail::expect_with(|_| {
        let config = Config::load(None).unwrap();
        assert_eq!(config.server.listen.to_string(), "127.0.0.1:8443");
        assert_eq!(config.public_url(), "https://127.0.0.1:8443");
        assert_eq!(config.issuer(), "https://127.0.0.1:8443");
        assert_eq!(config.auth.token_ttl_seconds, 900);
        assert_eq!(config.market.speed, 60);
        assert!(config.instruments.is_none());
        Ok(())
    });
}

#[test]
fn file_in_working_directory_overrides_defaults() {
    Jail::expect_with(|jail| {
        jail.create_file(DEFAULT_FILE, "[server]\nlisten = \"0.0.0.0:9443\"\n")?;
        let config = Config::load(None).unwrap();
        assert_eq!(config.server.listen.to_string(), "0.0.0.0:9443");
        assert_eq!(config.server.max_body_bytes, 65_536);
        Ok(())
    });
}

#[test]
fn environment_overrides_the_file() {
    Jail::expect_with(|jail| {
        jail.create_file("custom.toml", "[auth]\naudience = \"from-file\"\n")?;
        jail.set_env("RAMPART_AUTH__AUDIENCE", "from-env");
        jail.set_env("RAMPART_LOG", "debug");
        let config = Config::load(Some(Path::new("custom.toml"))).unwrap();
        assert_eq!(config.auth.audience, "from-env");
        Ok(())
    });
}

#[test]
fn missing_explicit_file_is_an_error() {
    Jail::expect_with(|_| {
        let error = Config::load(Some(Path::new("absent.toml"))).unwrap_err();
        assert_eq!(
            error,
            ConfigError::MissingFile(PathBuf::from("absent.toml"))
        );
        Ok(())
    });
}

#[test]
fn unknown_key_is_refused_by_name() {
    Jail::expect_with(|_| {
        let error = Config::from_toml("[server]\nlisten_addr = \"x\"\n").unwrap_err();
        assert_eq!(key_of(error), "server.listen_addr");
        Ok(())
    });
}

#[test]
fn unknown_environment_key_is_refused_by_name() {
    Jail::expect_with(|jail| {
        jail.set_env("RAMPART_SERVER__LISTN", "127.0.0.1:1");
        let error = Config::load(None).unwrap_err();
        assert_eq!(key_of(error), "server.listn");
        Ok(())
    });
}

#[test]
fn token_lifetime_above_fifteen_minutes_is_refused() {
    Jail::expect_with(|_| {
        let error = Config::from_toml("[auth]\ntoken_ttl_seconds = 901\n").unwrap_err();
        assert_eq!(
            error.to_string(),
            "`auth.token_ttl_seconds` must be at most 900"
        );
        Ok(())
    });
}

#[test]
fn leeway_above_thirty_seconds_is_refused() {
    Jail::expect_with(|_| {
        let error = Config::from_toml("[auth]\nleeway_seconds = 31\n").unwrap_err();
        assert_eq!(
            error.to_string(),
            "`auth.leeway_seconds` must be at most 30"
        );
        Ok(())
    });
}

#[test]
fn wrong_type_names_the_key() {
    Jail::expect_with(|_| {
        let error = Config::from_toml("[server]\nmax_body_bytes = \"big\"\n").unwrap_err();
        assert_eq!(key_of(error), "server.max_body_bytes");
        Ok(())
    });
}

#[test]
fn value_under_a_wrong_key_type_is_never_echoed() {
    Jail::expect_with(|_| {
        for text in [
            "[server]\nmax_body_bytes = \"s3cr3t-canary\"\n",
            "[server]\nlisten = \"s3cr3t-canary\"\n",
            "[server]\ndata_dir = [\"s3cr3t-canary\"]\n",
            "[auth]\ntoken_ttl_seconds = { s3cr3t-canary = 1 }\n",
        ] {
            let message = Config::from_toml(text).unwrap_err().to_string();
            assert!(!message.contains("s3cr3t"), "{message}");
            assert!(message.starts_with("`server.") || message.starts_with("`auth."));
        }
        Ok(())
    });
}

#[test]
fn wrong_type_names_the_key_and_the_expected_type_only() {
    Jail::expect_with(|_| {
        let error = Config::from_toml("[server]\nmax_body_bytes = \"big\"\n").unwrap_err();
        assert_eq!(
            error.to_string(),
            "`server.max_body_bytes` must be a whole number"
        );
        Ok(())
    });
}

#[test]
fn plain_http_public_url_is_refused() {
    Jail::expect_with(|_| {
        let error = Config::from_toml("[server]\npublic_url = \"http://x\"\n").unwrap_err();
        assert_eq!(key_of(error), "server.public_url");
        Ok(())
    });
}

#[test]
fn certificate_without_key_is_refused() {
    Jail::expect_with(|_| {
        let error = Config::from_toml("[tls]\ncert_file = \"c.pem\"\n").unwrap_err();
        assert_eq!(key_of(error), "tls.key_file");
        Ok(())
    });
}

#[test]
fn instruments_are_read_as_decimal_strings() {
    Jail::expect_with(|_| {
        let text = "[[instruments]]\nid = \"ETH-USD\"\ntick_size = \"0.01\"\n\
                    lot_size = \"0.001\"\ncurrency = \"USD\"\n";
        let config = Config::from_toml(text).unwrap();
        let catalog = config.instrument_catalog().unwrap();
        let eth = catalog.get(&"ETH-USD".parse().unwrap()).unwrap();
        assert_eq!(eth.tick_size.to_string(), "0.01");
        Ok(())
    });
}

#[test]
fn instrument_with_numeric_tick_size_is_refused() {
    Jail::expect_with(|_| {
        let text = "[[instruments]]\nid = \"ETH-USD\"\ntick_size = 0.01\n\
                    lot_size = \"0.001\"\ncurrency = \"USD\"\n";
        assert!(Config::from_toml(text).is_err());
        Ok(())
    });
}

#[test]
fn market_start_is_read_as_rfc3339() {
    Jail::expect_with(|_| {
        let config = Config::from_toml("[market]\nstart = \"2022-01-10T00:00:00Z\"\n").unwrap();
        assert_eq!(
            config.market.start.unwrap().to_rfc3339(),
            "2022-01-10T00:00:00+00:00"
        );
        Ok(())
    });
}

#[test]
fn test_configuration_listens_on_a_free_loopback_port() {
    let config = Config::for_tests(Path::new("/tmp/x"));
    assert_eq!(config.server.listen.port(), 0);
    assert!(config.server.listen.ip().is_loopback());
    assert!(
        config
            .market
            .data_dir
            .join("btc-perp-2022-01-1m.csv")
            .is_file()
    );
    config.validate().unwrap();
}
