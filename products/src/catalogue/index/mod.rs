//! The search index each replica keeps in memory: every product's words
//! (title and description, English-stemmed) and the fields listings filter,
//! sort and count by, in a tantivy index held in RAM.
//!
//! * **Built on start** from the database ([`feed::rebuild`]), before the
//!   service listens; nothing is kept on disk.
//! * **Kept fresh** from the change feed the database keeps
//!   (`catalogue_changes`, seventh migration): a refresher task reads the
//!   changes past the version the index is at, re-reads those products and
//!   replaces their documents ([`feed::refresh`]), every
//!   [`REFRESH_EVERY`], and at once when a request finds the database ahead
//!   of the index. A request that reads the index first waits for it to
//!   reach the catalogue version the request saw ([`SearchIndex::reach`],
//!   at most [`CATCH_UP_WAIT`]), so a write through any replica is in the
//!   next search on every replica.
//! * **Bounded**: the writer's buffer is [`WRITER_MEMORY`]; the index itself
//!   grows with the catalogue (each document: the words, the filter and
//!   sort columns, and the product's JSON, so a page read from the index
//!   needs no database read); `q` is bounded in `list/params.rs`.
//!
//! Listings read it through `list/indexed.rs`.

pub mod feed;
pub mod sorted;
pub mod text;
pub mod title_order;

use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::Duration;

use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::{
    DocAddress, Index, IndexReader, IndexWriter, ReloadPolicy, Searcher, TantivyDocument, Term,
};
use tokio::sync::{Notify, watch};

use self::sorted::SortedViews;
use self::title_order::TitleOrder;
use super::entity;
use super::product::Product;

/// How often the refresher looks for changes when nobody asks it to.
pub const REFRESH_EVERY: Duration = Duration::from_millis(250);

/// Longest a request waits for the index to reach the catalogue version it
/// saw before it is answered from the index as it is.
pub const CATCH_UP_WAIT: Duration = Duration::from_secs(1);

/// The index writer's buffer (tantivy's minimum is 15 MB).
pub const WRITER_MEMORY: usize = 32 * 1024 * 1024;

/// The fields of an indexed product.
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    /// Product id (indexed, to replace a product's document; fast, to read).
    pub id: Field,
    /// Title words.
    pub title: Field,
    /// Description words.
    pub description: Field,
    /// Exact category (indexed for the filter, fast for the facet).
    pub category: Field,
    /// Exact brand, absent when the product has none.
    pub brand: Field,
    /// Price in minor units.
    pub price: Field,
    /// 1 with stock, 0 without.
    pub in_stock: Field,
    /// Creation time, nanoseconds since the epoch.
    pub created: Field,
    /// The product's place in title order, for `sort=title`
    /// ([`title_order`]).
    pub title_rank: Field,
    /// The product as the API shows it (JSON), stored: a page read from
    /// the index needs no database read for its items.
    pub product: Field,
    /// Every distinct word of title and description, lower-cased and
    /// accent-folded but neither stemmed nor dropped, one term each: what
    /// a substring of the text can be made of ([`text::substring_words`]).
    pub words_raw: Field,
    /// The same words spelled backwards, so "a word ending in X" is a
    /// term range too.
    pub words_rev: Field,
}

/// The analyzer of title and description words, registered by this name.
pub const WORDS: &str = "shop_words";

/// Column names listings sort and count by.
pub const ID: &str = "id";
/// See [`ID`].
pub const PRICE: &str = "price";
/// See [`ID`].
pub const CREATED: &str = "created";
/// See [`ID`].
pub const TITLE_RANK: &str = "title_rank";
/// See [`ID`].
pub const CATEGORY: &str = "category";
/// See [`ID`].
pub const BRAND: &str = "brand";

fn schema() -> (Schema, Fields) {
    let mut builder = Schema::builder();
    let words = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(WORDS)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let fields = Fields {
        id: builder.add_u64_field(ID, INDEXED | FAST),
        title: builder.add_text_field("title", words.clone()),
        description: builder.add_text_field("description", words),
        category: builder.add_text_field(CATEGORY, STRING | FAST),
        brand: builder.add_text_field(BRAND, STRING | FAST),
        price: builder.add_i64_field(PRICE, INDEXED | FAST),
        in_stock: builder.add_u64_field("in_stock", INDEXED),
        created: builder.add_i64_field(CREATED, FAST),
        title_rank: builder.add_u64_field(TITLE_RANK, FAST),
        product: builder.add_bytes_field("product", STORED),
        words_raw: builder.add_text_field("words_raw", STRING),
        words_rev: builder.add_text_field("words_rev", STRING),
    };
    (builder.build(), fields)
}

/// The in-memory search index of the catalogue (see the module comment).
pub struct SearchIndex {
    fields: Fields,
    /// The words analyzer, built once (cloned per query).
    analyzer: tantivy::tokenizer::TextAnalyzer,
    /// The analyzer of `words_raw` (used when writing documents).
    raw_words: Mutex<tantivy::tokenizer::TextAnalyzer>,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    /// The title order of the documents written (the writer's side: it
    /// changes with `put`, and is replaced when a rebuild is published).
    titles: Mutex<TitleOrder>,
    /// The whole catalogue in each sort order, for one view of the index
    /// (`sorted.rs`).
    views: RwLock<Option<Arc<SortedViews>>>,
    /// The catalogue version the index reflects.
    applied: watch::Sender<i64>,
    /// Wakes the refresher before its next round.
    nudge: Notify,
}

impl std::fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchIndex")
            .field("applied", &*self.applied.borrow())
            .finish_non_exhaustive()
    }
}

/// What went wrong inside the index.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// tantivy refused an operation.
    #[error("search index: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    /// The database could not be read.
    #[error("search index: {0}")]
    Database(#[from] sea_orm::DbErr),
    /// A background task failed.
    #[error("search index: {0}")]
    Task(String),
    /// A product could not be rendered as JSON.
    #[error("search index: {0}")]
    Json(#[from] serde_json::Error),
    /// The title order has no room left where a title goes: rebuild.
    #[error("search index: {0}")]
    TitlesExhausted(#[from] title_order::Exhausted),
}

impl SearchIndex {
    /// An empty index at version 0.
    pub fn empty() -> Result<SearchIndex, IndexError> {
        let (schema, fields) = schema();
        let index = Index::create_in_ram(schema);
        let analyzer = text::analyzer();
        index.tokenizers().register(WORDS, analyzer.clone());
        let writer = index.writer_with_num_threads(1, WRITER_MEMORY)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(SearchIndex {
            fields,
            analyzer,
            raw_words: Mutex::new(text::raw_analyzer()),
            reader,
            writer: Mutex::new(writer),
            titles: Mutex::new(TitleOrder::default()),
            views: RwLock::new(None),
            applied: watch::Sender::new(0),
            nudge: Notify::new(),
        })
    }

    /// The fields, for building queries.
    pub fn fields(&self) -> Fields {
        self.fields
    }

    /// Builds queries for `q`'s words with the index's analyzer.
    pub fn text_queries(&self) -> text::TextQueries {
        text::TextQueries::with_analyzer(self.fields, self.analyzer.clone())
    }

    /// A consistent view of the index as of its last refresh.
    pub fn searcher(&self) -> Searcher {
        self.reader.searcher()
    }

    /// Whether the sorted lists of the whole catalogue are of the current
    /// view of the index.
    pub fn views_current(&self) -> bool {
        let searcher = self.searcher();
        self.views().is_some_and(|views| views.is_of(&searcher))
    }

    fn views(&self) -> Option<Arc<SortedViews>> {
        match self.views.read() {
            Ok(views) => views.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Build the sorted lists of the whole catalogue for the current view
    /// of the index (nothing if they are of it already). CPU-bound: call
    /// it off the async threads.
    pub fn build_views(&self) -> Result<(), IndexError> {
        let searcher = self.searcher();
        if self.views().is_some_and(|views| views.is_of(&searcher)) {
            return Ok(());
        }
        let built = Arc::new(SortedViews::build(&searcher)?);
        match self.views.write() {
            Ok(mut views) => *views = Some(built),
            Err(poisoned) => *poisoned.into_inner() = Some(built),
        }
        Ok(())
    }

    /// The documents of `[offset, offset + count)` of the whole catalogue
    /// in `key` order, with the view of the index they belong to; `None`
    /// while the sorted lists are not of the current view.
    pub fn whole_catalogue(
        &self,
        key: sorted::Key,
        descending: bool,
        offset: u64,
        count: u64,
    ) -> Option<(Searcher, Vec<DocAddress>)> {
        let searcher = self.searcher();
        let page = self
            .views()?
            .page(&searcher, key, descending, offset, count)?;
        Some((searcher, page))
    }

    /// The catalogue version the index reflects.
    pub fn applied(&self) -> i64 {
        *self.applied.borrow()
    }

    /// Wait until the index reflects `version` (asking the refresher to
    /// look now), for at most [`CATCH_UP_WAIT`]; `false` if it did not.
    pub async fn reach(&self, version: i64) -> bool {
        if self.applied() >= version {
            return true;
        }
        let mut applied = self.applied.subscribe();
        self.nudge.notify_one();
        tokio::time::timeout(CATCH_UP_WAIT, applied.wait_for(|at| *at >= version))
            .await
            .is_ok_and(|seen| seen.is_ok())
    }

    fn writer(&self) -> Result<MutexGuard<'_, IndexWriter>, IndexError> {
        self.writer
            .lock()
            .map_err(|_| IndexError::Task("the index writer was poisoned".into()))
    }

    fn titles(&self) -> MutexGuard<'_, TitleOrder> {
        // Only the refresher changes the order, one step at a time; a
        // panic in between leaves entries the next refresh of those ids
        // replaces.
        self.titles
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Drop every document (a rebuild follows), pending until published.
    fn clear(&self) -> Result<(), IndexError> {
        self.writer()?.delete_all_documents()?;
        Ok(())
    }

    /// Drop the documents of the `removed` ids and add `rows` (a row whose
    /// id is in `removed` replaces its document), pending until published;
    /// the rows take their places in the title order.
    fn put(&self, removed: &[i64], rows: &[entity::Model]) -> Result<(), IndexError> {
        let writer = self.writer()?;
        let mut titles = self.titles();
        for id in removed {
            writer.delete_term(Term::from_field_u64(self.fields.id, id_value(*id)));
            titles.remove(*id);
        }
        for row in rows {
            let rank = titles.insert(row.id, &row.title)?;
            writer.add_document(self.document(row, rank)?)?;
        }
        Ok(())
    }

    /// Add `rows` ranked by `titles` (a rebuild's order, not yet the
    /// index's), pending until published.
    fn put_ranked(
        &self,
        rows: &[entity::Model],
        titles: &mut TitleOrder,
    ) -> Result<(), IndexError> {
        let writer = self.writer()?;
        for row in rows {
            let rank = match titles.rank(row.id) {
                Some(rank) => rank,
                None => titles.insert(row.id, &row.title)?,
            };
            writer.add_document(self.document(row, rank)?)?;
        }
        Ok(())
    }

    /// The title order of a published rebuild.
    fn set_titles(&self, titles: TitleOrder) {
        *self.titles() = titles;
    }

    /// Forget the pending changes.
    fn discard(&self) -> Result<(), IndexError> {
        self.writer()?.rollback()?;
        Ok(())
    }

    /// Make the pending changes visible, as the catalogue at `version`.
    fn publish(&self, version: i64) -> Result<(), IndexError> {
        self.writer()?.commit()?;
        self.reader.reload()?;
        self.applied.send_replace(version);
        Ok(())
    }

    fn document(
        &self,
        row: &entity::Model,
        title_rank: u64,
    ) -> Result<TantivyDocument, IndexError> {
        let f = &self.fields;
        let mut doc = TantivyDocument::default();
        doc.add_u64(f.id, id_value(row.id));
        doc.add_text(f.title, &row.title);
        doc.add_text(f.description, &row.description);
        doc.add_text(f.category, &row.category);
        if let Some(brand) = &row.brand {
            doc.add_text(f.brand, brand);
        }
        doc.add_i64(f.price, row.price_minor);
        doc.add_u64(f.in_stock, u64::from(row.stock_qty > 0));
        let created = i64::try_from(row.created_at.unix_timestamp_nanos()).unwrap_or(i64::MAX);
        doc.add_i64(f.created, created);
        doc.add_u64(f.title_rank, title_rank);
        doc.add_bytes(f.product, &serde_json::to_vec(&Product::from(row.clone()))?);
        let mut words = std::collections::BTreeSet::new();
        {
            let mut analyzer = self
                .raw_words
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            for text in [&row.title, &row.description] {
                let mut stream = analyzer.token_stream(text);
                while stream.advance() {
                    words.insert(stream.token().text.clone());
                }
            }
        }
        for word in words {
            doc.add_text(f.words_rev, word.chars().rev().collect::<String>());
            doc.add_text(f.words_raw, word);
        }
        Ok(doc)
    }
}

/// A product id as the index stores it (ids are positive).
pub fn id_value(id: i64) -> u64 {
    u64::try_from(id).unwrap_or(0)
}

/// The index, shared by the handlers and the refresher.
pub type SharedIndex = Arc<SearchIndex>;
