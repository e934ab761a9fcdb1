"""Background work reacting to time and to events: expiry, query execution, refresh."""
