"""The command lines: argparse, messages and exit codes live only here."""
