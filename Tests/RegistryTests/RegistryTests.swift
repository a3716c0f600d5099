// Tests for Registry.
