//! Asking the operator before a change: `y` or `yes` on a terminal, or `--yes`.

use super::CliError;
use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;

/// Goes ahead when `yes` is set, or when the operator answers `y`/`yes` on a terminal.
/// Without a terminal on standard input and without `--yes`, refuses.
pub fn confirm(question: &str, yes: bool) -> Result<(), CliError> {
    if yes {
        return Ok(());
    }
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return Err(CliError::NoTerminal);
    }
    let mut err = std::io::stderr();
    write!(err, "{question} [y/N] ")?;
    err.flush()?;
    let mut line = String::new();
    stdin.lock().read_line(&mut line).map_err(CliError::io(
        "read the answer from",
        Path::new("standard input"),
    ))?;
    if is_yes(&line) {
        Ok(())
    } else {
        Err(CliError::NotConfirmed)
    }
}

fn is_yes(answer: &str) -> bool {
    matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_y_and_yes_confirm() {
        for a in ["y\n", "YES\n", " yes "] {
            assert!(is_yes(a), "{a:?}");
        }
        for a in ["", "\n", "n", "yep", "no"] {
            assert!(!is_yes(a), "{a:?}");
        }
    }
}
