//! The route table's types, where the request path has always found them;
//! they live in [`crate::routing::table`] with the search that reads them.

pub(crate) use crate::routing::table::{Content, Route, RouteTable};
