//! Domain types that can only be constructed valid ("parse, don't
//! validate"): handlers receive them already checked.

mod currency;
mod json_number;
pub mod price;
pub mod price_band;
pub mod slug;

pub use currency::{Currency, CurrencyError};
pub use json_number::WholeNumber;
pub use price::{Price, PriceError, PriceInput};
pub use slug::{Slug, SlugError};
