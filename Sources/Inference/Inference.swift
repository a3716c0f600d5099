// The Inference module; see DESIGN.md for what it owns.
