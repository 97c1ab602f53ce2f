"""Command-line interface: ``sim2real-gan <command>``."""
