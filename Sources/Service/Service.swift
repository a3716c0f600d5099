// The Service module; see DESIGN.md for what it owns.
