"""The staging tree: reversible moves (Staging), inventory of who owns which file, byte-compilation."""
