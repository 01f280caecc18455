//! Argument parsing and human/JSON output for the subcommands.
