//! Why a template function call failed ([`FuncError`]) and why random bytes were unavailable
//! ([`RandomError`]).
//!
//! The messages are part of the interface: the evaluator prefixes them with the function name
//! (`toInt: "abc" is not a number`) and reports, tests and snapshots show them verbatim. A value
//! from the data may appear in a message (`"abc" is not a number`); reports pass every message
//! through [`crate::sensitive`] scrubbing, which removes sensitive values wherever they occur.

use super::codec::Base64Error;
use super::value::ValueError;
use crate::time::Rfc3339Error;

/// Random bytes could not be read from the operating system.
#[derive(Debug, thiserror::Error)]
#[error("cannot read random bytes from /dev/urandom: {source}")]
pub struct RandomError {
    /// The read failure.
    #[source]
    pub source: std::io::Error,
}

/// A template function rejected its arguments or could not produce a result.
#[derive(Debug, thiserror::Error)]
pub enum FuncError {
    /// An argument has the wrong type for the operation (not a number, not comparable, ...).
    #[error(transparent)]
    Value(#[from] ValueError),
    /// A count or index is fractional.
    #[error("{what} must be a whole number, got {got}")]
    NotWhole {
        /// What the argument is (`repeat count`, `slice start`, ...).
        what: &'static str,
        /// The value given.
        got: f64,
    },
    /// A count or index is outside the range the function allows.
    #[error("{what} must be between 0 and {max}, got {got}")]
    OutOfBounds {
        /// What the argument is.
        what: &'static str,
        /// The largest value allowed.
        max: i64,
        /// The value given.
        got: i64,
    },
    /// `len` of a number or bool.
    #[error("len of a {type_name} is not defined")]
    NoLength {
        /// Type of the argument.
        type_name: &'static str,
    },
    /// `index` into a string, number or bool.
    #[error("can't index a {type_name}")]
    NotIndexable {
        /// Type of the indexed value.
        type_name: &'static str,
    },
    /// `index` past the end of a list.
    #[error("index {index} out of range (length {len})")]
    IndexOutOfRange {
        /// The index asked for.
        index: i64,
        /// The list's length.
        len: usize,
    },
    /// `slice` of a number, bool or map.
    #[error("can't slice a {type_name}")]
    NotSliceable {
        /// Type of the sliced value.
        type_name: &'static str,
    },
    /// `slice X I J` with I > J.
    #[error("slice indexes out of order: {from} > {to}")]
    SliceOrder {
        /// Start index.
        from: usize,
        /// End index.
        to: usize,
    },
    /// A string slice whose bounds fall inside a multi-byte character.
    #[error("slice splits a character")]
    SliceSplitsCharacter,
    /// `replace` with an empty search string.
    #[error("the string to replace is empty")]
    EmptySearch,
    /// A collection function given the wrong kind of collection (`join needs a list, got a map`).
    #[error("{func} needs a {want}, got a {got}")]
    WrongCollection {
        /// The function.
        func: &'static str,
        /// `list` or `map`.
        want: &'static str,
        /// Type of the argument.
        got: &'static str,
    },
    /// A result above the 1 MiB cap (`repeat`).
    #[error("result would exceed 1 MiB")]
    TooLarge,
    /// Text that is not a boolean word.
    #[error("{text:?} is not a boolean")]
    NotBooleanText {
        /// The text as given.
        text: String,
    },
    /// A list or map where a boolean is needed.
    #[error("a {type_name} is not a boolean")]
    NotBoolean {
        /// Type of the argument.
        type_name: &'static str,
    },
    /// Integer arithmetic that does not fit in 64 bits.
    #[error("integer overflow in {func}")]
    Overflow {
        /// The function (`add`, `mul`, `abs`, ...).
        func: &'static str,
    },
    /// `div` by zero.
    #[error("division by zero")]
    DivisionByZero,
    /// `mod` by zero.
    #[error("modulo by zero")]
    ModuloByZero,
    /// `fromBase64` input that is not base64.
    #[error(transparent)]
    Base64(#[from] Base64Error),
    /// `fromBase64` output that is not UTF-8 text.
    #[error("decoded bytes are not UTF-8 text")]
    NotUtf8,
    /// `toJSON` could not serialize the value.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    /// The arguments fit none of the function's forms (the message shows the forms).
    #[error("expects {usage}")]
    Usage {
        /// The accepted forms, e.g. `[MAX] NAME`.
        usage: &'static str,
    },
    /// `truncateName` with a maximum too small for the hash suffix.
    #[error("maximum length {max} leaves no room for the 9-character hash suffix")]
    NoRoomForHash {
        /// The maximum given.
        max: usize,
    },
    /// A random function could not get random bytes.
    #[error(transparent)]
    Random(#[from] RandomError),
    /// `timeUntil`/`timeSince` given text that is not an RFC 3339 time.
    #[error(transparent)]
    Time(#[from] Rfc3339Error),
    /// `durationSeconds` given text that is not a duration.
    #[error("{text:?} is not a duration like 90s or 1h30m")]
    NotDuration {
        /// The text as given.
        text: String,
    },
    /// Text that is not in the form a function needs (a version, a quantity, a cron expression, an
    /// IP address, ...).
    #[error("{text:?} is not {want}")]
    Invalid {
        /// The text as given.
        text: String,
        /// What was expected, with an example (`a semantic version like 1.2.3`).
        want: &'static str,
    },
}
