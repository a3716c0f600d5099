// The Registry module; see DESIGN.md for what it owns.
