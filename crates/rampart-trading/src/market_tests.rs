//! Tests of the market-data loaders and the replayed series.

use std::io::Write;

use chrono::TimeZone;
use rampart_core::{InstrumentCatalog, OrderRequest};
use rust_decimal_macros::dec;

use super::*;

const BARS: &str = "timestamp,open,high,low,close,volume\n\
    2022-01-01 00:00:00.000000,100.0,101.0,99.0,100.5,10.0\n\
    2022-01-01 00:01:00.000000,100.5,103.0,100.0,102.125,11.0\n";

const QUOTES: &str = "timestamp,bid,ask\n\
    2013-01-01 22:00:00.295000+00:00,86.655,86.728\n\
    2013-01-01 22:00:01.000000+00:00,86.657,86.728\n";

fn file_with(text: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(text.as_bytes()).unwrap();
    file
}

fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2022, 1, 1, h, m, s).unwrap()
}

fn row_error(result: Result<Series, MarketError>) -> (PathBuf, u64, String) {
    match result {
        Err(MarketError::Row { file, line, reason }) => (file, line, reason),
        other => panic!("expected a row error, got {other:?}"),
    }
}

fn series(points: &[(i64, Decimal)]) -> Series {
    let start = at(0, 0, 0);
    let points: Vec<PricePoint> = points
        .iter()
        .map(|(s, price)| PricePoint {
            time: start + TimeDelta::seconds(*s),
            price: *price,
        })
        .collect();
    Series::new(&points).unwrap()
}

#[test]
fn a_bar_close_is_the_price_from_the_end_of_its_minute() {
    let file = file_with(BARS);
    let series = load_bars(file.path()).unwrap();
    assert_eq!(series.first_time(), at(0, 1, 0));
    assert_eq!(series.price_at(at(0, 0, 59)), None);
    assert_eq!(series.price_at(at(0, 1, 0)), Some(dec!(100.5)));
    assert_eq!(series.price_at(at(0, 1, 59)), Some(dec!(100.5)));
    assert_eq!(series.price_at(at(0, 2, 0)), Some(dec!(102.125)));
    assert_eq!(series.price_at(at(5, 0, 0)), Some(dec!(102.125)));
}

#[test]
fn a_quote_mid_is_rounded_to_the_tick_half_to_even() {
    let file = file_with(QUOTES);
    let series = load_quotes(file.path(), dec!(0.001)).unwrap();
    let first = Utc.with_ymd_and_hms(2013, 1, 1, 22, 0, 0).unwrap() + TimeDelta::milliseconds(295);
    // (86.655 + 86.728) / 2 = 86.6915 and (86.657 + 86.728) / 2 = 86.6925: both 86.692.
    assert_eq!(series.first_time(), first);
    assert_eq!(series.price_at(first), Some(dec!(86.692)));
    assert_eq!(
        series.price_at(first + TimeDelta::seconds(1)),
        Some(dec!(86.692))
    );
    assert_eq!(
        mid_on_tick(dec!(86.655), dec!(86.730), dec!(0.001)),
        Some(dec!(86.692))
    );
    assert_eq!(
        mid_on_tick(dec!(1.0005), dec!(1.0010), dec!(0.001)),
        Some(dec!(1.001))
    );
}

#[test]
fn a_price_written_as_an_exponent_names_file_line_and_column() {
    let file = file_with(&BARS.replace("102.125", "1.02125e2"));
    let (path, line, reason) = row_error(load_bars(file.path()));
    assert_eq!(path, file.path());
    assert_eq!(line, 3);
    assert!(reason.contains("`close`"), "{reason}");
    assert!(
        MarketError::Row {
            file: path,
            line,
            reason
        }
        .to_string()
        .contains("line 3")
    );
}

#[test]
fn signs_nan_and_empty_prices_are_refused() {
    for bad in ["-100.0", "+100.0", "NaN", "inf", "", " 100.0", "0.0"] {
        let file = file_with(&QUOTES.replace("86.657", bad));
        let (_, line, reason) = row_error(load_quotes(file.path(), dec!(0.001)));
        assert_eq!(line, 3, "{bad}");
        assert!(reason.contains("`bid`"), "{bad}: {reason}");
    }
}

#[test]
fn a_wrong_header_is_refused_at_line_one() {
    let file = file_with(&BARS.replace("close", "last"));
    let (_, line, reason) = row_error(load_bars(file.path()));
    assert_eq!(line, 1);
    assert!(
        reason.contains("timestamp,open,high,low,close,volume"),
        "{reason}"
    );
}

#[test]
fn a_row_with_too_few_columns_is_refused_with_its_line() {
    let file = file_with(&format!("{BARS}2022-01-01 00:02:00.000000,1.0\n"));
    assert_eq!(row_error(load_bars(file.path())).1, 4);
}

#[test]
fn a_malformed_timestamp_is_refused_with_its_line() {
    let file = file_with(&QUOTES.replace("2013-01-01 22:00:01", "2013-13-01 22:00:01"));
    let (_, line, reason) = row_error(load_quotes(file.path(), dec!(0.001)));
    assert_eq!(line, 3);
    assert!(reason.contains("`timestamp`"), "{reason}");
}

#[test]
fn a_crossed_quote_is_refused() {
    let file = file_with(&QUOTES.replace("86.657,86.728", "86.729,86.728"));
    assert_eq!(row_error(load_quotes(file.path(), dec!(0.001))).1, 3);
}

#[test]
fn rows_out_of_time_order_are_refused_with_the_later_line() {
    let swapped = "timestamp,bid,ask\n\
        2013-01-01 22:00:02.000000+00:00,86.655,86.728\n\
        2013-01-01 22:00:01.000000+00:00,86.657,86.728\n";
    let file = file_with(swapped);
    assert_eq!(row_error(load_quotes(file.path(), dec!(0.001))).1, 3);
}

#[test]
fn a_file_without_rows_is_refused() {
    let file = file_with("timestamp,bid,ask\n");
    let error = load_quotes(file.path(), dec!(0.001)).unwrap_err();
    assert!(matches!(error, MarketError::Series(_)), "{error:?}");
}

#[test]
fn a_missing_file_is_named_in_the_error() {
    let dir = tempfile::tempdir().unwrap();
    let error = MarketData::load_dir(dir.path()).unwrap_err();
    assert!(matches!(error, MarketError::Io { .. }), "{error:?}");
    assert!(error.to_string().contains(BTC_USD_FILE), "{error}");
}

#[test]
fn load_dir_prices_both_default_instruments() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(BTC_USD_FILE), BARS).unwrap();
    std::fs::write(dir.path().join(USD_JPY_FILE), QUOTES).unwrap();
    let market = MarketData::load_dir(dir.path()).unwrap();
    let symbols: Vec<&str> = market.instruments().map(|i| i.as_str()).collect();
    assert_eq!(symbols, [BTC_USD, USD_JPY]);
    assert_eq!(market.series(&BTC_USD.parse().unwrap()).unwrap().len(), 2);
}

#[test]
fn series_refuse_no_points_unordered_points_and_non_positive_prices() {
    let point = |s, price| PricePoint {
        time: at(0, 0, s),
        price,
    };
    assert!(Series::new(&[]).is_err());
    assert!(Series::new(&[point(2, dec!(1)), point(1, dec!(1))]).is_err());
    assert!(Series::new(&[point(1, dec!(0))]).is_err());
    assert!(Series::new(&[point(1, dec!(1)), point(1, dec!(2))]).is_ok());
}

#[test]
fn extremes_cover_the_window_after_its_start_through_its_end() {
    let series = series(&[
        (0, dec!(100)),
        (60, dec!(110)),
        (120, dec!(90)),
        (180, dec!(100)),
    ]);
    let s = |seconds: i128| seconds * 1_000_000;
    assert_eq!(series.extremes(s(0), s(60)), Some((dec!(110), dec!(110))));
    assert_eq!(series.extremes(s(0), s(150)), Some((dec!(90), dec!(110))));
    assert_eq!(series.extremes(s(61), s(119)), None);
    assert_eq!(series.extremes(s(60), s(60)), None);
}

#[test]
fn extremes_wrap_around_the_end_of_the_series() {
    // The cycle is 180 s plus the one-second hold: 181 s.
    let series = series(&[
        (0, dec!(100)),
        (60, dec!(110)),
        (120, dec!(90)),
        (180, dec!(95)),
    ]);
    let s = |seconds: i128| seconds * 1_000_000;
    assert_eq!(series.extremes(s(150), s(190)), Some((dec!(95), dec!(100))));
    assert_eq!(
        series.extremes(s(181), s(241)),
        Some((dec!(110), dec!(110)))
    );
    assert_eq!(
        series.extremes(s(180), s(181)),
        Some((dec!(100), dec!(100)))
    );
    assert_eq!(series.extremes(s(0), s(1000)), Some((dec!(90), dec!(110))));
}

#[test]
fn default_instruments_accept_the_design_example_order() {
    let catalog = InstrumentCatalog::new(default_instruments());
    let request: OrderRequest = serde_json::from_str(
        r#"{"account_id": "ACC-1", "instrument": "BTC-USD", "side": "buy", "type": "limit",
            "quantity": "0.50", "limit_price": "43000.10", "time_in_force": "gtc",
            "client_order_id": "c-0001"}"#,
    )
    .unwrap();
    let order = request.validate(&catalog).unwrap();
    assert_eq!(order.limit_price.unwrap().value(), dec!(43000.10));
}

#[test]
fn default_instruments_have_the_currency_of_their_prices() {
    let instruments = default_instruments();
    let currencies: Vec<(&str, &str)> = instruments
        .iter()
        .map(|i| (i.id.as_str(), i.currency.as_str()))
        .collect();
    assert_eq!(currencies, [(BTC_USD, "USD"), (USD_JPY, "JPY")]);
    assert!(instruments.iter().all(|i| i.tick_size == dec!(0.001)));
}
