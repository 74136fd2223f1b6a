//! RFC 8785 canonical JSON of a JSON value, written directly.
//!
//! Objects are written with their members sorted by the UTF-16 code units of their names,
//! strings with RFC 8785 escaping (serde_json's), and integers within ±2^53 in decimal,
//! which is how an IEEE 754 double that holds them is written. Every other number goes
//! through the general canonicaliser, so that its ECMAScript spelling is exact.
//!
//! It upholds that the bytes equal those of `serde_json_canonicalizer` for every value,
//! which a property test holds; it exists because every append and every verified event
//! needs it, and the general canonicaliser re-parses what it writes.

use std::cmp::Ordering;
use std::io::Write as _;

use serde_json::{Map, Number, Value};

use crate::event::MAX_SAFE_INTEGER;

/// Writes the canonical JSON of `value` after what `out` holds.
pub fn write_value(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(number) => write_number(out, number),
        Value::String(text) => write_str(out, text),
        Value::Array(items) => write_array(out, items),
        Value::Object(members) => write_object(out, members),
    }
}

/// Writes `text` as a JSON string with RFC 8785 escaping (`"`, `\\`, and control
/// characters, `\b \t \n \f \r` short and the rest as lowercase `\u00xx`), which is
/// exactly serde_json's string escaping.
pub fn write_str(out: &mut Vec<u8>, text: &str) {
    let plain = text.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\');
    if plain {
        out.push(b'"');
        out.extend_from_slice(text.as_bytes());
        out.push(b'"');
    } else {
        // Writing a string into a vector cannot fail.
        let _ = serde_json::to_writer(&mut *out, text);
    }
}

fn write_number(out: &mut Vec<u8>, number: &Number) {
    let exact = match (number.as_u64(), number.as_i64()) {
        (Some(u), _) => u <= MAX_SAFE_INTEGER,
        (None, Some(i)) => i.unsigned_abs() <= MAX_SAFE_INTEGER,
        (None, None) => false,
    };
    if exact {
        // Writing into a vector cannot fail; `Number` displays integers in decimal.
        let _ = write!(out, "{number}");
        return;
    }
    match serde_json_canonicalizer::to_vec(number) {
        Ok(text) => out.extend_from_slice(&text),
        // A serde_json number is finite, which the canonicaliser always encodes.
        Err(_) => out.extend_from_slice(b"null"),
    }
}

fn write_array(out: &mut Vec<u8>, items: &[Value]) {
    out.push(b'[');
    for (n, item) in items.iter().enumerate() {
        if n > 0 {
            out.push(b',');
        }
        write_value(out, item);
    }
    out.push(b']');
}

fn write_object(out: &mut Vec<u8>, members: &Map<String, Value>) {
    let mut sorted: Vec<(&String, &Value)> = members.iter().collect();
    sorted.sort_by(|a, b| utf16_order(a.0, b.0));
    out.push(b'{');
    for (n, (name, value)) in sorted.into_iter().enumerate() {
        if n > 0 {
            out.push(b',');
        }
        write_str(out, name);
        out.push(b':');
        write_value(out, value);
    }
    out.push(b'}');
}

/// The RFC 8785 order of member names: by UTF-16 code units.
///
/// Byte order is the same for text without characters beyond U+FFFF, the usual case.
fn utf16_order(a: &str, b: &str) -> Ordering {
    let wide = |s: &str| s.bytes().any(|byte| byte >= 0xf0);
    if wide(a) || wide(b) {
        a.encode_utf16().cmp(b.encode_utf16())
    } else {
        a.cmp(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn canonical(value: &Value) -> String {
        let mut out = Vec::new();
        write_value(&mut out, value);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn members_are_sorted_by_utf16_code_units_not_by_bytes() {
        // U+1F600 is D83D DE00 in UTF-16, before U+FFFD; in UTF-8 it comes after.
        let value = json!({"\u{fffd}": 1, "\u{1f600}": 2, "a": 3});
        assert_eq!(
            canonical(&value),
            "{\"a\":3,\"\u{1f600}\":2,\"\u{fffd}\":1}"
        );
        assert_eq!(
            canonical(&value),
            serde_json_canonicalizer::to_string(&value).unwrap()
        );
    }

    #[test]
    fn numbers_are_written_as_ecmascript_writes_doubles() {
        let value = json!([
            0,
            -7,
            9_007_199_254_740_991_u64,
            1.5,
            1e21,
            0.000001,
            -0.0,
            1e-7
        ]);
        assert_eq!(
            canonical(&value),
            serde_json_canonicalizer::to_string(&value).unwrap()
        );
    }

    #[test]
    fn integers_beyond_double_precision_are_written_as_the_double_they_become() {
        let value = json!([9_007_199_254_740_993_u64, -9_007_199_254_740_993_i64]);
        assert_eq!(
            canonical(&value),
            serde_json_canonicalizer::to_string(&value).unwrap()
        );
    }
}
