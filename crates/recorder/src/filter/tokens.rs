//! Name tokens: the words a variable or function name is made of, and the
//! `tokens` match type built on them (how the builtin filter finds secrets).
//!
//! A name splits into tokens at every character that is not a letter or a
//! digit (`_`, `-`, `.`), where a lowercase letter meets an uppercase one
//! (`userPassword` → `user`, `Password`), before the last capital of a run of
//! capitals followed by a lowercase letter (`APIKey` → `API`, `Key`), and
//! where letters meet digits (`oauth2token` → `oauth`, `2`, `token`).
//! Tokens compare case-insensitively.

use std::collections::HashMap;

/// How one character takes part in a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CharClass {
    Upper,
    /// Lowercase letters and letters without case.
    Lower,
    Digit,
    Separator,
}

fn classify(c: char) -> CharClass {
    if c.is_ascii() {
        return match c {
            'A'..='Z' => CharClass::Upper,
            'a'..='z' => CharClass::Lower,
            '0'..='9' => CharClass::Digit,
            _ => CharClass::Separator,
        };
    }
    if c.is_uppercase() {
        CharClass::Upper
    } else if c.is_alphabetic() {
        CharClass::Lower
    } else if c.is_numeric() {
        CharClass::Digit
    } else {
        CharClass::Separator
    }
}

/// Whether a token ends between a character of class `previous` and one of
/// class `current`; `next` gives the class of the character after `current`.
fn is_boundary(
    previous: CharClass,
    current: CharClass,
    next: impl FnOnce() -> Option<CharClass>,
) -> bool {
    match (previous, current) {
        (_, CharClass::Separator) => true,
        (CharClass::Lower, CharClass::Upper) => true,
        (CharClass::Digit, CharClass::Upper | CharClass::Lower)
        | (CharClass::Upper | CharClass::Lower, CharClass::Digit) => true,
        // `APIKey`: the `K` starts a new word when a lowercase letter follows it.
        (CharClass::Upper, CharClass::Upper) => next() == Some(CharClass::Lower),
        _ => false,
    }
}

/// The tokens of a name, as slices of it, without allocating.
#[derive(Debug, Clone)]
pub struct NameTokens<'a> {
    name: &'a str,
    position: usize,
    ascii: bool,
}

impl<'a> NameTokens<'a> {
    /// The tokens of `name`.
    pub fn new(name: &'a str) -> Self {
        NameTokens {
            name,
            position: 0,
            ascii: name.is_ascii(),
        }
    }

    /// The next token of an ASCII name, byte by byte.
    fn next_ascii(&mut self) -> Option<&'a str> {
        let bytes = self.name.as_bytes();
        let class = |index: usize| classify(char::from(bytes[index]));
        let mut index = self.position;
        while index < bytes.len() && class(index) == CharClass::Separator {
            index += 1;
        }
        if index == bytes.len() {
            self.position = index;
            return None;
        }
        let start = index;
        let mut previous = class(index);
        index += 1;
        while index < bytes.len() {
            let current = class(index);
            let next = || (index + 1 < bytes.len()).then(|| class(index + 1));
            if is_boundary(previous, current, next) {
                break;
            }
            previous = current;
            index += 1;
        }
        self.position = index;
        Some(&self.name[start..index])
    }

    /// The next token of any name, character by character.
    fn next_unicode(&mut self) -> Option<&'a str> {
        let rest = &self.name[self.position..];
        let mut chars = rest.char_indices().peekable();
        let (start, mut previous) = loop {
            let (index, c) = chars.next()?;
            let class = classify(c);
            if class != CharClass::Separator {
                break (index, class);
            }
        };
        let mut end = rest.len();
        while let Some(&(index, c)) = chars.peek() {
            let current = classify(c);
            let next = || {
                let mut lookahead = chars.clone();
                lookahead.next();
                lookahead.peek().map(|&(_, c)| classify(c))
            };
            if is_boundary(previous, current, next) {
                end = index;
                break;
            }
            previous = current;
            chars.next();
        }
        self.position += end;
        Some(&rest[start..end])
    }
}

impl<'a> Iterator for NameTokens<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        if self.ascii {
            self.next_ascii()
        } else {
            self.next_unicode()
        }
    }
}

/// Whether a name's token equals a lowercase word.
fn token_eq(token: &str, lowercase: &str) -> bool {
    if token.is_ascii() {
        token.eq_ignore_ascii_case(lowercase)
    } else {
        token
            .chars()
            .flat_map(char::to_lowercase)
            .eq(lowercase.chars())
    }
}

/// Calls `f` with `token` lowercased: on the stack for short ASCII tokens.
fn with_lowercase<R>(token: &str, f: impl FnOnce(&str) -> R) -> R {
    let mut buffer = [0u8; 64];
    if token.is_ascii() && token.len() <= buffer.len() {
        let bytes = &mut buffer[..token.len()];
        bytes.copy_from_slice(token.as_bytes());
        bytes.make_ascii_lowercase();
        if let Ok(lower) = std::str::from_utf8(bytes) {
            return f(lower);
        }
    }
    let lower: String = token.chars().flat_map(char::to_lowercase).collect();
    f(&lower)
}

fn lowercase_words(text: &str) -> Vec<String> {
    NameTokens::new(text)
        .map(|token| token.chars().flat_map(char::to_lowercase).collect())
        .collect()
}

/// A `tokens:` pattern: a comma-separated list of words or phrases. A name
/// matches when the tokens of one entry appear, in order and adjacent, among
/// the tokens of the name's last dotted component (for a return value, the
/// function's own name rather than its module or class).
#[derive(Debug, Clone)]
pub struct TokenSet {
    /// Entries by their first word (lowercase): the words that must follow.
    by_first_word: HashMap<String, Vec<Vec<String>>>,
    /// A quick rejection test: bit `len` of `first_words[c]` is set when some
    /// first word starts with the ASCII letter or digit `c` and has `len`
    /// bytes (63 standing for longer ones).
    first_words: [u64; 36],
    /// Whether some first word starts with a non-ASCII character.
    non_ascii_first: bool,
}

/// The slot of an ASCII letter or digit in [`TokenSet::first_words`].
fn first_slot(c: u8) -> Option<usize> {
    match c.to_ascii_lowercase() {
        c @ b'a'..=b'z' => Some(usize::from(c - b'a')),
        c @ b'0'..=b'9' => Some(26 + usize::from(c - b'0')),
        _ => None,
    }
}

fn length_bit(len: usize) -> u64 {
    1 << len.min(63)
}

impl TokenSet {
    /// Parses `password, api_key, privateKey`; each entry is split with the
    /// same rule as names (`api_key`, `apiKey` and `api key` are alike).
    pub fn parse(list: &str) -> Result<TokenSet, String> {
        let mut by_first_word: HashMap<String, Vec<Vec<String>>> = HashMap::new();
        for entry in list.split(',') {
            let mut words = lowercase_words(entry).into_iter();
            let Some(first) = words.next() else {
                return Err(format!(
                    "entry {:?} has no letters or digits; expected a comma-separated list of names such as `password, api_key`",
                    entry.trim()
                ));
            };
            by_first_word
                .entry(first)
                .or_default()
                .push(words.collect());
        }
        let mut first_words = [0; 36];
        let mut non_ascii_first = false;
        for word in by_first_word.keys() {
            match word.bytes().next().and_then(first_slot) {
                Some(slot) => first_words[slot] |= length_bit(word.len()),
                None => non_ascii_first = true,
            }
        }
        Ok(TokenSet {
            by_first_word,
            first_words,
            non_ascii_first,
        })
    }

    /// Whether some entry may start with `token` (false ones are certain).
    fn may_start_with(&self, token: &str) -> bool {
        match token.bytes().next().and_then(first_slot) {
            Some(slot) if token.is_ascii() => self.first_words[slot] & length_bit(token.len()) != 0,
            _ => self.non_ascii_first || !token.is_ascii(),
        }
    }

    /// Whether `name` contains one of the entries. The name is split once,
    /// on the stack unless it has more than 16 tokens.
    pub fn matches(&self, name: &str) -> bool {
        let own_name = name.rsplit('.').next().unwrap_or(name);
        let mut buffer = [""; 16];
        let mut count = 0;
        let mut tokens = NameTokens::new(own_name);
        for token in tokens.by_ref() {
            buffer[count] = token;
            count += 1;
            if count == buffer.len() {
                break;
            }
        }
        if count < buffer.len() {
            return self.contains_entry(&buffer[..count]);
        }
        let mut all = buffer.to_vec();
        all.extend(tokens);
        self.contains_entry(&all)
    }

    fn contains_entry(&self, tokens: &[&str]) -> bool {
        tokens.iter().enumerate().any(|(start, token)| {
            if !self.may_start_with(token) {
                return false;
            }
            let Some(rests) = with_lowercase(token, |lower| self.by_first_word.get(lower)) else {
                return false;
            };
            let following = &tokens[start + 1..];
            rests.iter().any(|rest| {
                rest.len() <= following.len()
                    && rest
                        .iter()
                        .zip(following)
                        .all(|(word, token)| token_eq(token, word))
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(name: &str) -> Vec<&str> {
        NameTokens::new(name).collect()
    }

    #[test]
    fn names_split_at_separators_case_changes_and_digits() {
        assert_eq!(tokens("db_password"), ["db", "password"]);
        assert_eq!(tokens("userPassword"), ["user", "Password"]);
        assert_eq!(tokens("APIKey"), ["API", "Key"]);
        assert_eq!(tokens("HTTPServerError"), ["HTTP", "Server", "Error"]);
        assert_eq!(tokens("oauth2token"), ["oauth", "2", "token"]);
        assert_eq!(tokens("__init__"), ["init"]);
        assert_eq!(tokens("X-Api-Key"), ["X", "Api", "Key"]);
        assert_eq!(tokens("TOKEN"), ["TOKEN"]);
        assert_eq!(tokens("créditCard"), ["crédit", "Card"]);
        assert!(tokens("__").is_empty());
        assert!(tokens("").is_empty());
    }

    #[test]
    fn entries_match_whole_tokens_only() {
        let set = TokenSet::parse("pan, auth, card").unwrap_or_else(|e| panic!("{e}"));
        for name in ["pan", "card_pan", "auth", "AuthHeader", "cardNumber"] {
            assert!(set.matches(name), "{name}");
        }
        for name in ["span", "expand", "author", "company", "discarded", "panel"] {
            assert!(!set.matches(name), "{name}");
        }
    }

    #[test]
    fn phrases_match_adjacent_tokens_in_any_spelling() {
        let set = TokenSet::parse("api key").unwrap_or_else(|e| panic!("{e}"));
        for name in ["api_key", "apiKey", "APIKey", "x_api_key", "API-KEY"] {
            assert!(set.matches(name), "{name}");
        }
        for name in ["api", "key", "key_api", "api_the_key", "apikey"] {
            assert!(!set.matches(name), "{name}");
        }
    }

    #[test]
    fn long_names_are_matched_past_the_stack_buffer() {
        let set = TokenSet::parse("api key").unwrap_or_else(|e| panic!("{e}"));
        let long = format!("{}_api_key", vec!["w"; 20].join("_"));
        assert!(set.matches(&long));
        assert!(!set.matches(&format!("{}_api", vec!["w"; 20].join("_"))));
    }

    #[test]
    fn only_the_last_dotted_component_counts() {
        let set = TokenSet::parse("auth").unwrap_or_else(|e| panic!("{e}"));
        assert!(!set.matches("app.auth.views.index"));
        assert!(set.matches("app.views.check_auth"));
        assert!(set.matches("Outer.<locals>.auth"));
    }

    proptest::proptest! {
        #[test]
        fn the_ascii_and_unicode_splitters_agree(name in "[A-Za-z0-9_.-]{0,24}") {
            let fast: Vec<&str> = NameTokens::new(&name).collect();
            let general: Vec<&str> = NameTokens { name: &name, position: 0, ascii: false }.collect();
            proptest::prop_assert_eq!(fast, general);
        }
    }

    #[test]
    fn empty_entries_are_rejected() {
        let err = TokenSet::parse("password,,token").err().unwrap_or_default();
        assert!(err.contains("entry \"\""), "{err}");
        assert!(err.contains("no letters or digits"), "{err}");
        assert!(TokenSet::parse("  ").is_err());
    }
}
