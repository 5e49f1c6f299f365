//! A chat endpoint on 127.0.0.1 for scripted benchmarks: prints its base URL, then answers until
//! killed.
//!
//! With no flags it answers every request at once with a short streamed reply. With
//! `--latency-ms N` and/or `--max-in-flight N` it is a [`weft_testkit::LimitedChat`]: chat
//! completions (whole or streamed) after N ms, 429 in Azure's shape beyond N requests at once,
//! and `GET /stats` gives `{"requests":…,"throttled":…,"peak_in_flight":…,"first_request_unix_ms":…}`.

use std::process::ExitCode;
use std::time::Duration;

const USAGE: &str = "usage: fake-endpoint [--latency-ms N] [--max-in-flight N]";

fn main() -> ExitCode {
    let (latency_ms, max_in_flight) = match flags(std::env::args().skip(1)) {
        Ok(flags) => flags,
        Err(message) => {
            eprintln!("{message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let base = if latency_ms.is_none() && max_in_flight.is_none() {
        weft_testkit::serve_forever(&weft_testkit::chat_stream(&["Weft ", "runs ", "flows."]))
    } else {
        let mut fake =
            weft_testkit::LimitedChat::new(Duration::from_millis(latency_ms.unwrap_or(0)));
        if let Some(max) = max_in_flight {
            fake = fake.max_in_flight(max);
        }
        fake.start().base
    };
    println!("{base}");
    loop {
        std::thread::park();
    }
}

type Flags = (Option<u64>, Option<usize>);

fn flags(mut args: impl Iterator<Item = String>) -> Result<Flags, String> {
    let (mut latency_ms, mut max_in_flight) = (None, None);
    while let Some(flag) = args.next() {
        let value = args.next();
        let number = || {
            value
                .as_deref()
                .and_then(|v| v.parse::<u64>().ok())
                .ok_or_else(|| format!("{flag} takes a whole number"))
        };
        match flag.as_str() {
            "--latency-ms" => latency_ms = Some(number()?),
            "--max-in-flight" => match usize::try_from(number()?) {
                Ok(max) if max > 0 => max_in_flight = Some(max),
                _ => return Err("--max-in-flight takes a number of at least 1".into()),
            },
            other => return Err(format!("unknown flag {other}")),
        }
    }
    Ok((latency_ms, max_in_flight))
}
