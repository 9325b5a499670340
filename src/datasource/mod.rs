//! Where user-data and metadata come from: one module per source behind one trait, the race
//! between enabled sources, metadata merging and address substitution.

pub mod metadata;
pub mod substitute;

pub use metadata::{Addresses, Metadata, NetworkConfig};
pub use substitute::substitute;
