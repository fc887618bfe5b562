"""directory domain."""
