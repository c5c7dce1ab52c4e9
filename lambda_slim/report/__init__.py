"""The typed report model and its versioned JSON."""
