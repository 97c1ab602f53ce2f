"""Offline training of sim->real translators (uses the core package sim2real_gan)."""
