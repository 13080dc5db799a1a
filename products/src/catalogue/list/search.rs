//! `?q=`: word search first, substring search when no word matches.
//!
//! Words use web-search syntax on both backends: words must all match
//! (stemmed: `kettles` finds `kettle`), `"a phrase"` matches in order, `or`
//! between words offers alternatives, `-word` excludes. PostgreSQL parses
//! it itself (`websearch_to_tsquery('english', q)` over the weighted
//! `search_vector`, title `A`, description `B`); on SQLite [`fts5_query`]
//! writes the same query for the Porter-stemmed FTS5 table
//! `products_words`. Matches are ranked in [`tiers`] (all words before
//! some, title before description, then newest), which are read in index
//! order a page at a time rather than by scoring every match
//! (`super::relevance`). When the words match nothing (a partial word such
//! as `kett`, or text with no word in it such as `%`), `q` is matched as a
//! case-insensitive substring, as before word search existed: trigram
//! indexes serve it (FTS5 `trigram` on SQLite from 3 characters, `pg_trgm`
//! on PostgreSQL).

use common::db::contains_pattern;
use sea_orm::sea_query::{Expr, ExprTrait, Func, SimpleExpr};
use sea_orm::{DbBackend, Order, QueryFilter, QueryOrder, Select};

use super::super::entity::{Column, Entity};

/// How `q` is matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Matching {
    /// Stemmed words, ranked.
    Words,
    /// A case-insensitive substring of title or description.
    Substring,
}

/// Shortest text the SQLite trigram index can answer.
const TRIGRAM: usize = 3;

/// Where `q` can be matched as words: on PostgreSQL always (a text with no
/// word simply matches nothing); on SQLite when it has a word.
pub(super) fn words_possible(q: &str, backend: DbBackend) -> bool {
    backend == DbBackend::Postgres || fts5_query(q).is_some()
}

/// The products whose text matches `q` the given way.
pub(super) fn condition(q: &str, matching: Matching, backend: DbBackend) -> SimpleExpr {
    match (matching, backend) {
        (Matching::Words, DbBackend::Postgres) => Expr::cust_with_values(
            "\"products\".\"search_vector\" @@ websearch_to_tsquery('english', $1)",
            [q],
        ),
        (Matching::Words, _) => Expr::cust_with_values(
            "\"products\".\"id\" IN (SELECT rowid FROM products_words WHERE products_words MATCH ?)",
            [fts5_query(q).unwrap_or_default()],
        ),
        (Matching::Substring, DbBackend::Sqlite) if q.chars().count() >= TRIGRAM => {
            let phrase = format!("\"{}\"", q.replace('"', "\"\""));
            Expr::cust_with_values(
                "\"products\".\"id\" IN (SELECT rowid FROM products_search WHERE products_search MATCH ?)",
                [phrase],
            )
        }
        (Matching::Substring, _) => {
            let pattern = contains_pattern(q);
            let contains =
                |column: Column| Expr::expr(Func::lower(Expr::col(column))).like(pattern.clone());
            contains(Column::Title).or(contains(Column::Description))
        }
    }
}

/// `select` (already filtered by everything but `q`) narrowed to `q`
/// matched as a substring, titles first, the id (newest first) breaking
/// ties. (Words are ordered by [`tiers`].)
pub(super) fn by_substring_relevance(
    select: Select<Entity>,
    q: &str,
    backend: DbBackend,
) -> Select<Entity> {
    let in_title =
        Expr::expr(Func::lower(Expr::col((Entity, Column::Title)))).like(contains_pattern(q));
    select
        .filter(condition(q, Matching::Substring, backend))
        .order_by(
            Into::<SimpleExpr>::into(Expr::case(in_title, 0).finally(1)),
            Order::Asc,
        )
        .order_by(Column::Id, Order::Desc)
}

/// One term of `q`: a word or a `"quoted phrase"`, maybe `-`excluded.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Term {
    negated: bool,
    quoted: bool,
    text: String,
}

/// `q` in web-search syntax as groups of terms: the groups are the
/// alternatives (`or`), the terms of a group must all match.
fn groups(q: &str) -> Vec<Vec<Term>> {
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

/// `q` without its alternatives: every term of every group required, in
/// web-search syntax again; `None` when `q` has no `or`.
fn all_terms(q: &str) -> Option<String> {
    let groups = groups(q);
    if groups.len() < 2 {
        return None;
    }
    let terms: Vec<String> = groups
        .iter()
        .flatten()
        .map(|term| {
            let sign = if term.negated { "-" } else { "" };
            if term.quoted {
                format!("{sign}\"{}\"", term.text)
            } else {
                format!("{sign}{}", term.text)
            }
        })
        .collect();
    Some(terms.join(" "))
}

/// `q` in web-search syntax as an FTS5 query, or `None` when it has no
/// word to search for. Every term is quoted (FTS5 then splits it into
/// tokens as it indexed the text), so no user text is ever FTS5 syntax.
/// A group with nothing but exclusions is dropped: FTS5 cannot say "all
/// rows but".
pub(super) fn fts5_query(q: &str) -> Option<String> {
    let clauses: Vec<String> = groups(q)
        .iter()
        .map(|group| {
            group
                .iter()
                .filter(|term| term.text.chars().any(char::is_alphanumeric))
                .map(|term| {
                    let quoted = format!("\"{}\"", term.text.replace('"', "\"\""));
                    (term.negated, quoted)
                })
                .collect::<Vec<_>>()
        })
        .filter(|group| group.iter().any(|(negated, _)| !negated))
        .map(|group| {
            let wanted: Vec<&str> = group
                .iter()
                .filter(|(negated, _)| !negated)
                .map(|(_, term)| term.as_str())
                .collect();
            let mut clause = format!("({}", wanted.join(" AND "));
            for (_, term) in group.iter().filter(|(negated, _)| *negated) {
                clause.push_str(" NOT ");
                clause.push_str(term);
            }
            clause.push(')');
            clause
        })
        .collect();
    (!clauses.is_empty()).then(|| clauses.join(" OR "))
}

/// The relevance tiers of a word search, best first: conditions that,
/// applied on top of [`condition`] (`Matching::Words`), split the matches
/// into buckets, as search engines' ranking rules do. A product belongs
/// to the first tier it meets (the caller excludes the earlier tiers);
/// within a tier the newest comes first.
///
/// 1. every word of `q` in the title;
/// 2. every word of `q` somewhere, some of them in the description;
/// 3. one alternative of `q` (`a or b`) wholly in the title;
/// 4. every other match (no condition of its own: with the earlier tiers
///    excluded it is the rest, so every match is in exactly one tier).
///
/// Tiers 1 and 2 exist only when `q` has alternatives (else every match
/// has every word): all words beat some words, then a title match beats a
/// description match. Tier 2's description condition is one an index
/// answers (and what its members have): a tier with few or no members is
/// then found in the index rather than by walking the table.
pub(super) fn tiers(q: &str, backend: DbBackend) -> Vec<SimpleExpr> {
    let mut tiers = Vec::new();
    if let Some(all) = all_terms(q) {
        tiers.push(in_title(&all, backend));
        let mut some = anywhere(&all, backend);
        if let Some(described) = in_description(&all, backend) {
            some = some.and(described);
        }
        tiers.push(some);
    }
    tiers.push(in_title(q, backend));
    tiers.push(Expr::cust("TRUE"));
    tiers
}

/// The words of `q` all matched somewhere (as [`condition`] does).
fn anywhere(q: &str, backend: DbBackend) -> SimpleExpr {
    condition(q, Matching::Words, backend)
}

/// The words of `q` matched by the title alone.
fn in_title(q: &str, backend: DbBackend) -> SimpleExpr {
    match backend {
        DbBackend::Postgres => Expr::cust_with_values(
            "\"products\".\"title_vector\" @@ websearch_to_tsquery('english', $1)",
            [q],
        ),
        _ => {
            let query = fts5_query(q).map(|fts| format!("{{title}} : ({fts})"));
            Expr::cust_with_values(
                "\"products\".\"id\" IN (SELECT rowid FROM products_words WHERE products_words MATCH ?)",
                [query.unwrap_or_default()],
            )
        }
    }
}

/// Some wanted (not excluded) word of `q` in the description; `None` when
/// `q` wants no word.
fn in_description(q: &str, backend: DbBackend) -> Option<SimpleExpr> {
    let wanted: Vec<Term> = groups(q)
        .into_iter()
        .flatten()
        .filter(|term| !term.negated && term.text.chars().any(char::is_alphanumeric))
        .collect();
    if wanted.is_empty() {
        return None;
    }
    Some(match backend {
        DbBackend::Postgres => {
            let any: Vec<String> = (1..=wanted.len())
                .map(|at| format!("websearch_to_tsquery('english', ${at})"))
                .collect();
            let any = any.join(" || ");
            let texts: Vec<String> = wanted
                .iter()
                .map(|term| format!("\"{}\"", term.text))
                .collect();
            Expr::cust_with_values(
                format!("\"products\".\"description_vector\" @@ ({any})"),
                texts,
            )
        }
        _ => {
            let any: Vec<String> = wanted
                .iter()
                .map(|term| format!("\"{}\"", term.text.replace('"', "\"\"")))
                .collect();
            Expr::cust_with_values(
                "\"products\".\"id\" IN (SELECT rowid FROM products_words WHERE products_words MATCH ?)",
                [format!("{{description}} : ({})", any.join(" OR "))],
            )
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_all_required_and_quoted() {
        assert_eq!(
            fts5_query("granite kettle").as_deref(),
            Some("(\"granite\" AND \"kettle\")")
        );
        assert_eq!(
            fts5_query("phone-free").as_deref(),
            Some("(\"phone-free\")")
        );
    }

    #[test]
    fn phrases_alternatives_and_exclusions_follow_web_search_syntax() {
        assert_eq!(
            fts5_query("\"smart phone\" or mug -red").as_deref(),
            Some("(\"smart phone\") OR (\"mug\" NOT \"red\")")
        );
        assert_eq!(
            fts5_query("tent -\"two person\"").as_deref(),
            Some("(\"tent\" NOT \"two person\")")
        );
        assert_eq!(
            fts5_query("\"unclosed phrase").as_deref(),
            Some("(\"unclosed phrase\")")
        );
    }

    #[test]
    fn alternatives_dropped_require_every_term() {
        assert_eq!(all_terms("kettle lamp"), None);
        assert_eq!(
            all_terms("kettle or \"desk lamp\" -red").as_deref(),
            Some("kettle \"desk lamp\" -red")
        );
        assert_eq!(tiers("kettle", DbBackend::Postgres).len(), 2);
        assert_eq!(tiers("kettle or lamp", DbBackend::Sqlite).len(), 4);
    }

    #[test]
    fn text_without_a_word_is_no_word_query() {
        assert_eq!(fts5_query("%"), None);
        assert_eq!(fts5_query("-mug"), None);
        assert_eq!(fts5_query("or"), None);
        assert_eq!(fts5_query("\"\""), None);
        assert!(!words_possible("%", DbBackend::Sqlite));
        assert!(words_possible("%", DbBackend::Postgres));
    }

    #[test]
    fn fts5_syntax_in_user_text_stays_text() {
        assert_eq!(
            fts5_query("a\"b NEAR(c) d*").as_deref(),
            Some("(\"a\" AND \"b NEAR(c) d*\")")
        );
        assert_eq!(fts5_query("x^y").as_deref(), Some("(\"x^y\")"));
    }
}
