// Tests for Inference.
