use std::io::{BufRead, IsTerminal};

use crate::CliError;

/// Where secret values come from: a hidden prompt on a terminal, or one line each on stdin.
/// Never the command line, where they would land in shell history and `ps`.
pub(crate) struct SecretSource {
    from_stdin: bool,
}

impl SecretSource {
    /// Reads from stdin when it is piped, or when the caller asked for it explicitly.
    pub(crate) fn new(force_stdin: bool) -> Self {
        Self {
            from_stdin: force_stdin || !std::io::stdin().is_terminal(),
        }
    }

    /// A source for `<user-input>` in a file: piped stdin only with `--secrets-stdin`.
    pub(crate) fn for_file(secrets_stdin: bool) -> Result<Self, CliError> {
        if secrets_stdin || std::io::stdin().is_terminal() {
            Ok(Self {
                from_stdin: secrets_stdin,
            })
        } else {
            Err(CliError::Usage(
                "the file asks for secrets (<user-input>) but there is no terminal to ask on; \
                 pass --secrets-stdin and pipe one value per line"
                    .into(),
            ))
        }
    }

    pub(crate) fn read(&mut self, label: &str) -> Result<String, CliError> {
        let value = if self.from_stdin {
            let mut line = String::new();
            let read = std::io::stdin()
                .lock()
                .read_line(&mut line)
                .map_err(|err| {
                    CliError::Usage(format!("could not read {label} from stdin: {err}"))
                })?;
            if read == 0 {
                return Err(CliError::Usage(format!(
                    "stdin ended before the value of {label}; give one line per secret, in order"
                )));
            }
            line
        } else {
            rpassword::prompt_password(format!("{label}: "))
                .map_err(|err| CliError::Usage(format!("could not read {label}: {err}")))?
        };
        let value = value.trim().to_owned();
        if value.is_empty() {
            return Err(CliError::Usage(format!("{label} is empty")));
        }
        Ok(value)
    }
}
