//! Which characters may appear in text that operators read back: reasons,
//! scope targets and other free text the gateway stores and lists.
//!
//! It upholds the rule that stored text prints as what it says: control,
//! separator and format characters are refused or escaped by the callers.

/// Whether `c` is a control character, a line or paragraph separator, or a
/// format character (Unicode category Cf).
///
/// Format characters are invisible but change how the text around them is
/// shown: the bidi embeddings, overrides and isolates (U+202A–U+202E,
/// U+2066–U+2069), the directional marks (U+200E, U+200F, U+061C) and the
/// zero-width characters can make a reason read as something else when an
/// operator lists engagements. The ranges are those of category Cf in
/// Unicode 15, written out because the standard library has no category test.
pub fn is_hidden_char(c: char) -> bool {
    c.is_control()
        || HIDDEN_RANGES
            .iter()
            .any(|&(first, last)| (first..=last).contains(&c))
}

/// Category Cf of Unicode 15, the line and paragraph separators and the
/// noncharacters U+FFFE and U+FFFF, as inclusive ranges.
const HIDDEN_RANGES: [(char, char); 22] = [
    ('\u{00AD}', '\u{00AD}'),   // soft hyphen
    ('\u{0600}', '\u{0605}'),   // Arabic number signs
    ('\u{061C}', '\u{061C}'),   // Arabic letter mark
    ('\u{06DD}', '\u{06DD}'),   // Arabic end of ayah
    ('\u{070F}', '\u{070F}'),   // Syriac abbreviation mark
    ('\u{0890}', '\u{0891}'),   // Arabic pound and piastre marks above
    ('\u{08E2}', '\u{08E2}'),   // Arabic disputed end of ayah
    ('\u{180E}', '\u{180E}'),   // Mongolian vowel separator
    ('\u{200B}', '\u{200F}'),   // zero-width space and joiners, LRM, RLM
    ('\u{2028}', '\u{2029}'),   // line and paragraph separators
    ('\u{202A}', '\u{202E}'),   // bidi embeddings and overrides
    ('\u{2060}', '\u{206F}'),   // word joiner, invisible operators, bidi isolates
    ('\u{FEFF}', '\u{FEFF}'),   // zero-width no-break space (byte order mark)
    ('\u{FFF9}', '\u{FFFB}'),   // interlinear annotation controls
    ('\u{FFFE}', '\u{FFFF}'),   // noncharacters
    ('\u{110BD}', '\u{110BD}'), // Kaithi number sign
    ('\u{110CD}', '\u{110CD}'), // Kaithi number sign above
    ('\u{13430}', '\u{1343F}'), // Egyptian hieroglyph format controls
    ('\u{1BCA0}', '\u{1BCA3}'), // shorthand format controls
    ('\u{1D173}', '\u{1D17A}'), // musical symbol format controls
    ('\u{E0001}', '\u{E0001}'), // language tag
    ('\u{E0020}', '\u{E007F}'), // tag characters
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bidi_overrides_and_zero_width_characters_are_hidden() {
        for c in [
            '\u{202E}',
            '\u{2066}',
            '\u{200B}',
            '\u{FEFF}',
            '\n',
            '\u{E0041}',
        ] {
            assert!(is_hidden_char(c), "U+{:04X}", c as u32);
        }
    }

    #[test]
    fn visible_letters_of_any_script_are_not_hidden() {
        for c in ['a', 'ö', '取', 'س', '—', ' '] {
            assert!(!is_hidden_char(c), "U+{:04X}", c as u32);
        }
    }
}
