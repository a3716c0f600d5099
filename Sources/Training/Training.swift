// The Training module: dataset → split → fit → evaluate → publish. See DESIGN.md.
