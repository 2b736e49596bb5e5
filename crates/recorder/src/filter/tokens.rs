//! Name tokens: the words a variable or function name is made of, and the
//! `tokens` match type built on them (how the builtin filter finds secrets).
//!
//! A name splits into tokens at every character that is not a letter or a
//! digit (`_`, `-`, `.`), where a lowercase letter meets an uppercase one
//! (`userPassword` → `user`, `Password`), before the last capital of a run of
//! capitals followed by a lowercase letter (`APIKey` → `API`, `Key`), and
//! where letters meet digits (`oauth2token` → `oauth`, `2`, `token`).
//! Tokens compare case-insensitively.

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

/// The tokens of a name, as slices of it, without allocating.
#[derive(Debug, Clone)]
pub struct NameTokens<'a> {
    name: &'a str,
    position: usize,
}

impl<'a> NameTokens<'a> {
    /// The tokens of `name`.
    pub fn new(name: &'a str) -> Self {
        NameTokens { name, position: 0 }
    }
}

impl<'a> Iterator for NameTokens<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let rest = &self.name[self.position..];
        let mut chars = rest.char_indices().peekable();
        // Skip separators before the token.
        let (start, first) = loop {
            let (index, c) = chars.next()?;
            let class = classify(c);
            if class != CharClass::Separator {
                break (index, class);
            }
        };
        let mut previous = first;
        let mut end = rest.len();
        while let Some(&(index, c)) = chars.peek() {
            let class = classify(c);
            let boundary = match (previous, class) {
                (_, CharClass::Separator) => true,
                (CharClass::Lower, CharClass::Upper) => true,
                (CharClass::Digit, CharClass::Upper | CharClass::Lower)
                | (CharClass::Upper | CharClass::Lower, CharClass::Digit) => true,
                // `APIKey`: the `K` starts a new word when a lowercase letter follows it.
                (CharClass::Upper, CharClass::Upper) => {
                    let mut lookahead = chars.clone();
                    lookahead.next();
                    matches!(lookahead.peek(), Some(&(_, next)) if classify(next) == CharClass::Lower)
                }
                _ => false,
            };
            if boundary {
                end = index;
                break;
            }
            previous = class;
            chars.next();
        }
        self.position += end;
        Some(&rest[start..end])
    }
}

/// Whether a name's token equals a lowercase token.
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

/// A `tokens:` pattern: a comma-separated list of words or phrases. A name
/// matches when the tokens of one entry appear, in order and adjacent, among
/// the tokens of the name's last dotted component (for a return value, the
/// function's own name rather than its module or class).
#[derive(Debug, Clone)]
pub struct TokenSet {
    /// Each entry's tokens, lowercased.
    entries: Vec<Vec<String>>,
}

impl TokenSet {
    /// Parses `password, api_key, privateKey`; each entry is split with the
    /// same rule as names (`api_key`, `apiKey` and `api key` are alike).
    pub fn parse(list: &str) -> Result<TokenSet, String> {
        let mut entries = Vec::new();
        for entry in list.split(',') {
            let tokens: Vec<String> = NameTokens::new(entry)
                .map(|token| token.chars().flat_map(char::to_lowercase).collect())
                .collect();
            if tokens.is_empty() {
                return Err(format!(
                    "entry {:?} has no letters or digits; expected a comma-separated list of names such as `password, api_key`",
                    entry.trim()
                ));
            }
            entries.push(tokens);
        }
        Ok(TokenSet { entries })
    }

    /// Whether `name` contains one of the entries.
    pub fn matches(&self, name: &str) -> bool {
        let own_name = name.rsplit('.').next().unwrap_or(name);
        let mut tokens = NameTokens::new(own_name);
        loop {
            let from_here = tokens.clone();
            if tokens.next().is_none() {
                return false;
            }
            if self
                .entries
                .iter()
                .any(|entry| starts_with_entry(from_here.clone(), entry))
            {
                return true;
            }
        }
    }
}

fn starts_with_entry(mut tokens: NameTokens<'_>, entry: &[String]) -> bool {
    entry
        .iter()
        .all(|word| tokens.next().is_some_and(|token| token_eq(token, word)))
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
    fn only_the_last_dotted_component_counts() {
        let set = TokenSet::parse("auth").unwrap_or_else(|e| panic!("{e}"));
        assert!(!set.matches("app.auth.views.index"));
        assert!(set.matches("app.views.check_auth"));
        assert!(set.matches("Outer.<locals>.auth"));
    }

    #[test]
    fn empty_entries_are_rejected() {
        let err = TokenSet::parse("password,,token").err().unwrap_or_default();
        assert!(err.contains("no letters or digits"), "{err}");
        assert!(TokenSet::parse("  ").is_err());
    }
}
