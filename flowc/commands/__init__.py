"""One module per `flowc` subcommand: configure(parser) and main(args)."""
