//! `?q=` in web-search syntax, as queries on the search index, and the
//! relevance tiers of a word search.
//!
//! Words must all match, in the title or the description (each word in
//! either), stemmed for English (`kettles` finds `kettle`), English stop
//! words dropped (`the kettle` = `kettle`), accents folded; `"a phrase"`
//! matches its words in that order within one field; `or` between terms
//! offers alternatives; `-word` excludes. An alternative with nothing but
//! exclusions is dropped (no index can say "all products but" cheaply),
//! so `-mug` alone matches nothing and falls back to substring search.
//! Every term is only text: there is no other syntax.

use std::ops::Bound;

use tantivy::query::{AllQuery, BooleanQuery, Occur, PhraseQuery, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer,
    StopWordFilter, TextAnalyzer,
};

use super::Fields;

/// Longest word indexed, in bytes (longer ones are dropped, as noise).
const WORD_MAX: usize = 40;

/// The analyzer of title and description words, and of `q`'s terms.
pub fn analyzer() -> TextAnalyzer {
    let builder = TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(WORD_MAX))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter);
    match StopWordFilter::new(Language::English) {
        Some(stop) => builder
            .filter(stop)
            .filter(Stemmer::new(Language::English))
            .build(),
        None => builder.filter(Stemmer::new(Language::English)).build(),
    }
}

/// The analyzer of the `words_raw` field: words as they are written,
/// lower-cased and accent-folded, whatever their length (a substring of a
/// long word must still be found in it).
pub fn raw_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build()
}

/// What a text containing `q` as a substring must have among its words
/// (`words_raw`), for `q` of at least two ASCII words; `None` otherwise
/// (nothing to say cheaply).
///
/// Inside `q`, a word with a separator on both sides is a whole word of
/// the text; the first word may be the end of a longer one (unless `q`
/// starts with a separator) and the last the start of one (unless `q` ends
/// with one). Lower-casing and folding only make the condition wider, so a
/// product without these words cannot contain `q`, in SQL's `LIKE` or
/// SQLite's trigram match alike. One word alone is left to the database's
/// trigram index, which answers it quickly.
pub fn substring_words(q: &str) -> Option<Vec<SubstringWord>> {
    if !q.is_ascii() {
        return None;
    }
    let words: Vec<&str> = q
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|word| !word.is_empty())
        .collect();
    if words.len() < 2 {
        return None;
    }
    let starts_inside = q.starts_with(|c: char| c.is_ascii_alphanumeric());
    let ends_inside = q.ends_with(|c: char| c.is_ascii_alphanumeric());
    let last = words.len() - 1;
    Some(
        words
            .iter()
            .enumerate()
            .map(|(at, word)| {
                let text = word.to_ascii_lowercase();
                if at == 0 && starts_inside {
                    SubstringWord::EndOf(text)
                } else if at == last && ends_inside {
                    SubstringWord::StartOf(text)
                } else {
                    SubstringWord::Whole(text)
                }
            })
            .collect(),
    )
}

/// One word a text containing a substring must have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubstringWord {
    /// This very word.
    Whole(String),
    /// A word ending with this.
    EndOf(String),
    /// A word starting with this.
    StartOf(String),
}

/// One term of `q`: a word or a `"quoted phrase"`, maybe `-`excluded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    /// `-term`: products with it are left out.
    pub negated: bool,
    /// `"..."`: its words in this order.
    pub quoted: bool,
    /// The text as written (inside the quotes).
    pub text: String,
}

/// `q` in web-search syntax as groups of terms: the groups are the
/// alternatives (`or`), the terms of a group must all match.
pub fn groups(q: &str) -> Vec<Vec<Term>> {
    let mut groups: Vec<Vec<Term>> = vec![Vec::new()];
    let mut rest = q.trim_start();
    while !rest.is_empty() {
        let negated = rest.starts_with('-');
        if negated {
            rest = &rest[1..];
        }
        let (term, quoted, after) = match rest.strip_prefix('"') {
            Some(inner) => {
                let end = inner.find('"').unwrap_or(inner.len());
                (&inner[..end], true, inner.get(end + 1..).unwrap_or(""))
            }
            None => {
                let end = rest
                    .find(|c: char| c.is_whitespace() || c == '"')
                    .unwrap_or(rest.len());
                (&rest[..end], false, &rest[end..])
            }
        };
        rest = after.trim_start();
        if term == "or" && !quoted && !negated {
            groups.push(Vec::new());
            continue;
        }
        if let Some(group) = groups.last_mut() {
            group.push(Term {
                negated,
                quoted,
                text: term.to_string(),
            });
        }
    }
    groups
}

/// How many terms (words and phrases, excluded or not) `q` has.
pub fn term_count(q: &str) -> usize {
    groups(q).iter().map(Vec::len).sum()
}

/// The products `q` matches as words, and its relevance tiers, best first.
pub struct WordSearch {
    /// Every product the words match.
    pub matching: Box<dyn Query>,
    /// Conditions that split the matches into tiers (see
    /// [`TextQueries::matching`]); the last one is every product.
    pub tiers: Vec<Box<dyn Query>>,
}

/// Builds index queries for `q`'s terms.
pub struct TextQueries {
    fields: Fields,
    analyzer: TextAnalyzer,
}

impl TextQueries {
    /// Queries over `fields`, with a new [`analyzer`].
    pub fn new(fields: Fields) -> TextQueries {
        TextQueries::with_analyzer(fields, analyzer())
    }

    /// Queries over `fields` with `analyzer` (a clone of the index's: the
    /// stop word set is built once, not per request).
    pub fn with_analyzer(fields: Fields, analyzer: TextAnalyzer) -> TextQueries {
        TextQueries { fields, analyzer }
    }

    /// The indexed words of `text`, with their positions.
    fn words(&mut self, text: &str) -> Vec<(usize, String)> {
        let mut stream = self.analyzer.token_stream(text);
        let mut words = Vec::new();
        while stream.advance() {
            let token = stream.token();
            words.push((token.position, token.text.clone()));
        }
        words
    }

    /// `term` found in any of `fields`; `None` when it has no word.
    fn term(&mut self, term: &Term, fields: &[Field]) -> Option<Box<dyn Query>> {
        let words = self.words(&term.text);
        if words.is_empty() {
            return None;
        }
        let first = words[0].0;
        let per_field: Vec<Box<dyn Query>> = fields
            .iter()
            .map(|field| -> Box<dyn Query> {
                if let [(_, word)] = &words[..] {
                    let term = tantivy::Term::from_field_text(*field, word);
                    return Box::new(TermQuery::new(term, IndexRecordOption::Basic));
                }
                let terms = words
                    .iter()
                    .map(|(at, word)| (at - first, tantivy::Term::from_field_text(*field, word)))
                    .collect();
                Box::new(PhraseQuery::new_with_offset(terms))
            })
            .collect();
        Some(any(per_field))
    }

    /// Every wanted term of `group` in some field of `fields`, no
    /// excluded one; `None` when the group wants no word.
    fn group(&mut self, group: &[Term], fields: &[Field]) -> Option<Box<dyn Query>> {
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for term in group {
            let Some(query) = self.term(term, fields) else {
                continue;
            };
            let occur = if term.negated {
                Occur::MustNot
            } else {
                Occur::Must
            };
            clauses.push((occur, query));
        }
        clauses
            .iter()
            .any(|(occur, _)| *occur == Occur::Must)
            .then(|| Box::new(BooleanQuery::new(clauses)) as Box<dyn Query>)
    }

    /// Some alternative of `groups` in `fields`; `None` when none wants a word.
    fn alternatives(&mut self, groups: &[Vec<Term>], fields: &[Field]) -> Option<Box<dyn Query>> {
        let found: Vec<Box<dyn Query>> = groups
            .iter()
            .filter_map(|group| self.group(group, fields))
            .collect();
        (!found.is_empty()).then(|| any(found))
    }

    /// The products `q` matches as words, and its relevance tiers: conditions
    /// that, applied on top of the match, split it into buckets, best
    /// first. A product belongs to the first tier it meets (the caller
    /// excludes the earlier ones); the last tier is the rest.
    ///
    /// 1. every word of `q` in the title;
    /// 2. every word of `q` somewhere, some of them in the description;
    /// 3. one alternative of `q` (`a or b`) wholly in the title;
    /// 4. every other match.
    ///
    /// Tiers 1 and 2 exist only when `q` has alternatives (else every match
    /// has every word): all words beat some words, then a title match
    /// beats a description match. `None` when `q` has no word to search.
    pub fn matching(&mut self, q: &str) -> Option<WordSearch> {
        let groups = groups(q);
        let (title, description) = (self.fields.title, self.fields.description);
        let both = [title, description];
        let matching = self.alternatives(&groups, &both)?;
        let mut tiers: Vec<Box<dyn Query>> = Vec::new();
        if groups.len() > 1 {
            let all: Vec<Term> = groups.iter().flatten().cloned().collect();
            if let Some(in_title) = self.group(&all, &[title]) {
                tiers.push(in_title);
            }
            let described: Vec<Box<dyn Query>> = all
                .iter()
                .filter(|term| !term.negated)
                .filter_map(|term| self.term(term, &[description]))
                .collect();
            if let Some(everywhere) = self.group(&all, &both)
                && !described.is_empty()
            {
                tiers.push(every(vec![everywhere, any(described)]));
            }
        }
        if let Some(in_title) = self.alternatives(&groups, &[title]) {
            tiers.push(in_title);
        }
        tiers.push(Box::new(AllQuery));
        Some(WordSearch { matching, tiers })
    }
}

/// Products matching any of `queries`.
pub fn any(mut queries: Vec<Box<dyn Query>>) -> Box<dyn Query> {
    if queries.len() == 1 {
        return queries.remove(0);
    }
    Box::new(BooleanQuery::union(queries))
}

/// Products matching all of `queries`.
pub fn every(mut queries: Vec<Box<dyn Query>>) -> Box<dyn Query> {
    if queries.len() == 1 {
        return queries.remove(0);
    }
    Box::new(BooleanQuery::intersection(queries))
}

/// An inclusive range of `field` (i64), open where a bound is `None`.
pub fn i64_range(field: Field, min: Option<i64>, max: Option<i64>) -> Box<dyn Query> {
    let bound = |value: Option<i64>| match value {
        Some(value) => Bound::Included(tantivy::Term::from_field_i64(field, value)),
        None => Bound::Unbounded,
    };
    Box::new(tantivy::query::RangeQuery::new(bound(min), bound(max)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        let mut analyzer = analyzer();
        let mut stream = analyzer.token_stream(text);
        let mut words = Vec::new();
        while stream.advance() {
            words.push(stream.token().text.clone());
        }
        words
    }

    #[test]
    fn words_are_stemmed_folded_and_stop_words_dropped() {
        assert_eq!(words("The Kettles"), ["kettl"]);
        assert_eq!(words("holding"), words("holds"));
        assert_eq!(words("Café"), ["cafe"]);
        assert_eq!(words("100% phone-free"), ["100", "phone", "free"]);
        assert!(words("%").is_empty());
    }

    #[test]
    fn phrases_alternatives_and_exclusions_follow_web_search_syntax() {
        let parsed = groups("\"smart phone\" or mug -red");
        assert_eq!(parsed.len(), 2);
        assert!(parsed[0][0].quoted);
        assert_eq!(parsed[0][0].text, "smart phone");
        assert_eq!(
            parsed[1],
            [
                Term {
                    negated: false,
                    quoted: false,
                    text: "mug".into()
                },
                Term {
                    negated: true,
                    quoted: false,
                    text: "red".into()
                }
            ]
        );
        assert_eq!(groups("\"unclosed phrase")[0][0].text, "unclosed phrase");
        assert_eq!(term_count("tent -\"two person\" or lamp"), 3);
    }

    #[test]
    fn a_substring_of_several_words_needs_them_in_the_text() {
        use SubstringWord::{EndOf, StartOf, Whole};
        let words = |q: &str| substring_words(q);
        assert_eq!(
            words("falcon orbit"),
            Some(vec![EndOf("falcon".into()), StartOf("orbit".into())])
        );
        assert_eq!(
            words(" big red-kettle."),
            Some(vec![
                Whole("big".into()),
                Whole("red".into()),
                Whole("kettle".into())
            ])
        );
        assert_eq!(
            words("ig red ket"),
            Some(vec![
                EndOf("ig".into()),
                Whole("red".into()),
                StartOf("ket".into())
            ])
        );
        assert_eq!(words("kettle"), None, "one word: the trigram index");
        assert_eq!(words("% -"), None);
        assert_eq!(words("café noir"), None, "not ASCII");
    }

    #[test]
    fn raw_words_are_folded_but_whole() {
        let mut analyzer = raw_analyzer();
        let mut stream = analyzer.token_stream(
            "The Café's KETTLES, extraordinarilylongwordthatgoesonandonforeverandever",
        );
        let mut words = Vec::new();
        while stream.advance() {
            words.push(stream.token().text.clone());
        }
        assert_eq!(
            words,
            [
                "the",
                "cafe",
                "s",
                "kettles",
                "extraordinarilylongwordthatgoesonandonforeverandever"
            ]
        );
    }

    #[test]
    fn text_without_a_wanted_word_matches_nothing() {
        let (_, fields) = super::super::schema();
        let mut queries = TextQueries::new(fields);
        for q in ["%", "-mug", "or", "\"\"", "the"] {
            assert!(queries.matching(q).is_none(), "{q}");
        }
        let search = queries.matching("kettle").expect("words");
        assert_eq!(search.tiers.len(), 2);
        let search = queries.matching("kettle or lamp").expect("words");
        assert_eq!(search.tiers.len(), 4);
    }
}
