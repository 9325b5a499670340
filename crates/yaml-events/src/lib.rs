//! saphyr-parser's event parser over a `&str`, instantiated in this crate.
//!
//! `Parser<StrInput>` is generic, so its code is generated in the crate that names the type.
//! Named in kindling, it would be built at kindling's `opt-level = "s"`, where every token the
//! parser moves (about 100 bytes) is a call to libc's `memcpy`; built here, at the opt-level 3
//! that kindling's Cargo.toml gives this crate, the moves are inline. See README "Binary size".

pub use saphyr_parser::{Event, Marker, ScalarStyle, ScanError, Span, Tag};

use saphyr_parser::{Parser, StrInput};

/// The events of one YAML text, in order.
pub struct Events<'input>(Parser<'input, StrInput<'input>>);

impl<'input> Events<'input> {
    pub fn new(text: &'input str) -> Self {
        Events(Parser::new_from_str(text))
    }

    /// The next event with its span; None after the stream ends.
    // Not inlined: the parser's state machine stays in this crate's code, built for speed.
    #[inline(never)]
    pub fn next_event(&mut self) -> Option<Result<(Event<'input>, Span), ScanError>> {
        self.0.next_event()
    }
}
