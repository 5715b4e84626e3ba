"""Real, public transaction logs turned into the raw tables of the data contract."""
