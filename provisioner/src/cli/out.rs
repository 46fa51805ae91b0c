//! Standard output that a closed pipe cannot crash.
//!
//! `println!` panics when stdout is a pipe whose reader has gone (`provisioner bootstrap
//! --print-policy | head`): the user sees a panic, and a run cut short that way would skip
//! releasing its state lock. Here a broken pipe only means nobody reads any more: the output
//! is dropped and the command goes on to its end.

use std::fmt::Arguments;
use std::io::{ErrorKind, Write};

/// Writes `text` to stdout; a reader that has gone is not an error.
pub fn write(text: Arguments<'_>) {
    let mut stdout = std::io::stdout().lock();
    let written = stdout.write_fmt(text).and_then(|()| stdout.flush());
    if let Err(error) = written
        && error.kind() != ErrorKind::BrokenPipe
    {
        tracing::warn!("writing to stdout failed: {error}");
    }
}

/// `print!` that a closed pipe cannot crash.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::cli::out::write(format_args!($($arg)*))
    };
}

/// `println!` that a closed pipe cannot crash.
macro_rules! outln {
    () => {
        $crate::cli::out::write(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::cli::out::write(format_args!("{}\n", format_args!($($arg)*)))
    };
}
