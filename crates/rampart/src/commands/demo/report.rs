//! The demo's closing summary: one row per algorithm, then the audit verdict.

use comfy_table::{Cell, Table, presets};

use super::trader::Tally;
use crate::commands::audit::Verdict;

/// The summary table: orders sent, filled, rejected by code, cancelled, open.
pub fn table(rows: &[(&str, &Tally)]) -> Table {
    let mut table = Table::new();
    table.load_preset(presets::UTF8_FULL_CONDENSED);
    table.set_header([
        "algorithm",
        "sent",
        "filled",
        "rejected (by code)",
        "cancelled",
        "open",
    ]);
    for (name, tally) in rows {
        table.add_row([
            Cell::new(name),
            Cell::new(tally.sent),
            Cell::new(tally.filled),
            Cell::new(rejections(tally)),
            Cell::new(tally.cancelled),
            Cell::new(tally.open),
        ]);
    }
    table
}

/// Prints the table, the audit log's size and the verification verdict.
pub fn print(rows: &[(&str, &Tally)], audit_events: u64, verdict: &Verdict) {
    println!("{}", table(rows));
    println!("audit events recorded: {audit_events}");
    println!("{}", verdict.summary());
}

fn rejections(tally: &Tally) -> String {
    let mut lines: Vec<String> = tally
        .rejected
        .iter()
        .map(|(code, n)| format!("{code}: {n}"))
        .collect();
    lines.extend(
        tally
            .refused
            .iter()
            .map(|(why, n)| format!("refused {why}: {n}")),
    );
    if lines.is_empty() {
        return "none".to_owned();
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejections_are_listed_by_code() {
        let mut tally = Tally {
            sent: 3,
            filled: 1,
            ..Tally::default()
        };
        tally.rejected.insert("risk.price_collar".to_owned(), 2);
        let text = table(&[("momentum", &tally)]).to_string();
        assert!(text.contains("risk.price_collar: 2"), "{text}");
        assert!(text.contains("momentum"));
    }
}
