//! `?q=`: word search first, substring search when no word matches.
//!
//! Words use web-search syntax on both backends: words must all match
//! (stemmed: `kettles` finds `kettle`), `"a phrase"` matches in order, `or`
//! between words offers alternatives, `-word` excludes. PostgreSQL parses
//! it itself (`websearch_to_tsquery('english', q)` over the weighted
//! `search_vector`, ranked by `ts_rank`: title `A` over description `B`);
//! on SQLite [`fts5_query`] writes the same query for the Porter-stemmed
//! FTS5 table `products_words`, ranked by `bm25` with the title weighted
//! over the description. When the words match nothing (a partial word such
//! as `kett`, or text with no word in it such as `%`), `q` is matched as a
//! case-insensitive substring, as before word search existed: trigram
//! indexes serve it (FTS5 `trigram` on SQLite from 3 characters, `pg_trgm`
//! on PostgreSQL).

use common::db::contains_pattern;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, JoinType, Query, SimpleExpr};
use sea_orm::{DbBackend, Order, QueryFilter, QueryOrder, QueryTrait, Select};

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

/// Title weight over description in SQLite's `bm25` (PostgreSQL's default
/// `ts_rank` weights give `A` 1.0 and `B` 0.4: the same ratio).
const BM25_WEIGHTS: &str = "2.5, 1.0";

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

/// `select` (already filtered by everything but `q`) narrowed to `q` and
/// ordered best match first, the id (newest first) breaking ties.
pub(super) fn by_relevance(
    mut select: Select<Entity>,
    q: &str,
    matching: Matching,
    backend: DbBackend,
) -> Select<Entity> {
    match (matching, backend) {
        (Matching::Words, DbBackend::Postgres) => {
            select.filter(condition(q, matching, backend)).order_by(
                Expr::cust_with_values(
                    "ts_rank(\"products\".\"search_vector\", websearch_to_tsquery('english', $1))",
                    [q],
                ),
                Order::Desc,
            )
        }
        (Matching::Words, _) => {
            // The rank only exists next to the MATCH: join the hits.
            let hits = Alias::new("hits");
            let mut ranked = Query::select();
            ranked
                .expr_as(Expr::cust("rowid"), Alias::new("hit_id"))
                .expr_as(
                    Expr::cust(format!("bm25(products_words, {BM25_WEIGHTS})")),
                    Alias::new("hit_rank"),
                )
                .from(Alias::new("products_words"))
                .and_where(Expr::cust_with_values(
                    "products_words MATCH ?",
                    [fts5_query(q).unwrap_or_default()],
                ));
            QueryTrait::query(&mut select).join_subquery(
                JoinType::InnerJoin,
                ranked,
                hits.clone(),
                Expr::col((hits.clone(), Alias::new("hit_id"))).equals((Entity, Column::Id)),
            );
            select.order_by(Expr::col((hits, Alias::new("hit_rank"))), Order::Asc)
        }
        (Matching::Substring, _) => {
            let in_title = Expr::expr(Func::lower(Expr::col((Entity, Column::Title))))
                .like(contains_pattern(q));
            select.filter(condition(q, matching, backend)).order_by(
                Into::<SimpleExpr>::into(Expr::case(in_title, 0).finally(1)),
                Order::Asc,
            )
        }
    }
    .order_by(Column::Id, Order::Desc)
}

/// `q` in web-search syntax as an FTS5 query, or `None` when it has no
/// word to search for. Every term is quoted (FTS5 then splits it into
/// tokens as it indexed the text), so no user text is ever FTS5 syntax.
/// A group with nothing but exclusions is dropped: FTS5 cannot say "all
/// rows but".
pub(super) fn fts5_query(q: &str) -> Option<String> {
    let mut groups: Vec<Vec<(bool, String)>> = vec![Vec::new()];
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
        if term.chars().any(char::is_alphanumeric) {
            let quoted = format!("\"{}\"", term.replace('"', "\"\""));
            if let Some(group) = groups.last_mut() {
                group.push((negated, quoted));
            }
        }
    }
    let clauses: Vec<String> = groups
        .iter()
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
