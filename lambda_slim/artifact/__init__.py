"""The artifact: deterministic zip writing, the safe zip reader, the removal manifest."""
