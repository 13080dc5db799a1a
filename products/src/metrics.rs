//! The products service's own metrics: catalogue writes, stock changes
//! and stock conflicts (SPEC §10). Every labelled series exists at 0 from
//! start, so rates and alerts have data before the first event.

use common::metrics::{Counter, Registry};

/// `products_changes_total{change}`.
pub const CHANGES: &str = "products_changes_total";
/// `products_stock_changes_total{direction}`.
pub const STOCK_CHANGES: &str = "products_stock_changes_total";
/// `products_stock_conflicts_total{reason}`.
pub const STOCK_CONFLICTS: &str = "products_stock_conflicts_total";

/// A catalogue write that succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// `POST /`.
    Created,
    /// `PATCH /{id}` that changed something.
    Updated,
    /// `DELETE /{id}`.
    Deleted,
}

/// Why a stock change was refused (409).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StockConflict {
    /// It would take the stock below zero.
    Insufficient,
    /// It would take the stock above its maximum.
    OverMaximum,
}

/// The products service's counters (cheap to clone).
#[derive(Debug, Clone)]
pub struct ProductsMetrics {
    changes: [Counter; 3],
    stock_changes: [Counter; 2],
    stock_conflicts: [Counter; 2],
}

impl ProductsMetrics {
    /// Describe and export every products metric in `registry`.
    pub fn new(registry: &Registry) -> ProductsMetrics {
        registry.describe_counter(
            CHANGES,
            "Catalogue writes that succeeded, by change: created, updated, deleted.",
        );
        registry.describe_counter(
            STOCK_CHANGES,
            "Stock changes applied, by direction: added, removed.",
        );
        registry.describe_counter(
            STOCK_CONFLICTS,
            "Stock changes refused with 409, by reason: insufficient, over_maximum.",
        );
        ProductsMetrics {
            changes: registry.counters_by(CHANGES, "change", ["created", "updated", "deleted"]),
            stock_changes: registry.counters_by(STOCK_CHANGES, "direction", ["added", "removed"]),
            stock_conflicts: registry.counters_by(
                STOCK_CONFLICTS,
                "reason",
                ["insufficient", "over_maximum"],
            ),
        }
    }

    /// Count a catalogue write.
    pub fn changed(&self, change: Change) {
        self.changes[change as usize].increment(1);
    }

    /// Count an applied stock change of `delta` units.
    pub fn stock_changed(&self, delta: i64) {
        self.stock_changes[usize::from(delta < 0)].increment(1);
    }

    /// Count a refused stock change.
    pub fn stock_conflict(&self, reason: StockConflict) {
        self.stock_conflicts[reason as usize].increment(1);
    }
}
