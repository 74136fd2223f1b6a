//! The first-start notice: the bootstrap admin's one-time password in a box.
//!
//! The password is written once, to standard error, when the data directory
//! is created; it is never logged and never shown again. The notice also says
//! where the CA file is and how to reach the gateway with verification on.

use std::fmt::Write as _;
use std::path::Path;

use secrecy::{ExposeSecret, SecretString};

/// What the first-start notice shows.
pub struct FirstStart<'a> {
    /// The bootstrap administrator's username.
    pub username: &'a str,
    /// Their one-time password.
    pub password: &'a SecretString,
    /// The development CA clients must trust; none when a configured certificate is served.
    pub ca_file: Option<&'a Path>,
    /// The gateway's URL; none while it is not known (listening on port 0, not yet bound).
    pub url: Option<&'a str>,
}

/// Writes the notice to standard error.
pub fn print_first_start(notice: &FirstStart<'_>) {
    eprint!("{}", render(notice));
}

/// Writes where the CA file is and, when the URL is known, how to call the gateway.
pub fn print_reach(ca_file: Option<&Path>, url: Option<&str>) {
    eprintln!("{}", reach_lines(ca_file, url));
}

fn render(notice: &FirstStart<'_>) -> String {
    let lines = [
        "Rampart created its data directory and a bootstrap administrator.".to_owned(),
        String::new(),
        format!("  username            {}", notice.username),
        format!("  one-time password   {}", notice.password.expose_secret()),
        String::new(),
        "This password is shown only this once. Store it now;".to_owned(),
        "it must be changed, with MFA enrolled, at first login.".to_owned(),
    ];
    let mut text = boxed(&lines);
    text.push_str(&reach_lines(notice.ca_file, notice.url));
    text.push('\n');
    text
}

fn reach_lines(ca_file: Option<&Path>, url: Option<&str>) -> String {
    let first = match ca_file {
        Some(ca) => format!("CA certificate for clients: {}", ca.display()),
        None => "Serving the configured certificate.".to_owned(),
    };
    match url {
        Some(url) => format!("{first}\n{}", check_line(ca_file, url)),
        None => first,
    }
}

/// Writes only how to call the gateway, for when the CA line was shown already.
pub fn print_check(ca_file: Option<&Path>, url: &str) {
    eprintln!("{}", check_line(ca_file, url));
}

fn check_line(ca_file: Option<&Path>, url: &str) -> String {
    match ca_file {
        Some(ca) => format!("Check it:  curl --cacert {} {url}/healthz", ca.display()),
        None => format!("Check it:  curl {url}/healthz"),
    }
}

fn boxed(lines: &[String]) -> String {
    let width = lines.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    let rule = "─".repeat(width + 2);
    let mut text = format!("┌{rule}┐\n");
    for line in lines {
        let pad = width - line.chars().count();
        let _ = writeln!(text, "│ {line}{} │", " ".repeat(pad));
    }
    let _ = writeln!(text, "└{rule}┘");
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notice_shows_the_password_inside_an_aligned_box() {
        let password = SecretString::from("correct-horse-battery");
        let notice = FirstStart {
            username: "admin",
            password: &password,
            ca_file: Some(Path::new("rampart-data/tls/ca.pem")),
            url: Some("https://127.0.0.1:8443"),
        };
        let text = render(&notice);
        assert_eq!(text.matches("correct-horse-battery").count(), 1);
        let boxed: Vec<&str> = text.lines().take_while(|l| !l.starts_with("CA ")).collect();
        let widths: Vec<usize> = boxed.iter().map(|l| l.chars().count()).collect();
        assert!(widths.windows(2).all(|w| w[0] == w[1]), "{widths:?}");
        assert!(
            text.contains("curl --cacert rampart-data/tls/ca.pem https://127.0.0.1:8443/healthz")
        );
    }

    #[test]
    fn no_health_check_hint_is_shown_while_the_address_is_unknown() {
        let text = reach_lines(Some(Path::new("rampart-data/tls/ca.pem")), None);
        assert_eq!(text, "CA certificate for clients: rampart-data/tls/ca.pem");
        assert!(!text.contains("healthz"));
    }
}
