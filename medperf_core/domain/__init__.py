"""The pure domain: entities, events and the state machines of the tutorial. No I/O here."""
