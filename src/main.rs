//! The `source-intercom` binary: parse arguments, start logging, run, exit.

use clap::Parser;
use source_intercom::cli::Cli;
use source_intercom::error::Error;
use source_intercom::output::Output;
use source_intercom::{exit, install_panic_hook, logging, report};

fn main() {
    let output = Output::stdout();
    install_panic_hook(output.clone());
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
                // Help is for people; it goes where they look.
                let _ = e.print();
                exit(0);
            }
            eprintln!("{}", e.render());
            let code = report(
                &output,
                &Error::Config(format!("bad command line: {}", first_line(&e.to_string()))),
            );
            let _ = output.flush();
            exit(if code == 0 { 0 } else { 2 });
        }
    };
    logging::init(output.clone());
    let code = source_intercom::run(cli.command, &output);
    // A stop signal that came meanwhile is ending the process with its own code.
    exit(code);
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s).trim_start_matches("error: ")
}
