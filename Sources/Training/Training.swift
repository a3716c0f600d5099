// The Training module; see DESIGN.md for what it owns.
