"""The parts of bench/run, one file per concern or section."""
